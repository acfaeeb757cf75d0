/**
 * Audits in real monitoring: `lbdeploy audit --serve` on the lab's gateway address, scraped by
 * Debian's prometheus on the lab's monitoring host with the shipped alert rules. The VIP is put on
 * a second node by hand (split brain): Prometheus's own HTTP API must show the alert firing, then
 * resolved once the extra address is gone.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cli, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, onHost } from '../helpers/lab.js';
import { LAB_NETWORK } from '../../src/lab/topology.js';
import { sleep } from '../../src/util/sleep.js';

const LISTEN = `${LAB_NETWORK.gateway}:9469`;
const PROMETHEUS = 'http://198.18.0.60:9090';
const VIP = '198.18.0.100';
const LBS = ['lb1', 'lb2', 'lb3'];

interface Alert { labels: Record<string, string>; state: string }

async function alerts(): Promise<Alert[]> {
  const r = await fetch(`${PROMETHEUS}/api/v1/alerts`, { signal: AbortSignal.timeout(5000) });
  return ((await r.json()) as { data: { alerts: Alert[] } }).data.alerts;
}

/** Poll until `test` holds (bounded); returns the seconds it took. */
async function until(what: string, limitS: number, test: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitS * 1000) {
    if (await test().catch(() => false)) return (Date.now() - t0) / 1000;
    await sleep(1000);
  }
  throw new Error(`${what}: not within ${limitS} s`);
}

const splitBrain = (a: Alert) => a.labels.alertname === 'LbdeployVipSplitBrain' && a.labels.vip === VIP;

