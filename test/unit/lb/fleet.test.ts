/** Fleets (pure, nothing connects): many VRRP clusters in one inventory, computed per cluster, and keepalived's ranges checked before connecting. */
import { strict as assert } from 'node:assert';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { hostInfo } from '../../../src/playbook/define.js';
import { kindPlaybook } from '../../../src/index.js';
import { keepalivedFor, type HaVars } from '../../../src/kinds/haproxy-keepalived/model.js';
import { renderKeepalived } from '../../../src/render/keepalived.js';
import { keepalivedCheck } from '../../helpers/validate.js';

/** N sites, each an LB pair on its own /24 with its own VIP; `extra` lands in each site's keepalived block. */
function fleet(n: number, o: { vrid?: (i: number) => number; subnet?: (i: number) => number; extra?: string; hostVars?: string } = {}): string {
  const sites = Array.from({ length: n }, (_, i) => i + 1);
  const net = (i: number) => o.subnet?.(i) ?? i;
  return `playbook: haproxy-keepalived
vars:
  haproxy:
    services: [{ name: web, port: 80, backend_group: web, backend_port: 8080 }]
groups:
  lb:
    hosts:
${sites.map((i) => `      s${i}a: { address: 198.18.${net(i)}.11${o.hostVars ?? ''} }\n      s${i}b: { address: 198.18.${net(i)}.12 }`).join('\n')}
${sites.map((i) => `  site${i}:
    vars:
      keepalived:
        interface: eth0${o.extra ?? ''}
        instances: [{ name: VI_s${i}, vip: 198.18.${net(i)}.100/24, virtual_router_id: ${o.vrid?.(i) ?? 51} }]
    hosts: { s${i}a:, s${i}b: }`).join('\n')}
  web:
    hosts: { w1: { address: 198.18.200.21 } }
`;
}

async function plan(text: string) {
  const inv = await parseInventory('fleet.yaml', text, { env: {} });
  const pb = kindPlaybook('haproxy-keepalived');
  const vars = await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => h.groups.includes('lb')));
  return inv.hosts.map((h) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars }));
}

async function refused(text: string): Promise<string> {
  const err = await plan(text).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof InventoryError, `expected an inventory error, got ${String(err)}`);
  return err.message;
}

describe('fleet: many VRRP clusters in one inventory', () => {
  it('25 LB pairs plan without error; each host peers with its own pair only, at 150/140, weight -20', async () => {
    const hosts = await plan(fleet(25));
    const lbs = hosts.filter((h) => h.groups.includes('lb'));
    assert.equal(lbs.length, 50);
    for (const h of lbs) {
      const text = renderKeepalived(keepalivedFor(h, h.vars as unknown as HaVars, hosts));
      const peer = h.name.endsWith('a') ? h.address.replace(/\.11$/, '.12') : h.address.replace(/\.12$/, '.11');
      const peers = /unicast_peer \{\n([^}]*)\}/.exec(text)![1]!.trim().split(/\s+/);
      assert.deepEqual(peers, [peer], `${h.name}: only its pair`);
      assert.match(text, new RegExp(`priority ${h.name.endsWith('a') ? 150 : 140}\\n`));
      assert.match(text, /weight -20\n/);
      assert.match(text, new RegExp(`state ${h.name.endsWith('a') ? 'MASTER' : 'BACKUP'}\\n`));
    }
    const sample = renderKeepalived(keepalivedFor(lbs[49]!, lbs[49]!.vars as unknown as HaVars, hosts));
    const v = keepalivedCheck(sample);
    assert.ok(v.ok, v.output + sample);
  });

  it('the same VRID on different segments is fine; on one segment, two clusters are refused at the line', async () => {
    await plan(fleet(3, { vrid: () => 51 }));
    const msg = await refused(fleet(2, { subnet: () => 7 }).replace(/198\.18\.7\.(11|12) }\n(\s+s2)/, '198.18.7.$1 }\n$2'));
    assert.match(msg, /fleet\.yaml:\d+:\d+: .*virtual_router_id 51 of VI_s\d \(s\da, s\db\) is also used by VI_s\d \(s\da, s\db\) on the same segment/);
  });

  const RANGES: { what: string; text: string; error: RegExp }[] = [
    { what: 'a check weight outside [-253, 253]', text: fleet(2, { extra: '\n        check_weight: -500' }), error: /check_weight.*must be >= -253|-500/ },
    { what: 'a computed weight outside [-253, 253] (priorities 254 and 1)', text: fleet(1, { hostVars: ', vars: { keepalived_priority: 254 }' }).replace('s1b: { address: 198.18.1.12 }', 's1b: { address: 198.18.1.12, vars: { keepalived_priority: 1 } }'), error: /the haproxy check weight on s1\w is -263: keepalived accepts -253 to 253/ },
    { what: 'a priority of 255 (reserved for the address owner)', text: fleet(1, { hostVars: ', vars: { keepalived_priority: 255 }' }), error: /keepalived_priority.*must be <= 254/ },
    { what: 'a VRID of 256', text: fleet(1, { vrid: () => 256 }), error: /virtual_router_id.*must be <= 255/ },
    { what: 'an advert_int keepalived refuses', text: fleet(1, { extra: '\n        advert_int: 300' }), error: /advert_int.*must be <= 255/ },
  ];
  for (const c of RANGES) {
    it(`refused before connecting: ${c.what}`, async () => assert.match(await refused(c.text), c.error));
  }

  it('16 nodes in one cluster without priorities: the computed priority would leave keepalived\'s range', async () => {
    const nodes = Array.from({ length: 16 }, (_, i) => `      n${i}: { address: 198.18.1.${i + 11} }`).join('\n');
    const msg = await refused(`playbook: haproxy-keepalived
vars:
  keepalived: { interface: eth0, instances: [{ name: VI, vip: 198.18.1.100/24, virtual_router_id: 9 }] }
  haproxy: { services: [{ name: web, port: 80, servers: [{ name: w, address: 198.18.1.200 }], backend_port: 80 }] }
groups:
  lb:
    hosts:
${nodes}
`);
    assert.match(msg, /n15 would get priority 0 in VI: keepalived accepts 1 to 254/);
  });
});
