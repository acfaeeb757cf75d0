/** Seed 004 (pure, nothing connects): the objects against the Kubernetes schema, the plan-time refusals, kube-keepalived-vip's keepalived.conf, kubectl diff, the rollout check. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { kindPlaybook } from '../../../src/index.js';
import { parseYaml } from '../../../src/yaml.js';
import { validateObjects } from '../../../src/kube/objects.js';
import { loadKubeModels } from '../../../src/kube/models.js';
import { kkvKeepalived, kkvObjects, kkvServices } from '../../../src/kinds/kube-keepalived-vip/model.js';
import { daemonSetCheck, daemonSetFact } from '../../../src/kinds/kube-keepalived-vip/kind.js';
import type { KkvVars } from '../../../src/kinds/kube-keepalived-vip/schema.js';
import { parseKubeDiff } from '../../../src/operations/kube.js';
import { renderKeepalived } from '../../../src/render/keepalived.js';
import { renderExternalIpService } from '../../../src/render/kube-service.js';
import { deploymentsOf } from '../../../src/kinds/deployments.js';
import { keepalivedCheck } from '../../helpers/validate.js';

const EXAMPLE = 'inventory/kube-keepalived-vip.yaml';

async function resolved(text: string, file = 'kkv.yaml'): Promise<KkvVars> {
  const inv = await parseInventory(file, text, { env: {} });
  const vars = await resolvePlaybookVars(kindPlaybook('kube-keepalived-vip'), inv, inv.hosts);
  return [...vars.values()][0]!.kube_keepalived_vip as KkvVars;
}

async function refused(text: string): Promise<string> {
  const err = await resolved(text).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof InventoryError, `expected an inventory error, got ${String(err)}`);
  return err.message;
}

/** The example without its connection block (the lab's key need not exist for a pure test). */
const example = () => readFileSync(EXAMPLE, 'utf8').replace(/^connection:\n(?: .*\n)+\n/m, '');

