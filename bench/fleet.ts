/**
 * `npm run bench` (second part): `lbdeploy up` on the lab's scale profile at N = 10, 50 and 100
 * light LB hosts (BENCH_SIZES=10,50,100), each figure against the floor measured in the same run:
 * N parallel OpenSSH `ssh host true`. Converge, no-op and a one-file change (haproxy.cfg with its
 * reload); the lbdeploy process's CPU seconds and peak memory (GNU time); SSH connections and
 * remote commands per host. Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labPaths } from '../src/lab/paths.js';
import { scaleInventoryPath } from '../src/lab/scale.js';
import { scaleHosts } from '../src/lab/topology.js';

const SIZES = (process.env.BENCH_SIZES ?? '10,50,100').split(',').map(Number);
const RUNS = Number(process.env.BENCH_FLEET_RUNS ?? 3);
const MAIN = resolve('dist/src/cli/main.js');
const paths = labPaths();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sh(script: string): void {
  const r = spawnSync('/bin/bash', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script.slice(0, 200)}`);
}

function onAll(n: number, command: string): string {
  return scaleHosts(n).map((h) => `ssh -i ${paths.clientKey} -o UserKnownHostsFile=${paths.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes root@${h.address} ${JSON.stringify(command)} &`).join('\n') + '\nwait';
}

/** N OpenSSH clients at once, each connecting, authenticating and running `true`. */
function floor(n: number): number {
  const t = process.hrtime.bigint();
  sh(onAll(n, 'true'));
  return Number(process.hrtime.bigint() - t) / 1e6;
}

interface Measure {
  ms: number;
  cpuS: number;
  maxRssMiB: number;
  connections: number;
  commandsPerHost: number;
  changed: number;
}

/** One `up`, timed from outside (process start included), with GNU time's CPU and peak RSS. */
function up(inventory: string): Measure {
  const stats = join(tmpdir(), `lbdeploy-bench-time-${process.pid}`);
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', stats, process.execPath, MAIN, 'up', inventory, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error) throw new Error(`GNU time is needed for CPU and memory figures (apt-get install time): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`up failed (${r.status}): ${r.stdout.slice(-2000)}${r.stderr}`);
  const [user, sys, rssKiB] = readFileSync(stats, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const recap = r.stdout.split('\n').filter((l) => l.includes('"type":"recap"')).map((l) => JSON.parse(l) as { connections: number; commands: Record<string, number>; hosts: Record<string, { changed: number }> }).pop()!;
  const per = Object.values(recap.commands);
  return {
    ms, cpuS: user! + sys!, maxRssMiB: rssKiB! / 1024, connections: recap.connections,
    commandsPerHost: per.reduce((a, b) => a + b, 0) / Math.max(1, per.length),
    changed: Object.values(recap.hosts).reduce((a, h) => a + h.changed, 0),
  };
}

function med(ms: Measure[]): Measure {
  const pick = (k: keyof Measure) => median(ms.map((m) => m[k]));
  return { ms: pick('ms'), cpuS: pick('cpuS'), maxRssMiB: pick('maxRssMiB'), connections: pick('connections'), commandsPerHost: pick('commandsPerHost'), changed: pick('changed') };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-bench-fleet-'));
  console.log(`lbdeploy fleet bench: the scale profile (light LB hosts in clusters of two, haproxy-keepalived), median of ${RUNS} runs, process start included`);
  console.log(`  ${'N'.padStart(3)}  ${'what'.padEnd(26)} ${'ms'.padStart(7)} ${'x floor'.padStart(8)} ${'CPU s'.padStart(6)} ${'CPU ms/host'.padStart(11)} ${'peak MiB'.padStart(8)} ${'conns'.padStart(5)} ${'cmds/host'.padStart(9)} ${'changed'.padStart(7)}`);
  for (const n of SIZES) {
    const t0 = Date.now();
    const lab = spawnSync(process.execPath, [MAIN, 'lab', 'up', '--scale', String(n)], { encoding: 'utf8' });
    if (lab.status !== 0) throw new Error(`lab up --scale ${n} failed: ${lab.stderr.slice(-2000)}`);
    const labS = (Date.now() - t0) / 1000;
    const inventory = join(dir, `scale-${n}.yaml`);
    const base = readFileSync(scaleInventoryPath(paths), 'utf8');
    writeFileSync(inventory, base);
    up(inventory); // warm: converged once
    const runs = { floor: [] as number[], converge: [] as Measure[], noop: [] as Measure[], change: [] as Measure[] };
    for (let i = 0; i < RUNS; i++) {
      runs.floor.push(floor(n));
      // Converge: both configs differ and the sysctl file is gone (rewrites, reloads, sysctl --system).
      sh(onAll(n, "echo '# bench' >> /etc/haproxy/haproxy.cfg; echo '# bench' >> /etc/keepalived/keepalived.conf; rm -f /etc/sysctl.d/60-lbdeploy-ha.conf"));
      runs.converge.push(up(inventory));
      runs.noop.push(up(inventory));
      // One file: haproxy.cfg (maxconn), then its reload, on every host.
      writeFileSync(inventory, base.replace('  haproxy:\n', `  haproxy:\n    maxconn: ${5000 + i}\n`));
      runs.change.push(up(inventory));
      writeFileSync(inventory, base);
      up(inventory);
    }
    const f = median(runs.floor);
    const row = (what: string, m: Measure | undefined, ms: number) =>
      console.log(`  ${String(n).padStart(3)}  ${what.padEnd(26)} ${ms.toFixed(0).padStart(7)} ${(ms / f).toFixed(2).padStart(8)} ${m ? m.cpuS.toFixed(2).padStart(6) : ''.padStart(6)} ${m ? ((m.cpuS * 1000) / n).toFixed(1).padStart(11) : ''.padStart(11)} ${m ? m.maxRssMiB.toFixed(0).padStart(8) : ''.padStart(8)} ${m ? String(m.connections).padStart(5) : ''.padStart(5)} ${m ? m.commandsPerHost.toFixed(1).padStart(9) : ''.padStart(9)} ${m ? String(m.changed).padStart(7) : ''.padStart(7)}`);
    row(`floor: ${n} x ssh host true`, undefined, f);
    row('up, converge', med(runs.converge), med(runs.converge).ms);
    row('up, no-op', med(runs.noop), med(runs.noop).ms);
    row('up, one file + reload', med(runs.change), med(runs.change).ms);
    const noop = med(runs.noop);
    console.log(`       lab up --scale ${n}: ${labS.toFixed(0)} s; targets: no-op ${n <= 10 ? '<= 1.2x' : n >= 100 ? '<= 0.7x and < 3 s' : '-'} floor, < 15 ms CPU per host -> ${(noop.ms / f).toFixed(2)}x, ${((noop.cpuS * 1000) / n).toFixed(1)} ms/host`);
  }
}

main();
