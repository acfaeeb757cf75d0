import { strict as assert } from 'node:assert';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { loadPlaybook } from '../../../src/kinds/registry.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { drServices } from '../../../src/kinds/ipvs-dr/model.js';
import { addressUnit } from '../../../src/operations/ipvs.js';

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

describe('seed 003 with an IPv6 VIP', () => {
  const v6 = (vip: string, node2 = '{ address: 172.17.8.12, vars: { addresses: ["2001:db8::12"] } }') => inv('[{ port: 80, real_servers_group: ipvs_real_servers }]')
    .replace('vip: 172.17.8.201/24', `vip: "${vip}"`)
    .replace('node1: { address: 172.17.8.11 }', 'node1: { address: 172.17.8.11, vars: { addresses: ["2001:db8::11"] } }')
    .replace('node2: { address: 172.17.8.12 }', `node2: ${node2}`);
  const resolve = async (text: string) => {
    const i = await parseInventory('/tmp/lbd/dr.yaml', text, { env: {} });
    const pb = await loadPlaybook('ipvs-dr', i.dir);
    return { i, pb, vars: await resolvePlaybookVars(pb, i, i.hosts) };
  };
  const issues = async (text: string) => {
    const err = await resolve(text).then(() => undefined, (e: unknown) => e);
    return err instanceof InventoryError ? err.issues.map((x) => `${x.where}: ${x.message}`).join('\n') : 'accepted';
  };

  it('plans the virtual service on the IPv6 VIP with the real servers\' IPv6 addresses', async () => {
    const { i, vars } = await resolve(v6('2001:db8::201/64'));
    const infos = i.hosts.map((h) => ({ name: h.name, address: h.address, groups: h.groups, vars: vars.get(h.name)! }));
    assert.deepEqual(drServices((vars.get('director') as { ipvs_dr: never }).ipvs_dr, infos), [{
      protocol: 'tcp', address: '2001:db8::201', port: 80, scheduler: 'rr',
      realServers: [{ address: '2001:db8::11', port: 80, forward: 'route', weight: 1 }, { address: '2001:db8::12', port: 80, forward: 'route', weight: 1 }],
    }]);
  });

  const cases: [string, string, RegExp][] = [
    ['a real server without an IPv6 address', v6('2001:db8::201/64', '{ address: 172.17.8.12 }'), /dr\.yaml:6:\d+: .*real server node2 \(172\.17\.8\.12\) has no IPv6 address for the VIP 2001:db8::201/],
    ['a prefix longer than 128 bits', v6('2001:db8::201/129'), /dr\.yaml:4:\d+: .*prefix \/129 is longer than an IPv6 address/],
    ['an IPv4 prefix longer than 32 bits', inv('[{ port: 80, real_servers_group: ipvs_real_servers }]').replace('172.17.8.201/24', '172.17.8.201/33'), /dr\.yaml:4:\d+: .*prefix \/33 is longer than an IPv4 address/],
    ['a VIP that is no address', v6('2001:db8:::201/64'), /dr\.yaml:4:\d+: .*2001:db8:::201 is not an IPv4 or IPv6 address/],
    ['no prefix', v6('2001:db8::201'), /dr\.yaml:4:\d+: .*must match pattern/],
  ];
  for (const [what, text, want] of cases) it(`refuses ${what} at the inventory line`, async () => assert.match(await issues(text), want));

  it('a real server carries the VIP on lo now and at boot: address, its unit, the unit enabled', async () => {
    const { i, pb, vars } = await resolve(v6('2001:db8::201/64'));
    const node = i.hosts.find((h) => h.name === 'node1')!;
    const steps = pb.plays[1]!.steps({ name: node.name, address: node.address, groups: node.groups, vars: vars.get('node1')!, inventory: [] });
    assert.deepEqual(steps.map((s) => s.name), [
      'sysctl /etc/sysctl.d/60-lbdeploy-dr.conf', 'address 2001:db8::201/128 on lo',
      'file /etc/systemd/system/lbdeploy-address-lo-2001-db8--201-128.service', 'service lbdeploy-address-lo-2001-db8--201-128.service',
    ]);
  });
});

describe('addressUnit: the unit that puts an address back at boot', () => {
  const table: [string, string, RegExp][] = [
    ['198.18.0.200/32', 'lo', /grep -q " 198\.18\.0\.200\/" \|\| ip addr add 198\.18\.0\.200\/32 dev lo'$/m],
    // IPv6: matched as `ip` prints it (compressed), added without duplicate address detection.
    ['2001:2:0:0::200/64', 'ens3', /grep -q " 2001:2::200\/" \|\| ip addr add 2001:2:0:0::200\/64 dev ens3 nodad'$/m],
  ];
  for (const [address, device, want] of table) {
    it(`${address} on ${device}`, () => {
      const u = addressUnit({ address, device });
      assert.match(u.content, want);
      assert.match(u.content, /^WantedBy=multi-user\.target$/m);
      assert.match(u.name, /^lbdeploy-address-[a-z0-9]+-[0-9a-f-]+\.service$/);
    });
  }
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
