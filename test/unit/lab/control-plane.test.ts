/**
 * The lab's control plane, the pure parts: kubeadm's configuration per master, a static pod
 * manifest (as kubeadm 1.20 writes it, captured from the lab: test/fixtures/kubeadm/) turned into a systemd unit, and the
 * Kubernetes build recipe's hash.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONTROL_PLANE_ENDPOINT, kubeadmConfig, masters, parseCheckExpiration, unitFromManifest } from '../../../src/lab/control-plane.js';
import { KUBE_BUILD, kubeBinaries, kubeBuildHash } from '../../../src/lab/kube-build.js';
import { LAB_VIP, LAB_VIP6 } from '../../../src/lab/topology.js';

const fixture = (name: string) => readFileSync(join('test/fixtures/kubeadm', name), 'utf8');

/** ExecStart's words as systemd splits them (double quotes, backslash escapes). */
function execStart(unit: string): string[] {
  const line = /^ExecStart=(.*)$/m.exec(unit)![1]!;
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
}

describe('lab control plane (kubeadm phases, static pods as systemd units)', () => {
  it('kubeadm\'s configuration per master: its own address and name, the VIP as the endpoint and in every serving certificate', () => {
    const all = masters();
    assert.deepEqual(all.map((m) => m.name), ['master1', 'master2', 'master3']);
    const docs = parseAllDocuments(kubeadmConfig(all[1]!, all)).map((d) => d.toJS() as Record<string, any>);
    assert.deepEqual(docs.map((d) => d.kind), ['InitConfiguration', 'ClusterConfiguration']);
    assert.equal(docs[0]!.localAPIEndpoint.advertiseAddress, all[1]!.address);
    assert.equal(docs[0]!.nodeRegistration.name, 'master2');
    assert.equal(docs[1]!.controlPlaneEndpoint, CONTROL_PLANE_ENDPOINT);
    assert.equal(CONTROL_PLANE_ENDPOINT, `${LAB_VIP}:6443`);
    assert.deepEqual(docs[1]!.apiServer.certSANs, [LAB_VIP, '2001:2::100', '198.18.0.41', 'master1', '198.18.0.42', 'master2', '198.18.0.43', 'master3']);
    assert.match(docs[1]!.networking.serviceSubnet, /^198\.18\./, 'service addresses inside the lab range');
  });

  it('the lab inventory\'s VIPs are the ones in the API servers\' certificates (topology.ts), and verify_server is the endpoint', () => {
    // lab.yaml carries !secret tags: read as text, the VIP lines and verify_server.
    const text = readFileSync('inventory/lab.yaml', 'utf8');
    const vips = [...text.matchAll(/^ +vip: (\S+)\/\d+$/gm)].map((m) => m[1]);
    assert.deepEqual(vips, [LAB_VIP, LAB_VIP6], 'inventory/lab.yaml\'s keepalived VIPs: change topology.ts\'s LAB_VIP and LAB_VIP6 with them (the certificates name them)');
    assert.equal(/^ +verify_server: (\S+)$/m.exec(text)?.[1], `https://${CONTROL_PLANE_ENDPOINT}`);
  });

  it('a static pod manifest becomes a unit running the same binary with the same flags, --initial-cluster replaced', () => {
    const manifest = fixture('etcd.yaml');
    const flags = (parse(manifest) as { spec: { containers: { command: string[] }[] } }).spec.containers[0]!.command;
    const unit = unitFromManifest('etcd', manifest, { '--initial-cluster': 'master1=https://198.18.0.41:2380,master2=https://198.18.0.42:2380' });
    const words = execStart(unit);
    assert.equal(words[0], '/usr/bin/etcd', 'Debian\'s etcd');
    assert.equal(words.length, flags.length, 'no flag lost or added');
    assert.ok(words.includes('--initial-cluster=master1=https://198.18.0.41:2380,master2=https://198.18.0.42:2380'));
    for (const f of flags.slice(1).filter((x) => !x.startsWith('--initial-cluster'))) assert.ok(words.includes(f), `${f} kept`);
    assert.match(unit, /^Restart=always$/m);
    const api = execStart(unitFromManifest('kube-apiserver', fixture('kube-apiserver.yaml')));
    assert.equal(api[0], '/usr/local/bin/kube-apiserver');
    assert.ok(api.includes('--authorization-mode=Node,RBAC') && api.includes('--client-ca-file=/etc/kubernetes/pki/ca.crt'));
  });

  it('the unit is one systemd accepts (systemd-analyze verify)', function () {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-unit-'));
    try {
      const unit = unitFromManifest('kube-apiserver', fixture('kube-apiserver.yaml')).replace('/usr/local/bin/kube-apiserver', '/bin/true');
      writeFileSync(join(dir, 'kube-apiserver.service'), unit);
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'kube-apiserver.service')], { encoding: 'utf8' });
      assert.doesNotMatch(r.stderr, /kube-apiserver\.service:\d+/, r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a manifest without a command, or without a flag to replace, is refused, naming it', () => {
    assert.throws(() => unitFromManifest('etcd', 'apiVersion: v1\nkind: Pod\nspec: { containers: [{ name: etcd }] }\n'), /the etcd manifest kubeadm wrote has no command/);
    assert.throws(() => unitFromManifest('etcd', fixture('etcd.yaml'), { '--initial-cluster-state': 'new' }), /the etcd manifest kubeadm wrote has no --initial-cluster-state to replace/);
  });

  it('kubeadm certs check-expiration as kubeadm 1.20 prints it (captured from the lab): every certificate and authority with its expiry', () => {
    const table = parseCheckExpiration(fixture('check-expiration.txt'));
    assert.deepEqual(table.get('admin.conf'), { expires: 'Dec 03, 2027 14:02 UTC', residual: '364d' });
    assert.equal(table.get('ca')?.residual, '9y');
    assert.ok(table.has('apiserver-etcd-client') && table.has('front-proxy-ca'));
    assert.ok(!table.has('CERTIFICATE'), 'the headers are not certificates');
    assert.ok(Date.parse(table.get('admin.conf')!.expires) > 0, 'a date JavaScript reads');
  });

  it('the build recipe: its hash moves with what is built and how, the binaries are named after their targets', () => {
    assert.equal(kubeBuildHash(), kubeBuildHash({ ...KUBE_BUILD }));
    assert.notEqual(kubeBuildHash({ ...KUBE_BUILD, targets: [...KUBE_BUILD.targets, 'cmd/kubelet'] }), kubeBuildHash());
    assert.notEqual(kubeBuildHash({ ...KUBE_BUILD, vendorOverlays: {} }), kubeBuildHash());
    assert.deepEqual(kubeBinaries(), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeadm']);
  });
});
