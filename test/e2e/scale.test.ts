/**
 * The scale profile and rolling changes: `lab up --scale 50` (25 clusters of two light LB hosts,
 * each its own VIP), a haproxy change rolled over all 25 with `up --serial 5` while the client
 * requests every VIP at a bounded rate (not one request may fail), and a batch whose health gate
 * fails stopping the rollout with the rest untouched and the command that resumes it.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, events } from '../helpers/cli.js';
import { ensureLab, onHost } from '../helpers/lab.js';
import { labPaths } from '../../src/lab/paths.js';
import { scaleInventoryPath } from '../../src/lab/scale.js';
import { scaleClusters } from '../../src/lab/topology.js';
import { $ } from '../../src/shell-local.js';

const N = Number(process.env.LBDEPLOY_SCALE_TEST_HOSTS ?? 50);
const CLUSTERS = scaleClusters(N);
const VIPS = CLUSTERS.map((c) => c.vip);

/** On the client: every VIP in turn, a pause between rounds, until told to stop (at most 900 rounds). */
const PROBER = `rm -f /tmp/probe.log /tmp/probe.stop; nohup sh -c 'n=0; while [ ! -e /tmp/probe.stop ] && [ $n -lt 900 ]; do for v in ${VIPS.join(' ')}; do if curl -s -o /dev/null -m 2 http://$v/; then echo "ok $v"; else echo "fail $v"; fi; done; n=$((n+1)); sleep 0.2; done' >/tmp/probe.log 2>&1 </dev/null &`;

