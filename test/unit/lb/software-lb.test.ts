import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { loadPlaybook } from '../../../src/kinds/registry.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { hostInfo } from '../../../src/playbook/define.js';
import { aliveKeepalived, aliveServices } from '../../../src/kinds/ipvs-keepalived/model.js';
import type { AliveDeployVars } from '../../../src/kinds/ipvs-keepalived/schema.js';
import { renderKeepalived } from '../../../src/render/keepalived.js';
import { evaluateContainerIpvsNodes } from '../../../src/checks/ipvs.js';
import type { NodeProbe as Probe } from '../../../src/checks/probe.js';
import { keepalivedCheck } from '../../helpers/validate.js';

const read = (file: string, edit: (t: string) => string = (t) => t) =>
  parseInventory(file, edit(readFileSync(file, 'utf8')).replace(/^ *(private_key|known_hosts): .*\n/gm, ''), {});

async function resolve(file: string, edit?: (t: string) => string) {
  const inv = await read(file, edit);
  const pb = await loadPlaybook('ipvs-keepalived', inv.dir);
  const vars = await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => h.groups.includes('lb')));
  return inv.hosts.map((h) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars }));
}

describe('ipvs-keepalived: example inventories (seed 002 as written, and the lab\'s)', () => {
  for (const file of ['inventory/software-lb.yaml', 'inventory/lab-software-lb.yaml']) {
    it(`${file}: schema defaults, checks, keepalived.conf accepted by the real keepalived -t on every node`, async () => {
      const hosts = await resolve(file);
      const lbs = hosts.filter((h) => h.groups.includes('lb'));
      const a = (lbs[0]!.vars as { alive: AliveDeployVars }).alive;
      assert.deepEqual(a.container, { name: 'keepalived', privileged: false, mount: '/live/cfg', reload_signal: 'HUP' });
      assert.ok(a.modules.includes('nf_conntrack_ipv4'), 'the seed\'s list by default (merged modules are skipped on the host)');
      for (const n of lbs) {
        const text = renderKeepalived(aliveKeepalived(n, a, lbs));
        const v = keepalivedCheck(text);
        assert.ok(v.ok, `${n.name}: ${v.output}\n${text}`);
      }
      assert.ok(aliveServices(a).length >= 1);
    });
  }

  it('a mistake inside the raw blocks is refused at its inventory line, before any connection', async () => {
    const err = await resolve('inventory/software-lb.yaml', (t) => t.replace('lb_kind NAT', 'lb_kind FULLNAT')).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InventoryError, String(err));
    assert.match(err.message, /software-lb\.yaml:\d+:\d+.*lb_kind FULLNAT is not NAT, DR or TUN/);
  });

  it('the container may not be given a name docker refuses', async () => {
    const err = await resolve('inventory/software-lb.yaml', (t) => t.replace('privileged: false', 'privileged: false\n      name: "-bad"')).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InventoryError);
    assert.match(err.message, /software-lb\.yaml:\d+:\d+: host lb-116, playbook ipvs-keepalived: 'alive\.container\.name' must match pattern/);
  });
});

describe('verify (IPVS): node probes against the inventory', () => {
  const services = [{ protocol: 'tcp' as const, address: '198.18.0.201', port: 80, scheduler: 'rr', realServers: [{ address: '198.18.0.21', port: 80, forward: 'route' as const, weight: 1 }] }];
  const table = 'TCP  198.18.0.201:80 rr\n  -> 198.18.0.21:80   Route   1   0   0\n';
  const probe = (addr: string, ipvs: string, container = 'running 0'): Probe => new Map([
    ['addresses', { stdout: `2: ens3    inet ${addr}/24 brd 198.18.0.255 scope global ens3\n`, code: 0 }], ['ipvs', { stdout: ipvs, code: 0 }], ['docker-container:keepalived', { stdout: container, code: 0 }],
  ]);
  const vips = [{ name: 'vip-lab', address: '198.18.0.201' }];
  const cases: { what: string; probes: [string, Probe][]; fail: string[] }[] = [
    { what: 'one holder, tables match, containers run -> all ok', probes: [['a', probe('198.18.0.201', table)], ['b', probe('198.18.0.52', table)]], fail: [] },
    { what: 'split brain', probes: [['a', probe('198.18.0.201', table)], ['b', probe('198.18.0.201', table)]], fail: ['vip holder vip-lab 198.18.0.201: critical: split brain: held by a, b'] },
    { what: 'container stopped, table empty', probes: [['a', probe('198.18.0.201', table)], ['b', probe('198.18.0.52', '', 'exited 0')]],
      fail: ['container b keepalived: critical: exited', 'ipvs table b: critical: TCP 198.18.0.201:80: missing'] },
    { what: 'unreachable node', probes: [['a', probe('198.18.0.201', table)], ['b', { error: 'timed out' }]], fail: ['node b: critical: unreachable: timed out'] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const checks = evaluateContainerIpvsNodes(vips, services, 'keepalived', new Map(c.probes));
      assert.deepEqual(checks.filter((x) => x.severity !== 'ok').map((x) => `${x.check} ${x.target}: ${x.severity}: ${x.detail}`), c.fail);
    });
  }
});