describe('seed 004: kube-keepalived-vip', () => {
  // The models load when a kind that uses them is used (kind.load / playbook.load); these tests call the renderers directly.
  before(async () => {
    await loadKubeModels();
  });

  it('the example inventory gives the seed\'s five objects with today\'s API versions, valid against the Kubernetes schema', async () => {
    const v = await resolved(example(), EXAMPLE);
    const objects = kkvObjects(v);
    assert.deepEqual(objects.map((o) => `${o.apiVersion} ${o.kind}`), [
      'v1 ServiceAccount', 'rbac.authorization.k8s.io/v1 ClusterRole', 'rbac.authorization.k8s.io/v1 ClusterRoleBinding', 'v1 ConfigMap', 'apps/v1 DaemonSet',
    ]);
    assert.deepEqual(validateObjects(objects), []);
    const ds = objects[4]!.toJSON() as { spec: { template: { spec: { hostNetwork: boolean; nodeSelector: object; containers: { args: string[]; securityContext: object; volumeMounts: object[] }[] } } } };
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.deepEqual(pod.nodeSelector, { 'node-role.lbdeploy.io/vip': 'true' });
    assert.deepEqual(pod.containers[0]!.args, ['--services-configmap=kube-system/vip-configmap', '--vrid=50']);
    assert.deepEqual(pod.containers[0]!.securityContext, { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW', 'NET_BROADCAST'] } }, 'least privilege by default');
    assert.deepEqual(pod.containers[0]!.volumeMounts, [{ name: 'modules', mountPath: '/lib/modules', readOnly: true }]);
    assert.deepEqual((objects[3]!.toJSON() as { data: object }).data, { '198.18.0.150': 'default/nginx' });
  });

  it('privileged and unicast only when asked: the seed\'s /dev mount and --use-unicast', async () => {
    const v = await resolved(example().replace('unicast: false', 'unicast: true\n    privileged: true'));
    const c = (kkvObjects(v)[4]!.toJSON() as { spec: { template: { spec: { containers: { args: string[]; securityContext: object; volumeMounts: { mountPath: string }[] }[] } } } }).spec.template.spec.containers[0]!;
    assert.deepEqual(c.securityContext, { privileged: true });
    assert.ok(c.args.includes('--use-unicast=true'));
    assert.deepEqual(c.volumeMounts.map((m) => m.mountPath), ['/lib/modules', '/dev']);
  });

  it('the schema validation is real: a broken object is named with the path that fails', () => {
    const broken = new DaemonSet({ metadata: { name: 'x' }, spec: { template: { spec: { containers: [{ name: 3 as unknown as string }] } } } as never });
    assert.deepEqual(validateObjects([broken]), ['DaemonSet x: /spec must have required property selector', 'DaemonSet x: /spec/template/spec/containers/0/name must be string']);
  });

  it('`manifest` prints the five objects as YAML documents, and seed 003\'s Service comes from the same library', async () => {
    const inv = await parseInventory(EXAMPLE, example(), { env: {} });
    const docs = (await deploymentsOf(inv, [kindPlaybook('kube-keepalived-vip')])).flatMap((d) => d.manifests ?? []);
    assert.deepEqual(docs.map((d) => (parseYaml(d) as { kind: string }).kind), ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet']);
    const svc = parseYaml(renderExternalIpService({ name: 'web', namespace: 'default', selector: { app: 'web' }, externalIPs: ['198.18.0.200'], ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] })) as Record<string, unknown>;
    assert.deepEqual(svc, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'lbdeploy' } }, spec: { type: 'ClusterIP', selector: { app: 'web' }, externalIPs: ['198.18.0.200'], ports: [{ name: 'tcp-80', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
  });

  const REFUSED: { what: string; edit: (t: string) => string; error: RegExp }[] = [
    { what: 'a VIP outside the nodes\' subnet', edit: (t) => t.replace('198.18.0.150: default/nginx', '198.18.1.150: default/nginx'), error: /kkv\.yaml:\d+:\d+: .*VIP 198\.18\.1\.150 is outside the nodes' subnet 198\.18\.0\.0\/24/ },
    { what: 'a VIP that is a host\'s address', edit: (t) => t.replace('198.18.0.150: default/nginx', '198.18.0.12: default/nginx'), error: /kkv\.yaml:\d+:\d+: .*VIP 198\.18\.0\.12 is the address of lb2/ },
    { what: 'a service named twice', edit: (t) => t.replace('198.18.0.150: default/nginx', '198.18.0.150: default/nginx\n      198.18.0.151: default/nginx'), error: /kkv\.yaml:\d+:\d+: .*service default\/nginx is already behind VIP 198\.18\.0\.150/ },
    { what: 'a malformed service', edit: (t) => t.replace('198.18.0.150: default/nginx', '198.18.0.150: nginx'), error: /kkv\.yaml:\d+:\d+: .*vips.*must match pattern/ },
    { what: 'an IPv6 VIP (no ConfigMap key)', edit: (t) => t.replace('198.18.0.150: default/nginx', '"2001:2::150": default/nginx').replace('subnet: 198.18.0.0/24', 'subnet: 2001:2::/64'), error: /VIP 2001:2::150 cannot be a ConfigMap key/ },
    { what: 'a VRID of 256', edit: (t) => t.replace('vrid: 50', 'vrid: 256'), error: /kkv\.yaml:\d+:\d+: .*vrid.*must be <= 255/ },
    { what: 'endpoints the DaemonSet would ignore', edit: (t) => t.replace('default/nginx: { port: 80 }', 'default/nginx: { port: 80, endpoints: [198.18.0.21] }'), error: /endpoints are read from the API by the pods/ },
    { what: 'a service missing on the host data plane', edit: (t) => t.replace('default/nginx: { port: 80 }', 'default/other: { port: 80, endpoints: [198.18.0.21] }').replace('vrid: 50', 'vrid: 50\n    dataplane: host\n    host: { image: { ref: keepalived } }'), error: /service default\/nginx has no endpoints[\s\S]*service default\/other is behind no VIP/ },
    { what: 'an invalid label key', edit: (t) => t.replace('node-role.lbdeploy.io/vip', 'bad key'), error: /node_selector/ },
  ];
  for (const c of REFUSED) {
    it(`refused before connecting, at the line: ${c.what}`, async () => assert.match(await refused(c.edit(example())), c.error));
  }

  const HOST = `kube_keepalived_vip:
  interface: eth0
  subnet: 198.18.0.0/24
  vips: { 198.18.0.202: default/nginx }
  services: { default/nginx: { port: 80, endpoints: [198.18.0.21, 198.18.0.22] } }
  dataplane: host
  host: { image: { ref: keepalived } }`;

  it('renders the keepalived.conf kube-keepalived-vip writes (the seed\'s), and the IPVS table it programs', async () => {
    const v = await resolved(`playbook: kube-keepalived-vip\nvars:\n${HOST.replace(/^/gm, '  ')}\ngroups:\n  kube_nodes:\n    hosts: { n1: { address: 198.18.0.51 }, n2: { address: 198.18.0.52 } }\n`);
    const nodes = [{ name: 'n1', address: '198.18.0.51' }, { name: 'n2', address: '198.18.0.52' }];
    const seed = renderKeepalived(kkvKeepalived(nodes[1]!, nodes, v, false));
    assert.equal(seed, `! Managed by lbdeploy: changes here are overwritten.
global_defs {
    router_id n2
    vrrp_version 3
    vrrp_iptables KUBE-KEEPALIVED-VIP
}

vrrp_instance vips {
    state BACKUP
    interface eth0
    virtual_router_id 50
    priority 101
    advert_int 1
    nopreempt
    track_interface {
        eth0
    }
    virtual_ipaddress {
        198.18.0.202
    }
}

# Service: default/nginx
virtual_server 198.18.0.202 80 {
    delay_loop 5
    lvs_sched wlc
    lvs_method NAT
    persistence_timeout 1800
    protocol TCP
    real_server 198.18.0.21 80 {
        weight 1
        TCP_CHECK {
            connect_port 80
            connect_timeout 3
        }
    }
    real_server 198.18.0.22 80 {
        weight 1
        TCP_CHECK {
            connect_port 80
            connect_timeout 3
        }
    }
}
`);
    // keepalived 2.x refuses 0.9's two 1.x-era lines (-t exits 5); without them it accepts the rest.
    const old = keepalivedCheck(seed);
    assert.equal(old.ok, false);
    assert.match(old.output, /iptables not supported/);
    const now = renderKeepalived(kkvKeepalived(nodes[1]!, nodes, { ...v, unicast: true }, true));
    assert.ok(!/vrrp_iptables|track_interface/.test(now));
    assert.match(now, /unicast_src_ip 198\.18\.0\.52\n {4}unicast_peer \{\n {8}198\.18\.0\.51\n/);
    const verdict = keepalivedCheck(now);
    assert.ok(verdict.ok, verdict.output + now);
    assert.deepEqual(kkvServices(v), [{ protocol: 'tcp', address: '198.18.0.202', port: 80, scheduler: 'wlc', persistent: 1800, realServers: [
      { address: '198.18.0.21', port: 80, forward: 'masq', weight: 1 }, { address: '198.18.0.22', port: 80, forward: 'masq', weight: 1 }] }]);
  });

  const DIFFS: { out: string; kind: string }[] = [
    { out: '@no-kubectl\n', kind: 'no-kubectl' },
    { out: '@rc=0\n', kind: 'same' },
    { out: 'diff -u -N /tmp/LIVE/apps.v1.DaemonSet.kube-system.kkv /tmp/MERGED/apps.v1.DaemonSet.kube-system.kkv\n--- /tmp/LIVE\n+++ /tmp/MERGED\n@@ -1 +1 @@\n-a\n+b\n@rc=1\n', kind: 'differs' },
    { out: 'The connection to the server 198.18.0.41:6443 was refused - did you specify the right host or port?\n@rc=1\n', kind: 'error' },
    { out: 'error: unable to recognize "STDIN": no matches for kind "DaemonSet"\n@rc=2\n', kind: 'error' },
    { out: '', kind: 'error' },
  ];
  for (const d of DIFFS) {
    it(`kubectl diff: ${JSON.stringify(d.out.slice(0, 40))} is ${d.kind}`, () => assert.equal(parseKubeDiff(d.out).kind, d.kind));
  }

  const ROLLOUTS: { probes: [string, string | { error: string }][]; severity: string; detail: RegExp }[] = [
    { probes: [['m1', '3 3 3']], severity: 'ok', detail: /^3\/3 ready, 3 up to date \(via m1\)$/ },
    { probes: [['m1', '3 2 3']], severity: 'warning', detail: /2\/3 ready/ },
    { probes: [['m1', '3 3 1']], severity: 'warning', detail: /1 up to date/ },
    { probes: [['m1', '0 0 0']], severity: 'critical', detail: /no node matches the node selector/ },
    // What a real kube-apiserver answers: updatedNumberScheduled is omitted while it is 0 (omitempty).
    { probes: [['m1', '0 0 ']], severity: 'critical', detail: /^0\/0 ready, 0 up to date: no node matches the node selector/ },
    { probes: [['m1', '3 0 ']], severity: 'critical', detail: /^0\/3 ready, 0 up to date/ },
    { probes: [['m1', { error: 'timed out' }], ['m2', 'The connection to the server was refused'], ['m3', '2 2 2']], severity: 'ok', detail: /via m3/ },
    { probes: [['m1', 'Error from server (NotFound): daemonsets.apps "kkv" not found']], severity: 'critical', detail: /no master answered: m1: Error from server \(NotFound\)/ },
  ];
  it('the DaemonSet rollout check, from the first master that answers', async () => {
    const v = await resolved(example(), EXAMPLE);
    const key = daemonSetFact(v).key;
    for (const r of ROLLOUTS) {
      const probes = new Map(r.probes.map(([m, p]) => [m, typeof p === 'string' ? new Map([[key, { stdout: p, code: 0 }]]) : p]));
      const c = daemonSetCheck(v, probes);
      assert.equal(c.severity, r.severity, JSON.stringify(r.probes));
      assert.match(c.detail, r.detail);
    }
  });
});

describe('an inventory read for a command that never connects (manifest)', () => {
  const text = readFileSync(EXAMPLE, 'utf8').replace('../.lbdeploy/lab/id_ed25519', './no-such-key');
  it('needs no private key on disk; a command that connects still refuses the missing key at its line', async () => {
    const inv = await parseInventory('inventory/kkv.yaml', text, { env: {}, offline: true });
    assert.equal(inv.hosts.length, 7);
    const err = await parseInventory('inventory/kkv.yaml', text, { env: {} }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InventoryError);
    assert.match(err.message, /kkv\.yaml:\d+:\d+: private key .*no-such-key does not exist/);
  });
});
