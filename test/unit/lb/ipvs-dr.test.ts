import { strict as assert } from 'node:assert';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { drServices } from '../../../src/kinds/ipvs-dr/model.js';

const inv = (services: string) => `playbook: ipvs-dr
vars:
  ipvs_dr:
    vip: 172.17.8.201/24
    interface: eth0
    services: ${services}
groups:
  ipvs:
    hosts:
      director: { address: 172.17.8.10 }
  ipvs_real_servers:
    hosts:
      node1: { address: 172.17.8.11 }
      node2: { address: 172.17.8.12 }
`;

describe('seed 003: IPVS direct routing model', () => {
  it('builds the virtual service from the real-server group (the seed\'s -A -t VIP:80, -a -r node:80 -g)', async () => {
    const i = await parseInventory('/tmp/lbd/dr.yaml', inv('[{ port: 80, real_servers_group: ipvs_real_servers, scheduler: wlc }]'), { env: {} });
    const pb = await loadPlaybook('ipvs-dr', i.dir);
    const vars = await resolvePlaybookVars(pb, i, i.hosts);
    const infos = i.hosts.map((h) => ({ name: h.name, address: h.address, groups: h.groups, vars: vars.get(h.name)! }));
    assert.deepEqual(drServices((vars.get('director') as { ipvs_dr: never }).ipvs_dr, infos), [{
      protocol: 'tcp', address: '172.17.8.201', port: 80, scheduler: 'wlc',
      realServers: [{ address: '172.17.8.11', port: 80, forward: 'route', weight: 1 }, { address: '172.17.8.12', port: 80, forward: 'route', weight: 1 }],
    }]);
  });

  it('refuses a port translation, which direct routing cannot do, at the inventory line', async () => {
    const i = await parseInventory('/tmp/lbd/dr.yaml', inv('[{ port: 80, real_port: 8080, real_servers_group: ipvs_real_servers }]'), { env: {} });
    const pb = await loadPlaybook('ipvs-dr', i.dir);
    await assert.rejects(resolvePlaybookVars(pb, i, i.hosts), (e: unknown) =>
      e instanceof InventoryError && /dr\.yaml:6:\d+: playbook ipvs-dr: direct routing cannot translate ports: real_port 8080 must equal port 80/.test(e.issues.map((x) => `${x.where}: ${x.message}`).join('\n')));
  });
});

describe('seed 003 on Kubernetes: the Service with the VIP as externalIP', () => {
  it('`lbdeploy manifest` prints it for the example inventory (ports from the services, targetPort for the pods)', async () => {
    const { cli } = await import('../../helpers/cli.js');
    const { parse } = await import('yaml');
    const r = await cli(['manifest', 'inventory/ipvs-dr.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parse(r.stdout), {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'nginx', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'lbdeploy' } },
      spec: { type: 'ClusterIP', selector: { run: 'nginx' }, externalIPs: ['172.17.8.201'], ports: [{ name: 'tcp-80', port: 80, targetPort: 80, protocol: 'TCP' }] },
    });
  });

  it('no Kubernetes block -> a clear refusal (exit 4) with what to add', async () => {
    const { cli } = await import('../../helpers/cli.js');
    const r = await cli(['manifest', 'inventory/software-lb.yaml']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /asks for no Kubernetes objects[\s\S]*ipvs_dr\.kubernetes\.selector/);
  });

  it('with Kubernetes nodes as real servers, the nodes get no VIP on lo; target_port without Kubernetes is refused', async () => {
    const k8s = `${inv('[{ port: 80, target_port: 8080, real_servers_group: ipvs_real_servers }]')}`.replace('    services:', '    kubernetes: { selector: { app: web } }\n    services:');
    const i = await parseInventory('/tmp/lbd/dr.yaml', k8s, { env: {} });
    const pb = await loadPlaybook('ipvs-dr', i.dir);
    const vars = await resolvePlaybookVars(pb, i, i.hosts);
    const node = i.hosts.find((h) => h.name === 'node1')!;
    const steps = pb.plays[1]!.steps({ name: node.name, address: node.address, groups: node.groups, vars: vars.get('node1')!, inventory: [] });
    assert.deepEqual(steps, []);
    const bad = await parseInventory('/tmp/lbd/dr.yaml', inv('[{ port: 80, target_port: 8080, real_servers_group: ipvs_real_servers }]'), { env: {} });
    const err = await resolvePlaybookVars(pb, bad, bad.hosts).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InventoryError);
    assert.match(err.message, /dr\.yaml:\d+:\d+.*target_port applies to a Kubernetes Service only/);
  });
});
