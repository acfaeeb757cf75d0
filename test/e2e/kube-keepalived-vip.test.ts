/**
 * Seed 004 end to end, as far as these machines allow. No Kubernetes control plane can run here:
 * `up` of the DaemonSet inventory against the lab's stand-in masters must stop before any step,
 * saying no API answers. The data plane runs for real on the VM tier: the keepalived configuration
 * kube-keepalived-vip writes for the ConfigMap, in a keepalived container on lbvm1 and lbvm2,
 * programming IPVS NAT (wlc, persistence) to web1..web3; the VIP serves, and moves when the
 * holder's container stops.
 */
import { strict as assert } from 'node:assert';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, ensureLabVms, onHost } from '../helpers/lab.js';
import { parseIpvsadmList } from '../../src/render/ipvs.js';

const VMS = ['lbvm1', 'lbvm2'];
const WEBS = ['web1', 'web2', 'web3'];
const VIP = '198.18.0.202';
const CLIENT = '198.18.0.30';
const CLEAN = `if command -v docker >/dev/null; then docker rm -f kube-keepalived-vip keepalived; fi >/dev/null 2>&1; ipvsadm -C 2>/dev/null; ip addr del ${VIP}/32 dev ens3 2>/dev/null; true`;

type Json = Record<string, unknown>;

describe('seed 004: kube-keepalived-vip (the API part refused for want of a cluster; the data plane on the VM tier)', function () {
  this.timeout(900_000);

  it('up of the DaemonSet inventory stops before any step when no master\'s API answers, naming each master', async function () {
    this.timeout(300_000);
    await ensureLab();
    const inv = labInventoryCopy((t) => t, 'inventory/kube-keepalived-vip.yaml');
    const r = await cli(['up', inv]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /REFUSED no Kubernetes API answers on the masters \(master1: .+; master2: .+; master3: .+\)/);
    assert.match(r.stdout + r.stderr, /`lbdeploy manifest` prints the objects/);
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