describe('monitoring: the exporter scraped by the lab\'s Prometheus, the split-brain alert', function () {
  this.timeout(420_000);
  let exporter: ChildProcess | undefined;
  let exporterLog = '';
  let extra: string | undefined;
  let inv: string;

  before(async () => {
    await ensureLab();
    inv = labInventoryCopy();
    const up = await cli(['up', inv]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    exporter = spawn(process.execPath, [resolve('dist/src/cli/main.js'), 'audit', inv, '--serve', LISTEN, '--interval', '3', '--host-timeout', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    exporter.stdout!.on('data', (d) => (exporterLog += d));
    exporter.stderr!.on('data', (d) => (exporterLog += d));
    const rules = Buffer.from(readFileSync('files/prometheus/lbdeploy-alerts.yml')).toString('base64');
    const config = Buffer.from(`global: { scrape_interval: 2s, evaluation_interval: 2s }
rule_files: [/etc/prometheus/lbdeploy-alerts.yml]
scrape_configs:
  - job_name: lbdeploy
    static_configs: [{ targets: ['${LISTEN}'] }]
`).toString('base64');
    await onHost('mon', `echo ${rules} | base64 -d >/etc/prometheus/lbdeploy-alerts.yml && echo ${config} | base64 -d >/etc/prometheus/prometheus.yml
      promtool check config /etc/prometheus/prometheus.yml >/dev/null && systemctl restart prometheus`);
  });

  after(async () => {
    if (extra) await onHost(extra, `ip addr del ${VIP}/24 dev eth0 2>/dev/null || true`);
    if (exporter && exporter.exitCode === null) {
      const exited = new Promise((r) => exporter!.once('close', r));
      exporter.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (exporter.exitCode === null) exporter.kill('SIGKILL');
    }
  });

  it('serves /healthz and /metrics: the audit\'s checks, VIP holders, certificates, drift, its own time; no secret', async () => {
    await until('the exporter\'s first audit', 90, async () => (await fetch(`http://${LISTEN}/healthz`)).status === 200);
    const m = await (await fetch(`http://${LISTEN}/metrics`)).text();
    assert.match(m, /^lbdeploy_audit_up\{inventory="[^"]+lab\.yaml"\} 1$/m);
    assert.match(m, new RegExp(`^lbdeploy_vip_holders\\{inventory="[^"]+",vip="${VIP}",name="VI_lab"\\} 1$`, 'm'));
    assert.match(m, /^lbdeploy_vip_holders\{[^}]*vip="2001:2::100"[^}]*\} 1$/m);
    assert.match(m, /^lbdeploy_certificate_expiry_seconds\{[^}]*target="lb1 \/etc\/keepalived\/kubecfg\/kubecfg01\.conf"\} \d+$/m);
    assert.match(m, /^lbdeploy_drift_changes\{[^}]*target="lb1"\} 0$/m);
    assert.match(m, /^lbdeploy_audit_duration_seconds\{[^}]*\} \d+(\.\d+)?$/m);
    assert.doesNotMatch(m, /lab-vrrp|lab-stats-password/);
    assert.equal((await fetch(`http://${LISTEN}/nope`)).status, 404);
  });

  it('Prometheus scrapes it; holding the VIP on two nodes fires LbdeployVipSplitBrain, healing resolves it', async () => {
    await until('Prometheus scraping the exporter', 90, async () => {
      const r = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(`lbdeploy_vip_holders{vip="${VIP}"}`)}`);
      const data = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      return data.data.result[0]?.value[1] === '1';
    });
    assert.deepEqual((await alerts()).filter(splitBrain), [], 'no split brain before the test makes one');
    const held = await Promise.all(LBS.map(async (h) => (await onHost(h, 'ip -4 -o addr show dev eth0')).includes(` ${VIP}/`)));
    assert.equal(held.filter(Boolean).length, 1, 'one holder to start with');
    extra = LBS[held.indexOf(false)]!;
    await onHost(extra, `ip addr add ${VIP}/24 dev eth0`);
    const fired = await until('LbdeployVipSplitBrain firing', 150, async () => (await alerts()).some((a) => splitBrain(a) && a.state === 'firing'));
    const alert = (await alerts()).find(splitBrain)!;
    assert.equal(alert.labels.severity, 'critical');
    await onHost(extra, `ip addr del ${VIP}/24 dev eth0`);
    extra = undefined;
    const resolved = await until('LbdeployVipSplitBrain resolved', 90, async () => !(await alerts()).some(splitBrain));
    console.log(`      split brain: firing ${fired.toFixed(0)} s after the second holder appeared (rule for: 30s), resolved ${resolved.toFixed(0)} s after healing`);
    const after = await (await fetch(`http://${LISTEN}/metrics`)).text();
    assert.match(after, new RegExp(`vip="${VIP}",name="VI_lab"\\} 1$`, 'm'));
  });

  it('a drill failover-test records in the inventory\'s history shows on /metrics (and in Prometheus) at the next audit', async () => {
    const before = await (await fetch(`http://${LISTEN}/metrics`)).text();
    assert.doesNotMatch(before, /lbdeploy_drill_/, 'no drill recorded yet');
    // Both use the inventory's default history: the same file without being told.
    const drill = await cli(['failover-test', inv, '--scenario', 'stop-keepalived', '--json', '--lock-wait', '30']);
    assert.equal(drill.code, 0, drill.stdout + drill.stderr);
    const moved = (JSON.parse(drill.stdout) as { vip: string; vipMovedS: number }[]).find((r) => r.vip === VIP)!.vipMovedS;
    const series = new RegExp(`^lbdeploy_drill_vip_move_seconds\\{inventory="[^"]+",scenario="stop-keepalived",vip="${VIP}"\\} ${moved}$`, 'm');
    await until('the drill on /metrics', 30, async () => series.test(await (await fetch(`http://${LISTEN}/metrics`)).text()));
    const m = await (await fetch(`http://${LISTEN}/metrics`)).text();
    assert.match(m, new RegExp(`^lbdeploy_drill_passed\\{[^}]*scenario="stop-keepalived",vip="${VIP}"\\} 1$`, 'm'));
    await until('Prometheus has the drill', 30, async () => {
      const r = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(`lbdeploy_drill_vip_move_seconds{vip="${VIP}"}`)}`);
      return ((await r.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1] === String(moved);
    });
  });

  it('a scheduled second inventory gets its own timer and textfile (names per inventory)', async () => {
    const a = labInventoryCopy();
    const b = labInventoryCopy();
    const pa = await cli(['audit', a, '--print-schedule']);
    const pb = await cli(['audit', b, '--print-schedule']);
    const name = (t: string) => /^# crontab \(\/etc\/cron\.d\/(lbdeploy-audit-lab-[0-9a-f]{8})\):/m.exec(t)?.[1];
    assert.ok(name(pa.stdout) && name(pb.stdout), pa.stdout);
    assert.notEqual(name(pa.stdout), name(pb.stdout));
    assert.match(pa.stdout, /image: lbdeploy:\d+\.\d+\.\d+/);
    // Options that would do nothing where given are refused, not ignored.
    const image = await cli(['audit', a, '--image', 'registry.example/lbdeploy:1']);
    assert.equal(image.code, 3);
    assert.match(image.stderr, /--image .* goes with --print-schedule/);
    const interval = await cli(['audit', a, '--interval', '5']);
    assert.equal(interval.code, 3);
    assert.match(interval.stderr, /--interval .* goes with --serve/);
  });
});
