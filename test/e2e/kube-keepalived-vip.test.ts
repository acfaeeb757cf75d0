/**
 * Seed 004 end to end, as far as these machines allow. The API part against the lab's real
 * control plane (kube-apiserver 1.20 on master1..3, src/lab/control-plane.ts): `up` applies the
 * five objects server-side, a second run changes nothing, the API server's own dry run accepts each,
 * and the ServiceAccount may do what the DaemonSet needs and nothing more. No kubelet runs in the
 * lab, so the DaemonSet schedules no pod: the wait says so, read from the API. The data plane runs
 * for real on the VM tier: the keepalived configuration kube-keepalived-vip writes for the
 * ConfigMap, in a keepalived container on lbvm1 and lbvm2, programming IPVS NAT (wlc, persistence)
 * to web1..web3; the VIP serves, and moves when the holder's container stops.
 */
import { strict as assert } from 'node:assert';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, ensureLabVms, labHost, onHost } from '../helpers/lab.js';
import { parseIpvsadmList } from '../../src/render/ipvs.js';
import { $ } from '../../src/shell-local.js';
import { containerName } from '../../src/lab/topology.js';

const VMS = ['lbvm1', 'lbvm2'];
const WEBS = ['web1', 'web2', 'web3'];
const VIP = '198.18.0.202';
const CLIENT = '198.18.0.30';
const CLEAN = `if command -v docker >/dev/null; then docker rm -f kube-keepalived-vip keepalived; fi >/dev/null 2>&1; ipvsadm -C 2>/dev/null; ip addr del ${VIP}/32 dev ens3 2>/dev/null; true`;
const SA = 'system:serviceaccount:kube-system:kube-keepalived-vip';

type Json = Record<string, unknown>;

/** kubectl on master1 with its admin.conf (through the VIP: the lab inventory must be up), the manifest on stdin. */
async function kubectl(args: string, input = ''): Promise<{ code: number | null; out: string }> {
  const r = await $({ input })`docker exec -i ${containerName(labHost('master1'))} sh -c ${`kubectl --kubeconfig /etc/kubernetes/admin.conf --request-timeout=10s ${args} 2>&1`}`.nothrow().quiet();
  return { code: r.exitCode, out: r.stdout };
}

