import { strict as assert } from 'node:assert';
import { parseYaml as parse } from '../../../src/yaml.js';
import { aliveChecks, aliveKeepalived, aliveServices, parseVirtualServerConfig, renderAliveYaml, type AliveVars } from '../../../src/kinds/ipvs-keepalived/model.js';
import { renderKeepalived } from '../../../src/render/keepalived.js';
import type { HostInfo } from '../../../src/playbook/define.js';
import { keepalivedCheck } from '../../helpers/validate.js';

/** Seed 002's alive.yaml, as written there (addresses are examples, never targets). */
const SEED: AliveVars = {
  instances: [
    {
      vip: { vip: '192.168.128.118', id: 20, interface: 'eth0', name: 'vip-1', peer: ['192.168.128.116', '192.168.128.75'] },
      ipvs: { ips: ['192.168.143.192', '192.168.138.100', '192.168.129.100'], ports: [{ port: 80,
        virtual_server_config: 'delay_loop 10\nlb_algo rr\nlb_kind NAT\nprotocol TCP\n', raw_check: 'TCP_CHECK {\n    connect_timeout 10\n    connect_port 1936\n}\n' }] },
    },
    {
      vip: { vip: '2004::192:168:128:118', id: 102, interface: 'eth0', name: 'vip-2', peer: ['2004::192:168:128:75', '2004::192:168:128:116'] },
      ipvs: { ips: ['2004::192:168:143:192', '2004::192:168:138:100', '2004::192:168:129:100'], ports: [{ port: 80,
        virtual_server_config: 'delay_loop 10\nlb_algo rr\nlb_kind NAT\nprotocol TCP\n', raw_check: 'TCP_CHECK {\n    connect_timeout 1\n    connect_port 1936\n}\n' }] },
    },
  ],
};

const nodes: HostInfo[] = [
  { name: 'lb-a', address: '192.168.128.116', groups: ['lb'], vars: { addresses: ['2004::192:168:128:116'] } },
  { name: 'lb-b', address: '192.168.128.75', groups: ['lb'], vars: { addresses: ['2004::192:168:128:75'] } },
];

