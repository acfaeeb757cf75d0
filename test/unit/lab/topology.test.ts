import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseYaml as parse } from '../../../src/yaml.js';
import { LAB_DOCKERD_ARGS, LAB_HOSTS, LAB_NETWORK, LAB_VMS, labAddress6, SCALE_MAX, SCALE_NETWORK, scaleClusters, scaleHosts, scalePeers } from '../../../src/lab/topology.js';
import { inSubnet } from '../../../src/util/net.js';
import { LB_DOCKER_DAEMON_JSON } from '../../../src/lab/recipes.js';

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => (acc << 8) + Number(p), 0) >>> 0;
}
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = bits === '0' ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(base!) & mask);
}
const LAB_RANGE = '198.18.0.0/15';

describe('lab topology', () => {
  it('keeps every lab address inside 198.18.0.0/15 and the lab subnet', () => {
    for (const h of [...LAB_HOSTS, ...LAB_VMS]) {
      assert.ok(inCidr(h.address, LAB_RANGE), `${h.name} ${h.address}`);
      assert.ok(inCidr(h.address, LAB_NETWORK.subnet), `${h.name} ${h.address}`);
    }
    assert.ok(inCidr(LAB_NETWORK.gateway, LAB_NETWORK.subnet));
  });

  it('keeps every IPv6 lab address inside the benchmarking prefix 2001:2::/48 and the lab /64', () => {
    assert.ok(inSubnet(LAB_NETWORK.subnet6.split('/')[0]!, '2001:2::/48') && Number(LAB_NETWORK.subnet6.split('/')[1]) >= 48);
    assert.ok(inSubnet(LAB_NETWORK.gateway6, LAB_NETWORK.subnet6));
    for (const h of [...LAB_HOSTS, ...LAB_VMS]) {
      assert.ok(inSubnet(h.address6, '2001:2::/48') && inSubnet(h.address6, LAB_NETWORK.subnet6), `${h.name} ${h.address6}`);
    }
    assert.equal(new Set([...LAB_HOSTS, ...LAB_VMS].map((h) => h.address6)).size, LAB_HOSTS.length + LAB_VMS.length);
    assert.equal(labAddress6('198.18.0.51'), '2001:2::51');
  });

  it('has unique names and addresses: lb1-3, web1-3, client, master1-3', () => {
    assert.equal(new Set(LAB_HOSTS.map((h) => h.name)).size, LAB_HOSTS.length);
    assert.equal(new Set(LAB_HOSTS.map((h) => h.address)).size, LAB_HOSTS.length);
    assert.deepEqual(LAB_HOSTS.map((h) => h.name), ['lb1', 'lb2', 'lb3', 'lb4', 'web1', 'web2', 'web3', 'client', 'master1', 'master2', 'master3', 'mon']);
  });

  it('puts every Docker bridge (outer and inner daemons) in 198.18.0.0/15, never a private range', () => {
    const cidrs = [
      ...LAB_DOCKERD_ARGS.filter((a) => /^\d|base=/.test(a)).map((a) => a.replace(/^base=/, '').split(',')[0]!),
      JSON.parse(LB_DOCKER_DAEMON_JSON).bip as string,
      ...(JSON.parse(LB_DOCKER_DAEMON_JSON)['default-address-pools'] as { base: string }[]).map((p) => p.base),
    ];
    assert.ok(cidrs.length >= 4);
    for (const c of cidrs) assert.ok(inCidr(c.split('/')[0]!, LAB_RANGE), c);
  });

  it('matches inventory/lab.yaml (and lab-fleet.yaml, for lb4) host for host', () => {
    // Each host once, with the group that defines it (other groups only list it).
    const fromInventory = [...new Set(['inventory/lab.yaml', 'inventory/lab-fleet.yaml'].flatMap((file) => {
      const inv = parse(readFileSync(file, 'utf8'), { customTags: [{ tag: '!secret', resolve: (s: string) => s }] }) as {
        groups: Record<string, { hosts: Record<string, { address: string } | null> }>;
      };
      return Object.entries(inv.groups).flatMap(([group, g]) =>
        Object.entries(g.hosts).filter(([, h]) => h !== null).map(([name, h]) => `${group}/${name}/${h!.address}`));
    }))];
    const groupOf = { lb: 'lb', web: 'web', client: 'clients', master: 'masters', vm: 'vms', monitor: '', light: '' } as const;
    // The monitoring host scrapes lbdeploy; no deployment's inventory lists it.
    const fromLab = LAB_HOSTS.filter((h) => h.role !== 'monitor').map((h) => `${groupOf[h.role]}/${h.name}/${h.address}`);
    assert.deepEqual(fromInventory.sort(), fromLab.sort());
  });
});

describe('lab: the scale profile', () => {
  it('100 light hosts in 50 clusters of two: lab addresses only, none shared with the main lab, one VIP and VRID each', () => {
    const hosts = scaleHosts(SCALE_MAX);
    const clusters = scaleClusters(SCALE_MAX);
    assert.equal(clusters.length, 50);
    const all = [...hosts.map((h) => h.address), ...clusters.map((c) => c.vip), ...scalePeers().map((p) => p.scaleAddress)];
    assert.equal(new Set(all).size, all.length, 'every address once');
    for (const a of all) assert.ok(inCidr(a, SCALE_NETWORK.subnet) && inCidr(a, '198.18.0.0/15') && !inCidr(a, LAB_NETWORK.subnet), a);
    for (const h of hosts) assert.ok(inSubnet(h.address6, SCALE_NETWORK.subnet6) && inSubnet(h.address6, '2001:2::/48'), h.address6);
    assert.deepEqual(clusters.map((c) => c.vrid), Array.from({ length: 50 }, (_, i) => i + 1));
    assert.deepEqual(clusters[0], { name: 'c01', hosts: hosts.slice(0, 2), vip: '198.18.6.1', vrid: 1 });
    assert.equal(new Set(hosts.map((h) => h.name)).size, 100);
    assert.deepEqual(scalePeers().map((p) => `${p.name} ${p.scaleAddress}`), ['web1 198.18.5.21', 'web2 198.18.5.22', 'web3 198.18.5.23', 'client 198.18.5.30']);
  });
});
