import { strict as assert } from 'node:assert';
import { describeIpvsDifferences, diffIpvs, parseIpvsadmList, parseIpvsadmSave, renderIpvsRules, type VirtualService } from '../../../src/render/ipvs.js';

const SAVE = `-A -t 198.18.0.201:80 -s wlc
-a -t 198.18.0.201:80 -r 198.18.0.21:80 -g -w 1
-a -t 198.18.0.201:80 -r 198.18.0.22:80 -g -w 1
-A -t [fd00::201]:80 -s rr -p 300
-a -t [fd00::201]:80 -r [fd00::21]:80 -m -w 2
-A -u 198.18.0.201:53 -s sh
`;

const LIST = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  198.18.0.201:80 wlc
  -> 198.18.0.21:80               Route   1      0          0
  -> 198.18.0.22:80               Route   1      0          0
TCP  [fd00::201]:80 rr persistent 300
  -> [fd00::21]:80                Masq    2      0          0
UDP  198.18.0.201:53 sh
`;

const DESIRED: VirtualService[] = [
  { protocol: 'tcp', address: '198.18.0.201', port: 80, scheduler: 'wlc', realServers: [
    { address: '198.18.0.21', port: 80, forward: 'route', weight: 1 }, { address: '198.18.0.22', port: 80, forward: 'route', weight: 1 }] },
  { protocol: 'tcp', address: 'fd00::201', port: 80, scheduler: 'rr', persistent: 300, realServers: [{ address: 'fd00::21', port: 80, forward: 'masq', weight: 2 }] },
  { protocol: 'udp', address: '198.18.0.201', port: 53, scheduler: 'sh', realServers: [] },
];

describe('IPVS: parse, diff, render', () => {
  it('reads ipvsadm -Sn (IPv4, IPv6, UDP, persistence, forward methods, weights)', () => assert.deepEqual(parseIpvsadmSave(SAVE), DESIRED));
  it('reads ipvsadm -ln the same way', () => assert.deepEqual(parseIpvsadmList(LIST), DESIRED));
  it('round-trips through the rules file', () => assert.deepEqual(parseIpvsadmSave(renderIpvsRules(DESIRED)), DESIRED));
  it('changes nothing when the table matches', () => assert.deepEqual(diffIpvs(DESIRED, parseIpvsadmSave(SAVE)), []));

  const edit = (f: (d: VirtualService[]) => void) => {
    const d = structuredClone(DESIRED);
    f(d);
    return d;
  };
  const cases: [string, VirtualService[], string[]][] = [
    ['a new service with its servers', edit((d) => d.push({ protocol: 'tcp', address: '198.18.0.202', port: 443, scheduler: 'rr', realServers: [{ address: '198.18.0.23', port: 443, forward: 'route', weight: 1 }] })),
      ['-A -t 198.18.0.202:443 -s rr', '-a -t 198.18.0.202:443 -r 198.18.0.23:443 -g -w 1']],
    ['a service to remove', edit((d) => d.splice(2, 1)), ['-D -u 198.18.0.201:53']],
    ['another scheduler', edit((d) => (d[0]!.scheduler = 'rr')), ['-E -t 198.18.0.201:80 -s rr']],
    ['a new real server', edit((d) => d[0]!.realServers.push({ address: '198.18.0.23', port: 80, forward: 'route', weight: 1 })), ['-a -t 198.18.0.201:80 -r 198.18.0.23:80 -g -w 1']],
    ['a removed real server', edit((d) => d[0]!.realServers.pop()), ['-d -t 198.18.0.201:80 -r 198.18.0.22:80']],
    ['another weight', edit((d) => (d[1]!.realServers[0]!.weight = 5)), ['-e -t [fd00::201]:80 -r [fd00::21]:80 -m -w 5']],
    ['another forward method', edit((d) => (d[0]!.realServers[0]!.forward = 'masq')), ['-e -t 198.18.0.201:80 -r 198.18.0.21:80 -m -w 1']],
  ];
  for (const [what, desired, cmds] of cases) {
    it(`only the difference: ${what}`, () => assert.deepEqual(diffIpvs(desired, parseIpvsadmSave(SAVE)).map((c) => c.join(' ')), cmds));
  }
});

describe('IPVS: what verify reports when the kernel differs from the inventory', () => {
  const actual = parseIpvsadmList(LIST);
  const cases: { what: string; edit: (d: VirtualService[]) => VirtualService[]; expect: string[] }[] = [
    { what: 'the same table -> nothing', edit: (d) => d, expect: [] },
    { what: 'IPv6 spelled differently -> nothing', edit: (d) => d.map((v) => v.address === 'fd00::201' ? { ...v, address: 'FD00:0:0::201', realServers: [{ ...v.realServers[0]!, address: 'fd00:0::21' }] } : v), expect: [] },
    { what: 'another scheduler', edit: (d) => [{ ...d[0]!, scheduler: 'rr' }, d[1]!, d[2]!], expect: ['TCP 198.18.0.201:80: scheduler wlc, expected rr'] },
    { what: 'a real server missing (failing health check)', edit: (d) => [{ ...d[0]!, realServers: [...d[0]!.realServers, { address: '198.18.0.23', port: 80, forward: 'route', weight: 1 }] }, d[1]!, d[2]!],
      expect: ['TCP 198.18.0.201:80: real server 198.18.0.23:80 missing (its health check may be failing)'] },
    { what: 'forward method and weight', edit: (d) => [d[0]!, { ...d[1]!, realServers: [{ address: 'fd00::21', port: 80, forward: 'route', weight: 1 }] }, d[2]!],
      expect: ['TCP [fd00::201]:80: [fd00::21]:80 forwards by Masq (NAT), expected Route (DR)', 'TCP [fd00::201]:80: [fd00::21]:80 weight 2, expected 1'] },
    { what: 'persistence', edit: (d) => [d[0]!, { ...d[1]!, persistent: undefined }, d[2]!], expect: ['TCP [fd00::201]:80: persistence 300, expected off'] },
    { what: 'a service missing and one not in the inventory', edit: (d) => [d[0]!, d[1]!, { ...d[2]!, port: 54 }],
      expect: ['UDP 198.18.0.201:54: missing', 'UDP 198.18.0.201:53: not in the inventory'] },
    { what: 'an unexpected real server', edit: (d) => [{ ...d[0]!, realServers: [d[0]!.realServers[0]!] }, d[1]!, d[2]!], expect: ['TCP 198.18.0.201:80: unexpected real server 198.18.0.22:80'] },
  ];
  for (const c of cases) {
    it(c.what, () => assert.deepEqual(describeIpvsDifferences(c.edit(structuredClone(DESIRED)), actual), c.expect));
  }
});
