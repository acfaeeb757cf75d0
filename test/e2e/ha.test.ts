/** The HA VIP (seeds 000/001) on the lab: converge, idempotency, verify, failover, reload without a VIP move. */
import { strict as assert } from 'node:assert';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
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
    assert.equal(out.checks.filter((c) => c.check === 'backends' && c.severity === 'ok').length, 6);
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

  it('failover-test: both VIPs move within 5 s when keepalived stops, and when haproxy dies, each reported', async () => {
    const r = await cli(['failover-test', inv, '--json', '--max-move', '5']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const results = JSON.parse(r.stdout) as { scenario: string; vip: string; ok: boolean; vipMovedS: number; servingS: number; holderBefore: string; holderAfter: string; requests: number }[];
    assert.deepEqual(results.map((x) => `${x.scenario} ${x.vip}`), [`keepalived ${VIP}`, `keepalived ${VIP6}`, `haproxy ${VIP}`, `haproxy ${VIP6}`]);
    for (const x of results) {
      assert.equal(x.ok, true, JSON.stringify(x));
      assert.ok(x.vipMovedS < 5, `${x.scenario}: ${x.vipMovedS} s`);
      assert.equal(x.holderBefore, 'lb1');
      assert.equal(x.holderAfter, 'lb2');
      assert.ok(x.requests > 50);
    }
    for (let i = 0; i < 20 && (await holders()).join() !== 'lb1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lb1'], 'the VIP is back on lb1 after the drill');
    assert.deepEqual(await holders(VIP6), ['lb1'], 'and the IPv6 VIP');
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