describe('seed 004: kube-keepalived-vip (the objects on the lab\'s real API server; the data plane on the VM tier)', function () {
  this.timeout(900_000);

  describe('the objects, applied to the real kube-apiserver', () => {
    let inv: string;
    let manifest: string;

    before(async function () {
      this.timeout(300_000);
      await ensureLab();
      // admin.conf on the masters names the control-plane endpoint, the VIP: haproxy must be in front of the API servers.
      const lab = await cli(['up', labInventoryCopy()]);
      assert.equal(lab.code, 0, lab.stdout + lab.stderr);
      inv = labInventoryCopy((t) => t, 'inventory/kube-keepalived-vip.yaml');
      manifest = (await cli(['manifest', inv])).stdout;
      assert.match(manifest, /kind: DaemonSet/);
      await kubectl('delete --ignore-not-found -f -', manifest);
    });

    it('up applies the five objects server-side; a second run changes nothing', async () => {
      const first = await cli(['up', inv, '--no-wait', '--json']);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const applied = events(first.stdout).filter((e) => e.type === 'step' && e.host === 'master1' && e.status === 'changed').map((e) => String(e.message));
      assert.deepEqual(applied, ['apply 5 object(s) server-side as lbdeploy']);
      const listed = await kubectl('get serviceaccount,clusterrole,clusterrolebinding,configmap,daemonset -A -l app.kubernetes.io/name=kube-keepalived-vip -o name');
      assert.equal(listed.out.trim().split('\n').length, 5, listed.out);
      const managed = await kubectl('get daemonset kube-keepalived-vip -n kube-system -o jsonpath={.metadata.managedFields[*].manager}');
      assert.match(managed.out, /\blbdeploy\b/, 'applied by lbdeploy\'s field manager');
      const again = await cli(['up', inv, '--no-wait', '--json']);
      assert.equal(again.code, 0, again.stdout);
      assert.deepEqual(events(again.stdout).filter((e) => e.type === 'step' && e.status === 'changed'), []);
    });

    it('the API server\'s own dry run accepts each object', async () => {
      const dry = await kubectl('apply --server-side --field-manager=lbdeploy --dry-run=server -f -', manifest);
      assert.equal(dry.code, 0, dry.out);
      assert.equal(dry.out.trim().split('\n').filter((l) => /serverside-applied \(server dry run\)$/.test(l)).length, 5, dry.out);
    });

    it('the ServiceAccount may read what kube-keepalived-vip watches, and nothing more', async () => {
      // The answer is the last line (kubectl warns first about a resource that is not namespaced).
      const can = async (verb: string, resource: string) => (await kubectl(`auth can-i ${verb} ${resource} --as=${SA}`)).out.trim().split('\n').pop();
      for (const r of ['pods', 'nodes', 'endpoints', 'services', 'configmaps']) {
        for (const verb of ['get', 'list', 'watch']) assert.equal(await can(verb, r), 'yes', `${verb} ${r}`);
      }
      for (const [verb, r] of [['create', 'pods'], ['delete', 'services'], ['update', 'configmaps'], ['get', 'secrets'], ['list', 'daemonsets.apps']]) {
        assert.equal(await can(verb!, r!), 'no', `${verb} ${r}`);
      }
    });

    it('the wait reads the DaemonSet from the API: no node runs a kubelet here, so none matches its selector', async () => {
      const r = await cli(['up', inv, '--wait', '3']);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /CRITICAL daemonset kube-system\/kube-keepalived-vip: 0\/0 ready, 0 up to date: no node matches the node selector \(via master\d\)/);
    });

    it('with every API server stopped, up stops before any step, naming each master', async function () {
      this.timeout(120_000);
      const masters = ['master1', 'master2', 'master3'];
      try {
        for (const m of masters) await onHost(m, 'systemctl stop kube-apiserver');
        const r = await cli(['up', inv]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /REFUSED no Kubernetes API answers on the masters \(master1: .+; master2: .+; master3: .+\)/);
        assert.match(r.stdout + r.stderr, /`lbdeploy manifest` prints the objects/);
      } finally {
        for (const m of masters) await onHost(m, 'systemctl start kube-apiserver');
        for (const m of masters) await onHost(m, 'for i in $(seq 60); do curl -sk --max-time 2 https://127.0.0.1:6443/readyz | grep -qx ok && exit 0; sleep 1; done; exit 1');
      }
    });
  });

  describe('the data plane on the VM tier (dataplane: host)', () => {
    let inv: string;

    before(async function () {
      this.timeout(1_200_000);
      await ensureLabVms();
      // Nothing of seed 002 or of an earlier run on the nodes; NAT: the web hosts reach the client through the VIP.
      for (const vm of VMS) await onHost(vm, CLEAN);
      for (const w of WEBS) await onHost(w, `ip route replace ${CLIENT}/32 via ${VIP}`);
      inv = labInventoryCopy((t) => t, 'inventory/lab-kube-keepalived-vip.yaml');
    });

    after(async () => {
      for (const vm of VMS) await onHost(vm, CLEAN).catch(() => undefined);
      for (const w of WEBS) await onHost(w, `ip route del ${CLIENT}/32 2>/dev/null; true`).catch(() => undefined);
    });

    it('up converges both nodes and waits until the VIP serves: one holder, the NAT table as kube-keepalived-vip programs it', async () => {
      const r = await cli(['up', inv, '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const done = events(r.stdout).find((e) => e.type === 'wait-done') as { ready: boolean; checks: number } | undefined;
      assert.ok(done?.ready, JSON.stringify(done));
      for (const vm of VMS) {
        const table = parseIpvsadmList(await onHost(vm, 'ipvsadm -ln'));
        assert.deepEqual(table, [{ protocol: 'tcp', address: VIP, port: 80, scheduler: 'wlc', persistent: 1800, realServers: ['21', '22', '23'].map((n) => ({ address: `198.18.0.${n}`, port: 80, forward: 'masq', weight: 1 })) }], `${vm}: the table`);
        const conf = await onHost(vm, 'cat /etc/kube-keepalived-vip/keepalived.conf');
        assert.match(conf, /vrrp_version 3[\s\S]*vrrp_instance vips \{[\s\S]*# Service: default\/nginx\nvirtual_server 198\.18\.0\.202 80 \{\n {4}delay_loop 5\n {4}lvs_sched wlc\n {4}lvs_method NAT\n {4}persistence_timeout 1800/);
        const hc = (JSON.parse(await onHost(vm, 'docker inspect kube-keepalived-vip')) as { HostConfig: Json }[])[0]!.HostConfig;
        assert.deepEqual([hc.NetworkMode, hc.Privileged, hc.CapAdd], ['host', false, ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW']]);
      }
      const holders = (await Promise.all(VMS.map(async (vm) => ((await onHost(vm, 'ip -o addr show')).includes(` ${VIP}/`) ? vm : '')))).filter(Boolean);
      assert.equal(holders.length, 1, `one holder: ${holders.join(', ')}`);
    });

    it('verify: the VIP held once, containers running, the tables as planned, curl through the VIP sticks to one endpoint and keeps the client address', async () => {
      const r = await cli(['verify', inv, '--json']);
      const report = JSON.parse(r.stdout) as { ok: boolean; checks: { check: string; target: string; severity: string; detail: string }[] };
      assert.equal(r.code, 0, JSON.stringify(report.checks.filter((c) => c.severity !== 'ok')));
      assert.deepEqual([...new Set(report.checks.map((c) => c.check))].sort(), ['container', 'curl via vip', 'ipvs table', 'persistence', 'vip holder']);
      const pages = (await onHost('client', `for i in 1 2 3; do curl -sS -m 3 http://${VIP}/; done`)).trim().split('\n');
      for (const p of pages) assert.match(p, new RegExp(`^host=web\\d port=80 client=${CLIENT.replace(/\./g, '\\.')}$`), 'NAT keeps the client address');
    });

    it('a second up changes nothing', async () => {
      const r = await cli(['up', inv, '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const changed = events(r.stdout).filter((e) => e.type === 'step' && e.status === 'changed');
      assert.deepEqual(changed, []);
    });

    it('failover-test: the VIP leaves the holder whose container stops, and serves from the other node', async () => {
      const r = await cli(['failover-test', inv, '--json', '--max-move', '10']);
      const [res] = JSON.parse(r.stdout) as { scenario: string; ok: boolean; vipMovedS: number; holderBefore: string; holderAfter: string; problem?: string; requests: number; failedRequests: number }[];
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(res!.scenario, 'keepalived-container');
      assert.ok(res!.ok, res!.problem);
      assert.notEqual(res!.holderAfter, res!.holderBefore);
      process.stderr.write(`      seed 004 data plane failover: VIP moved in ${res!.vipMovedS.toFixed(2)} s, ${res!.failedRequests}/${res!.requests} requests failed\n`);
      assert.equal((await cli(['verify', inv])).code, 0, 'healthy again after the restore');
    });
  });
});
