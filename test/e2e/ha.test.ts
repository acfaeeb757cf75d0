/** The HA VIP (seeds 000/001) on the lab: converge, idempotency, verify, failover, reload without a VIP move. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { cli, events, FIXTURES, labInventoryCopy } from '../helpers/cli.js';
import { connectLab, ensureLab, onHost } from '../helpers/lab.js';
import { sh } from '../../src/connection/shell.js';

const LBS = ['lb1', 'lb2', 'lb3'];
const VIP = '198.18.0.100';
// The lab is dual stack: inventory/lab.yaml has an IPv6 VIP beside the IPv4 one.
const VIP6 = '2001:2::100';

async function holders(vip = VIP): Promise<string[]> {
  const out = await Promise.all(LBS.map(async (h) => ((await onHost(h, 'ip -o addr show')).includes(` ${vip}/`) ? h : '')));
  return out.filter(Boolean);
}

async function pids(): Promise<string[]> {
  return Promise.all(LBS.map((h) => onHost(h, 'systemctl show -p MainPID --value keepalived; systemctl show -p MainPID --value haproxy')));
}

function recap(stdout: string) {
  return events(stdout).find((e) => e.type === 'recap') as { hosts: Record<string, { changed: number; failed: number }> } | undefined;
}

describe('HA VIP with keepalived + haproxy (end-to-end on the lab)', function () {
  this.timeout(300_000);
  let inv: string;

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    // Start from LB hosts without haproxy/keepalived, and web hosts without the PROXY-protocol site.
    await Promise.all(LBS.map((h) => onHost(h, 'systemctl stop keepalived haproxy 2>/dev/null; DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq haproxy keepalived >/dev/null 2>&1; rm -rf /etc/keepalived /etc/haproxy /etc/sysctl.d/60-lbdeploy-ha.conf /var/lib/lbdeploy/handlers; ip addr del 198.18.0.100/24 dev eth0 2>/dev/null; ip addr del 2001:2::100/64 dev eth0 2>/dev/null; true')));
    await Promise.all(['web1', 'web2', 'web3'].map((h) => onHost(h, 'rm -f /etc/nginx/conf.d/lbdeploy-proxy-protocol.conf && systemctl reload nginx')));
    inv = labInventoryCopy();
  });

  it('converges: one VIP holder, haproxy and keepalived running everywhere', async () => {
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rc = recap(r.stdout)!;
    for (const h of LBS) assert.ok(rc.hosts[h]!.changed >= 5, `${h} changed ${rc.hosts[h]!.changed}`);
    for (const h of ['web1', 'web2', 'web3']) assert.ok(rc.hosts[h]!.changed >= 1);
    // `up` returned once the deployment served: it waited for its checks, and they all passed.
    const wait = events(r.stdout).find((e) => e.type === 'wait-done') as { ready: boolean; checks: number; ms: number } | undefined;
    assert.ok(wait?.ready, JSON.stringify(wait));
    assert.ok(wait.checks >= 13, `${wait.checks} checks`);
    // haproxy's service is followed through a file systemd writes (no process events needed, so in containers too).
    assert.match(await onHost('lb1', 'cat /etc/keepalived/keepalived.conf'), /^track_file haproxy_down \{/m);
    assert.match(await onHost('lb1', 'systemctl show haproxy -p ExecStopPost'), /echo 1 > \/run\/lbdeploy-haproxy\.down/);
    const v = await cli(['verify', inv, '--json']);
    assert.equal(v.code, 0, `verify right after up: ${v.stdout}`);
    // A backup may hold the VIP for a moment while lb1's health check reaches `rise`; then lb1 preempts.
    for (let i = 0; i < 30 && (await holders()).join() !== 'lb1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lb1'], 'the highest priority holds the VIP');
    assert.deepEqual(await holders(VIP6), ['lb1'], 'and the IPv6 VIP');
  });

  it('a second up reports 0 changed and reloads nothing', async () => {
    const before = await pids();
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stderr);
    for (const [h, s] of Object.entries(recap(r.stdout)!.hosts)) assert.equal(s.changed, 0, `${h} changed`);
    assert.equal(events(r.stdout).filter((e) => e.type === 'step' && e.handler).length, 0, 'no handler ran');
    assert.deepEqual(await pids(), before);
  });

  it('verify: exactly one holder, backends UP, round robin, the client address through PROXY v2', async () => {
    const r = await cli(['verify', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { check: string; target: string; severity: string; detail: string }[] };
    assert.equal(out.ok, true);
    const find = (check: string, target: string) => out.checks.find((c) => c.check === check && c.target.startsWith(target));
    assert.equal(find('vip holder', `VI_lab ${VIP}`)?.detail, 'held by lb1');
    assert.equal(find('vip holder', `VI_lab6 ${VIP6}`)?.detail, 'held by lb1');
    // Each service through each VIP; through the IPv6 one the backends see the client's IPv6 address.
    assert.deepEqual(out.checks.filter((c) => c.check === 'curl via vip').map((c) => `${c.target} ${c.severity}`), [
      `ingress-proxy ${VIP}:80 ok`, `ingress-proxy [${VIP6}]:80 ok`, `web-plain ${VIP}:81 ok`, `web-plain [${VIP6}]:81 ok`]);
    assert.deepEqual(out.checks.filter((c) => c.check === 'client address').map((c) => c.detail), ['backends saw 198.18.0.30 (PROXY v2)', 'backends saw 2001:2::30 (PROXY v2)']);
    assert.match(await onHost('client', `curl -6 -g -sS -m 3 http://[${VIP6}]:80/`), /^host=web\d client=2001:2::30 proxy=198\.18\.0\.1[123]$/m);
    assert.equal(find('round robin', 'web-plain')?.severity, 'ok');
    // Three services (the web ones and the kube-apiservers) on three nodes.
    assert.equal(out.checks.filter((c) => c.check === 'backends' && c.severity === 'ok').length, 9);
    assert.deepEqual(out.checks.filter((c) => c.check === 'https via vip').map((c) => `${c.target} ${c.severity}`), [
      `kube-apiserver ${VIP}:6443 ok`, `kube-apiserver [${VIP6}]:6443 ok`]);
  });

  it('verify fails on split brain (the VIP added by hand on a second node)', async () => {
    await onHost('lb3', `ip addr add ${VIP}/24 dev eth0`);
    try {
      const r = await cli(['verify', inv, '--json']);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as { checks: { check: string; severity: string; detail: string }[] };
      assert.match(out.checks.find((c) => c.check === 'vip holder')!.detail, /split brain: held by lb1, lb3/);
    } finally {
      await onHost('lb3', `ip addr del ${VIP}/24 dev eth0`);
    }
  });

  interface Drill { scenario: string; vip: string; ok: boolean; vipMovedS?: number; servingS?: number; holderBefore: string; holderAfter?: string; requests: number; failedRequests: number; p50Ms?: number; p99Ms?: number; splitBrain?: string[]; problem?: string }
  const drill = async (scenarios: string): Promise<Drill[]> => {
    const r = await cli(['failover-test', inv, '--json', '--max-move', '5', '--scenario', scenarios, '--history', 'none']);
    const results = JSON.parse(r.stdout) as Drill[];
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Each drill leaves the VIPs back on lb1 (it preempts), before the next one starts.
    for (let i = 0; i < 20 && (await holders()).join() !== 'lb1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lb1'], 'the VIP is back on lb1 after the drill');
    assert.deepEqual(await holders(VIP6), ['lb1'], 'and the IPv6 VIP');
    return results;
  };

  it('failover-test (default): keepalived stopped and haproxy killed on the holder, under h2load at 200 requests/s through both VIPs', async () => {
    const results = await drill('default');
    assert.deepEqual(results.map((x) => `${x.scenario} ${x.vip}`), [
      `stop-keepalived ${VIP}`, `stop-keepalived ${VIP6}`, `stop-haproxy ${VIP}`, `stop-haproxy ${VIP6}`, `kill-haproxy ${VIP}`, `kill-haproxy ${VIP6}`]);
    for (const x of results) {
      assert.equal(x.holderBefore, 'lb1');
      // The load ran at the fixed rate for the whole window: 200/s x (2 x 5 + 4) s, every request counted.
      assert.equal(x.requests, 2800, JSON.stringify(x));
      assert.ok(x.servingS !== undefined && x.p50Ms !== undefined && x.p99Ms! >= x.p50Ms, JSON.stringify(x));
      assert.ok(x.failedRequests < x.requests / 2, JSON.stringify(x));
    }
    // A polite stop moves the VIP to the next priority; a killed haproxy is restarted by systemd at once (RestartSec=0).
    for (const x of results.filter((r) => r.scenario.startsWith('stop-'))) assert.equal(x.holderAfter, 'lb2', JSON.stringify(x));
    for (const x of results.filter((r) => r.scenario === 'kill-haproxy')) assert.ok(x.servingS! < 2, JSON.stringify(x));
  });

  it('failover-test: planned work loses nothing (haproxy reloaded on every node while the load runs)', async () => {
    const results = await drill('reload-haproxy');
    assert.equal(results.length, 2);
    for (const x of results) {
      assert.equal(x.vipMovedS, undefined, 'the VIP stayed');
      assert.equal(x.failedRequests, 0, JSON.stringify(x));
      assert.equal(x.requests, 2800);
    }
  });

  it('failover-test: VRRP blocked on the holder and keepalived hung: a backup takes over and the drill names the split brain', async () => {
    const results = await drill('block-vrrp,hang-keepalived');
    assert.deepEqual(results.map((x) => `${x.scenario} ${x.vip}`), [`block-vrrp ${VIP}`, `block-vrrp ${VIP6}`, `hang-keepalived ${VIP}`, `hang-keepalived ${VIP6}`]);
    for (const x of results) {
      assert.equal(x.ok, true, JSON.stringify(x));
      assert.deepEqual([...x.splitBrain!].sort(), ['lb1', 'lb2'], JSON.stringify(x));
      assert.equal(x.holderAfter, 'lb2');
    }
    // The rules are gone: VRRP flows again (lb1 preempted back, checked by drill()).
    assert.doesNotMatch(await onHost('lb1', 'iptables -S INPUT; ip6tables -S INPUT'), /-p (112|vrrp)/);
  });

  it('failover-test --scenario power-off: the holder container killed and started by the given commands; the VIP moves and comes back', async () => {
    const r = await cli(['failover-test', inv, '--json', '--scenario', 'power-off', '--history', 'none', '--max-move', '6',
      '--power-off', 'docker kill lbdeploy-lab-{host} >/dev/null', '--power-on', 'docker start lbdeploy-lab-{host} >/dev/null']);
    const results = JSON.parse(r.stdout) as Drill[];
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const x of results) {
      assert.equal(x.holderBefore, 'lb1');
      assert.equal(x.holderAfter, 'lb2');
      assert.ok(x.vipMovedS! < 6, JSON.stringify(x));
    }
    for (let i = 0; i < 40 && (await holders()).join() !== 'lb1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lb1'], 'lb1 is back and holds the VIP again');
  });

  it('drain lb1: both VIPs move to lb2 and serve; up keeps lb1 drained; undrain gives them back to lb1', async () => {
    const d = await cli(['drain', inv, 'lb1', '--json']);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.deepEqual((JSON.parse(d.stdout) as { holders: Record<string, string> }).holders, { [VIP]: 'lb2', [VIP6]: 'lb2' });
    assert.deepEqual(await holders(), ['lb2']);
    assert.equal((await onHost('lb1', 'cat /etc/keepalived/lbdeploy-drain')).trim(), '1');
    const up = await cli(['up', inv, '--json']);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await holders(), ['lb2'], 'a converge leaves a drained node drained');
    const u = await cli(['undrain', inv, 'lb1']);
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.match(u.stdout, /lb1 undrained in [\d.]+ s/);
    for (let i = 0; i < 20 && (await holders()).join() !== 'lb1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lb1'], 'lb1 preempted back');
    const bad = await cli(['drain', inv, 'web1']);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /web1 is not a node of any VRRP cluster/);
  });

  it('an operator\'s rolling restart of keepalived: backups first, the VIP holder drained before its disruptive step and undrained after', async () => {
    const r = await cli(['up', inv, '--playbook', join(FIXTURES, 'rolling-restart.ts'), '--json', '--no-wait']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const seq = events(r.stdout).filter((e) => e.type === 'step').map((e) => `${e.host as string}: ${e.step as string} ${e.status as string}`);
    const at = (line: string) => seq.findIndex((l) => l.startsWith(line));
    for (const backup of ['lb2', 'lb3']) {
      assert.ok(at(`${backup}: restart keepalived changed`) >= 0, seq.join('\n'));
      assert.ok(!seq.some((l) => l.startsWith(`${backup}: drain`)), 'a backup is not drained');
      assert.ok(at(`${backup}: restart keepalived`) < at('lb1: drain'), 'backups before the holder');
    }
    assert.ok(at('lb1: drain (VIP holder, before a disruptive change) changed') >= 0, seq.join('\n'));
    assert.ok(at('lb1: drain') < at('lb1: restart keepalived changed') && at('lb1: restart keepalived') < at('lb1: undrain (VIP holder) changed'), seq.join('\n'));
    assert.equal((await onHost('lb1', 'cat /etc/keepalived/lbdeploy-drain')).trim(), '0', 'undrained');
    for (let i = 0; i < 20 && (await holders()).join() !== 'lb1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lb1'], 'lb1 took its VIP back');
    // Nothing disruptive to do: no drain (a haproxy-keepalived no-op converge drains nobody either).
    const again = await cli(['up', inv, '--json']);
    assert.ok(!events(again.stdout).some((e) => e.type === 'step' && String(e.step).startsWith('drain')));
  });

  it('failover-test refuses --power-off without --power-on, and a scenario the inventory has not', async () => {
    const a = await cli(['failover-test', inv, '--power-off', 'true']);
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /--power-off and --power-on go together/);
    const b = await cli(['failover-test', inv, '--scenario', 'power-off']);
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /scenario power-off does not apply to this inventory[\s\S]*needs --power-off and --power-on/);
  });

  it('a config edit reloads haproxy and keepalived without moving the VIP or dropping requests', async () => {
    const before = await pids();
    const client = await connectLab('client');
    try {
      // Requests all along the reload: none may fail.
      const probe = client.exec(sh`i=0; f=0; while [ $i -lt 60 ]; do curl -s -o /dev/null -m 1 http://${VIP}:81/ || f=$((f+1)); i=$((i+1)); sleep 0.05; done; echo $f`);
      const edited = labInventoryCopy((t) => t.replace('  haproxy:\n', '  haproxy:\n    maxconn: 3000\n').replace('    check_fall: 1\n', '    check_fall: 1\n    check_rise: 3\n'));
      const r = await cli(['up', edited, '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      // Backups first, the VIP holder (lb1) last: all of lb1's steps come after lb2's and lb3's.
      const lbSteps = events(r.stdout).map((e, i) => ({ e, i })).filter(({ e }) => e.type === 'step' && e.play === 'load balancers');
      const lastBackup = Math.max(...lbSteps.filter(({ e }) => e.host !== 'lb1').map(({ i }) => i));
      const firstHolder = Math.min(...lbSteps.filter(({ e }) => e.host === 'lb1').map(({ i }) => i));
      assert.ok(firstHolder > lastBackup, 'the holder is converged after the backups');
      const handlers = events(r.stdout).filter((e) => e.type === 'step' && e.handler && e.status === 'changed').map((e) => `${String(e.host)} ${String(e.step)}`).sort();
      assert.deepEqual(handlers, LBS.flatMap((h) => [`${h} reload haproxy`, `${h} reload keepalived`]).sort());
      assert.equal((await probe).stdout.trim(), '0', 'no request failed during the reloads');
    } finally {
      await client.close();
    }
    assert.deepEqual(await pids(), before, 'keepalived got SIGHUP and haproxy a seamless reload: same main processes');
    assert.deepEqual(await holders(), ['lb1']);
    assert.match(await onHost('lb1', 'cat /etc/haproxy/haproxy.cfg'), /maxconn 3000/);
    const back = await cli(['up', inv, '--json']);
    assert.equal(back.code, 0);
  });

  it('up exits non-zero within its wait, naming the VIP, when keepalived is stopped on every node', async () => {
    await Promise.all(LBS.map((h) => onHost(h, 'systemctl stop keepalived')));
    try {
      const t0 = Date.now();
      // --skip-tags keepalived: the step that would start keepalived again does not run.
      const r = await cli(['up', inv, '--skip-tags', 'keepalived', '--wait', '6']);
      const s = (Date.now() - t0) / 1000;
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(s < 30, `gave up after ${s} s`);
      assert.match(r.stdout, /NOT READY after [67]\.\d s: \d+ of \d+ check\(s\) never passed/);
      assert.match(r.stdout, /CRITICAL vip holder VI_lab 198\.18\.0\.100: no node holds the VIP/);
      for (const h of LBS) assert.match(r.stdout, new RegExp(`WARNING keepalived ${h}: keepalived inactive`));
    } finally {
      await Promise.all(LBS.map((h) => onHost(h, 'systemctl start keepalived')));
    }
    const again = await cli(['up', inv]);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /READY after \d+\.\d s: \d+ check\(s\) ok/);
  });

  it('rejects an invalid model before connecting (auth_pass longer than 8), pointing at the inventory line', async () => {
    const bad = labInventoryCopy((t) => t.replace('auth_pass: !secret lab-vrrp', 'auth_pass: !secret lab-vrrp-too-long').replace(/198\.18\.0\.1[123]/g, '198.18.0.250'));
    const r = await cli(['up', bad]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /lab\.yaml:\d+:\d+: playbook haproxy-keepalived: auth_pass is 17 characters: keepalived silently uses only the first 8/);
    assert.ok(!r.stderr.includes('lab-vrrp-too-long'));
  });
});