describe(`scale profile: ${N} light LB hosts, a rolling change over ${CLUSTERS.length} clusters`, function () {
  this.timeout(900_000);
  let dir: string;
  let inv: string;

  before(async function () {
    this.timeout(1_200_000);
    await ensureLab();
    const available = () => Number(/MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024;
    const before = available();
    const t0 = Date.now();
    const up = await cli(['lab', 'up', '--scale', String(N)]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const started = Number(/(\d+) scale host\(s\) started/.exec(up.stderr)?.[1] ?? 0);
    // Docker's per-container memory figures are empty in this sandbox: the machine's available memory tells instead.
    console.log(`      lab up --scale ${N}: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${started} host(s) started` +
      (started > 0 ? `, about ${((before - available()) / started).toFixed(0)} MiB of memory each` : ''));
    const running = (await $`docker ps --filter label=io.lbdeploy.lab.role=light --format ${'{{.Names}}'}`.quiet()).stdout.split('\n').filter(Boolean);
    assert.equal(running.length, N);
    dir = mkdtempSync(join(tmpdir(), 'lbd-scale-'));
    inv = join(dir, 'scale.yaml');
    // A copy of the generated inventory (its key paths are absolute): the tests edit theirs.
    writeFileSync(inv, readFileSync(scaleInventoryPath(labPaths()), 'utf8'));
    const conv = await cli(['up', inv]);
    assert.equal(conv.code, 0, conv.stdout.slice(-3000) + conv.stderr);
  });

  after(async () => {
    await onHost('client', 'touch /tmp/probe.stop').catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    // The other suites do not need a hundred containers beside them.
    await cli(['lab', 'up', '--scale', '0']);
  });

  it(`rolls a haproxy change over ${CLUSTERS.length} clusters, 5 a batch, holders last, each batch gated: 0 failed requests`, async () => {
    writeFileSync(inv, readFileSync(inv, 'utf8').replace('  haproxy:\n', '  haproxy:\n    maxconn: 5000\n'));
    await onHost('client', PROBER);
    let r;
    try {
      await new Promise((res) => setTimeout(res, 2000));
      r = await cli(['up', inv, '--serial', '5', '--json']);
    } finally {
      await new Promise((res) => setTimeout(res, 2000));
      await onHost('client', 'touch /tmp/probe.stop');
    }
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr);
    await new Promise((res) => setTimeout(res, 3000));
    const log = (await onHost('client', 'cat /tmp/probe.log')).trim().split('\n');
    const failed = log.filter((l) => !l.startsWith('ok '));
    const e = events(r.stdout);
    const batches = e.filter((x) => x.type === 'batch-done') as unknown as { index: number; ok: boolean; ms: number; gateMs: number; backups: string[]; holders: string[] }[];
    const done = e.find((x) => x.type === 'rollout-done') as { ms: number } | undefined;
    console.log(`      rollout: ${batches.length} batches in ${((done?.ms ?? 0) / 1000).toFixed(1)} s; gates ${batches.map((b) => (b.gateMs / 1000).toFixed(1)).join(', ')} s; ${log.length} requests through ${VIPS.length} VIPs, ${failed.length} failed`);
    assert.deepEqual(failed, [], 'not one request through any VIP failed');
    assert.ok(log.length >= VIPS.length * 10, `${log.length} requests: the prober ran through the rollout`);
    assert.equal(batches.length, Math.ceil(CLUSTERS.length / 5));
    assert.ok(batches.every((b) => b.ok));
    // Each batch: its 5 current holders after its 5 backups; every reload of a holder after the backups'.
    const reloads = e.filter((x) => x.type === 'step' && x.step === 'reload haproxy' && x.status === 'changed').map((x) => String(x.host));
    assert.equal(reloads.length, N, 'haproxy reloaded once on every host');
    for (const b of batches) {
      assert.equal(b.holders.length, Math.min(5, b.backups.length));
      const lastBackup = Math.max(...b.backups.map((h) => reloads.indexOf(h)));
      assert.ok(b.holders.every((h) => reloads.indexOf(h) > lastBackup), `batch ${b.index}: holders ${b.holders.join(',')} after ${b.backups.join(',')}`);
    }
    const recap = e.filter((x) => x.type === 'recap').pop() as { connections: number };
    assert.equal(recap.connections, N + 1, 'one connection per host (and the client) for the whole rollout');
  });

  it('a batch whose health gate fails stops the rollout: the rest untouched, the command to resume printed', async () => {
    // Cluster 7 (batch 2) sends to a port nothing listens on: it converges, and its gate cannot pass.
    const broken = readFileSync(inv, 'utf8').replace('    maxconn: 5000\n', '    maxconn: 6000\n')
      .replace(/( {2}c07:\n {4}vars: \{ )/, '$1haproxy: { maxconn: 6000, services: [{ name: web, port: 80, backend_group: web, backend_port: 81, verify_http: true }] }, ');
    writeFileSync(inv, broken);
    const r = await cli(['up', inv, '--serial', '5', '--wait', '15', '--json']);
    assert.equal(r.code, 1, r.stdout.slice(-2000));
    const e = events(r.stdout);
    const stopped = e.find((x) => x.type === 'rollout-stopped') as { after: number; reason: string; resume: string };
    assert.equal(stopped.after, 2);
    assert.match(stopped.reason, /batch 2 failed \(health gate not passed within 15 s\); batches 3\.\.\d+ untouched/);
    const rest = CLUSTERS.slice(5).flatMap((c) => c.hosts.map((h) => h.name));
    assert.equal(stopped.resume, `lbdeploy up ${inv} --serial 5 --wait 15 --json --limit ${rest.join(',')}`);
    const touched = new Set(e.filter((x) => x.type === 'step').map((x) => String(x.host)));
    const untouched = CLUSTERS.slice(10).flatMap((c) => c.hosts.map((h) => h.name));
    assert.deepEqual(untouched.filter((h) => touched.has(h)), [], 'batches 3.. never ran');
    // Put it right, and resume where it said: the rest converges.
    writeFileSync(inv, broken.replace('backend_port: 81', 'backend_port: 80'));
    const resumed = await cli([...stopped.resume.split(' ').slice(1)]);
    assert.equal(resumed.code, 0, resumed.stdout.slice(-2000));
  });

  it('options that cannot work together are refused before anything connects (exit 3)', async () => {
    const cases: [string[], RegExp][] = [
      [['--max-fail', '1'], /--max-fail counts failed batches: it goes with --serial/],
      [['--serial', '5', '--check'], /--serial rolls a change batch by batch/],
      [['--serial', '5', '--no-wait'], /cannot go with --no-wait/],
      [['--serial', '0'], /--serial takes a number of clusters per batch/],
      [['--serial', '5', '--max-fail', '1.5'], /--max-fail takes a whole number/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['up', inv, ...args]);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '', 'nothing ran');
    }
  });
});