describe('seed 002: alive.yaml model -> keepalived.conf with IPVS virtual servers (IPv4 and IPv6)', () => {
  const text = renderKeepalived(aliveKeepalived(nodes[1]!, SEED, nodes));

  it('renders the virtual_server and real_server blocks with the raw health checks', () => {
    assert.ok(text.includes(`virtual_server 192.168.128.118 80 {
    delay_loop 10
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.168.143.192 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 10
            connect_port 1936
        }
    }
`), text);
    assert.match(text, /virtual_server 2004::192:168:128:118 80 \{/);
    assert.equal((text.match(/real_server /g) ?? []).length, 6);
  });

  it('unicasts to the other peer of the same address family', () => {
    assert.match(text, /vrrp_instance vip-1 \{[\s\S]*unicast_src_ip 192\.168\.128\.75\n    unicast_peer \{\n        192\.168\.128\.116\n    \}/);
    assert.match(text, /vrrp_instance vip-2 \{[\s\S]*unicast_src_ip 2004::192:168:128:75\n    unicast_peer \{\n        2004::192:168:128:116\n    \}/);
    assert.match(text, /        192\.168\.128\.118\/32 dev eth0\n/);
    assert.match(text, /        2004::192:168:128:118\/128 dev eth0\n/);
  });

  it('syncs IPVS connection state between the directors on the first instance (off with sync_daemon: false)', () => {
    assert.match(text, /^global_defs \{[\s\S]*\n {4}lvs_sync_daemon eth0 vip-1 id 20\n[\s\S]*?\n\}/m);
    const off = renderKeepalived(aliveKeepalived(nodes[1]!, { ...SEED, sync_daemon: false }, nodes));
    assert.doesNotMatch(off, /lvs_sync_daemon/);
  });

  it('fast mode and GARP/NA tuning (the schema\'s defaults) render and pass keepalived -t; a sub-second interval needs version 3', () => {
    const fast = renderKeepalived(aliveKeepalived(nodes[1]!, { ...SEED, vrrp_version: 3, advert_int: 0.1, garp: { master_delay: 1, master_repeat: 3, master_refresh: 60, lower_prio_repeat: 2 } }, nodes));
    for (const line of ['vrrp_version 3', 'vrrp_garp_master_delay 1', 'vrrp_garp_master_refresh 60', 'vrrp_higher_prio_send_advert', 'advert_int 0.1']) assert.ok(fast.includes(`    ${line}\n`), line);
    const v = keepalivedCheck(fast);
    assert.ok(v.ok, v.output + fast);
    assert.deepEqual(aliveChecks({ ...SEED, advert_int: 0.5 }, nodes).map((i) => i.message), ['advert_int 0.5: VRRP version 2 counts whole seconds (sub-second adverts need vrrp_version 3)']);
  });

  it('is accepted by the real keepalived -t', () => {
    const v = keepalivedCheck(text);
    assert.ok(v.ok, v.output + text);
  });

  it('writes alive.yaml for images that read it, same data', () => {
    const y = renderAliveYaml(SEED);
    assert.deepEqual(parse(y), { instances: SEED.instances });
    assert.match(y, /peer:\n {8}- 192\.168\.128\.116/);
  });
});

describe('seed 002: the IPVS table the model asks for, and the checks a schema cannot make', () => {
  it('expects the seed\'s `ipvsadm -ln` (NAT = Masq, rr), IPv4 and IPv6', () => {
    assert.deepEqual(aliveServices(SEED).map((s) => [s.protocol, s.address, s.port, s.scheduler, s.realServers.map((r) => `${r.address} ${r.forward} ${r.weight}`)]), [
      ['tcp', '192.168.128.118', 80, 'rr', ['192.168.143.192 masq 1', '192.168.138.100 masq 1', '192.168.129.100 masq 1']],
      ['tcp', '2004::192:168:128:118', 80, 'rr', ['2004::192:168:143:192 masq 1', '2004::192:168:138:100 masq 1', '2004::192:168:129:100 masq 1']],
    ]);
  });

  const cfg: { text: string; expect: ReturnType<typeof parseVirtualServerConfig> }[] = [
    { text: 'delay_loop 10  # comment\nlb_algo rr\nlb_kind NAT\nprotocol TCP\n', expect: { lbAlgo: 'rr', lbKind: 'NAT', protocol: 'TCP' } },
    { text: 'lvs_sched wlc\nlvs_method dr\npersistence_timeout 300 ! keepalived comment\n', expect: { lbAlgo: 'wlc', lbKind: 'DR', persistenceTimeout: 300 } },
    { text: '# lb_algo rr\n', expect: {} },
  ];
  for (const c of cfg) it(`reads virtual_server_config ${JSON.stringify(c.text.split('\n')[0])}`, () => assert.deepEqual(parseVirtualServerConfig(c.text), c.expect));

  const edit = (f: (a: AliveVars) => void): AliveVars => {
    const a = structuredClone(SEED);
    f(a);
    return a;
  };
  const cases: { what: string; alive: AliveVars; expect: RegExp[] }[] = [
    { what: 'the seed as written -> no issue', alive: SEED, expect: [] },
    { what: 'a duplicate id', alive: edit((a) => { a.instances[1]!.vip.id = 20; }), expect: [/id 20 is already used by instance 1/] },
    { what: 'an IPv6 real server behind an IPv4 VIP', alive: edit((a) => { a.instances[0]!.ipvs.ips.push('2004::1'); }), expect: [/real server 2004::1 is IPv6 but the VIP 192\.168\.128\.118 is IPv4/] },
    { what: 'a node missing from the peers', alive: edit((a) => { a.instances[0]!.vip.peer = ['192.168.128.116']; }), expect: [/LB node lb-b \(192\.168\.128\.75, 2004::192:168:128:75\) is not among the peers of vip-1/] },
    { what: 'no lb_kind, unknown lb_algo', alive: edit((a) => { a.instances[0]!.ipvs.ports[0]!.virtual_server_config = 'lb_algo roundrobin\nprotocol TCP\n'; }), expect: [/lb_algo roundrobin is not an IPVS scheduler/, /no lb_kind/] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const issues = aliveChecks(c.alive, nodes);
      assert.equal(issues.length, c.expect.length, JSON.stringify(issues));
      c.expect.forEach((re, i) => assert.match(issues[i]!.message, re));
    });
  }
});
