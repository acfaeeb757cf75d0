/**
 * `npm run bench` (second part): `lbdeploy up` on the lab's scale profile at N = 10, 50 and 100
 * light LB hosts (BENCH_SIZES=10,50,100), each figure against the floor measured in the same run:
 * N parallel OpenSSH `ssh host true`. Converge, no-op and a one-file change (haproxy.cfg with its
 * reload); the lbdeploy process's CPU seconds and peak memory (GNU time); SSH connections and
 * remote commands per host, and the most connections open at once (BENCH_FORKS, default 20, caps them); and the CPU the fleet's hosts themselves spent per host (their
 * containers' cgroups, the idle rate measured first and subtracted: keepalived's checks tick on).
 * With BENCH_LATENCY=0,50 (the default) the floor and the no-op again with 50 ms added to every SSH
 * round trip (bench/latency-relay.ts: this kernel has no netem), and each no-op's phases from its
 * timings event.
 * Prints figures; asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labPaths } from '../src/lab/paths.js';
import { scaleInventoryPath } from '../src/lab/scale.js';
import { containerName, scaleHosts } from '../src/lab/topology.js';

const SIZES = (process.env.BENCH_SIZES ?? '10,50,100').split(',').map(Number);
const RUNS = Number(process.env.BENCH_FLEET_RUNS ?? 3);
/** `up --forks`: hosts worked on, and SSH connections open, at once (lbdeploy's default is 20). */
const FORKS = process.env.BENCH_FORKS ?? '20';
const MAIN = resolve('dist/src/cli/main.js');
/** Added latency profiles (ms added to each SSH round trip): BENCH_LATENCY=0,50. */
const LATENCIES = (process.env.BENCH_LATENCY ?? '0,50').split(',').map(Number);
const paths = labPaths();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sh(script: string): void {
  const r = spawnSync('/bin/bash', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script.slice(0, 200)}`);
}

function onAll(n: number, command: string, sshConfig?: string): string {
  const keys = sshConfig ? `-F ${sshConfig} -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR` : `-o UserKnownHostsFile=${paths.knownHosts} -o StrictHostKeyChecking=yes`;
  return scaleHosts(n).map((h) => `ssh -i ${paths.clientKey} ${keys} -o BatchMode=yes root@${h.address} ${JSON.stringify(command)} &`).join('\n') + '\nwait';
}

/** Each host's container CPU counter (ns), cgroup v1 (cpuacct) or v2 (cpu.stat); undefined where neither is readable. */
function cpuCounters(n: number): (() => number) | undefined {
  const ids = spawnSync('docker', ['inspect', '-f', '{{.Id}}', ...scaleHosts(n).map(containerName)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  const files = ids.map((id) => [`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`].find((f) => existsSync(f)));
  if (ids.length !== n || files.some((f) => f === undefined)) return undefined;
  return () => files.reduce((sum, f) => {
    const text = readFileSync(f!, 'utf8');
    return sum + (f!.endsWith('cpu.stat') ? Number(/usage_usec (\d+)/.exec(text)?.[1] ?? 0) * 1000 : Number(text.trim()));
  }, 0);
}

/** The hosts' CPU ms per host spent while `fn` ran, less what they spend idle in that time. */
function hostCpu<T>(counter: (() => number) | undefined, idleNsPerMs: number, n: number, fn: () => T): { value: T; hostMs?: number; ms: number } {
  const t = process.hrtime.bigint();
  const before = counter?.();
  const value = fn();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (!counter || before === undefined) return { value, ms };
  return { value, ms, hostMs: Math.max(0, counter() - before - idleNsPerMs * ms) / 1e6 / n };
}

/** N OpenSSH clients at once, each connecting, authenticating and running `true`. */
function floor(n: number, sshConfig?: string): number {
  const t = process.hrtime.bigint();
  sh(onAll(n, 'true', sshConfig));
  return Number(process.hrtime.bigint() - t) / 1e6;
}

interface Measure {
  ms: number;
  cpuS: number;
  maxRssMiB: number;
  connections: number;
  /** The most SSH connections open at once (lbdeploy's own count; --forks caps it). */
  peakOpen: number;
  commandsPerHost: number;
  changed: number;
  /** CPU ms each fleet host spent on this run (background subtracted). */
  hostMs?: number;
  /** The run's timings event: ms per phase, summed over the hosts. */
  phases: Record<string, number>;
}

/** One `up`, timed from outside (process start included), with GNU time's CPU and peak RSS. */
function up(inventory: string): Measure {
  const stats = join(tmpdir(), `lbdeploy-bench-time-${process.pid}`);
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', stats, process.execPath, MAIN, 'up', inventory, '--json', '--forks', FORKS], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error) throw new Error(`GNU time is needed for CPU and memory figures (apt-get install time): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`up failed (${r.status}): ${r.stdout.slice(-2000)}${r.stderr}`);
  const [user, sys, rssKiB] = readFileSync(stats, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const recap = r.stdout.split('\n').filter((l) => l.includes('"type":"recap"')).map((l) => JSON.parse(l) as { connections: number; peakOpen?: number; commands: Record<string, number>; hosts: Record<string, { changed: number }> }).pop()!;
  // Every remote command on the fleet's hosts: the run's and its readiness wait's (the client's aside).
  const wait = r.stdout.split('\n').filter((l) => l.includes('"type":"wait-done"')).map((l) => JSON.parse(l) as { commands?: Record<string, number>; connections?: number; peakOpen?: number }).pop();
  const phases = r.stdout.split('\n').filter((l) => l.includes('"type":"timings"')).map((l) => JSON.parse(l) as { totals: Record<string, number> }).pop()?.totals ?? {};
  const hosts = Object.keys(recap.commands);
  const total = hosts.reduce((a, h) => a + recap.commands[h]! + (wait?.commands?.[h] ?? 0), 0);
  return {
    ms, cpuS: user! + sys!, maxRssMiB: rssKiB! / 1024, connections: recap.connections + (wait?.connections ?? 0),
    peakOpen: Math.max(recap.peakOpen ?? 0, wait?.peakOpen ?? 0),
    commandsPerHost: total / Math.max(1, hosts.length),
    changed: Object.values(recap.hosts).reduce((a, h) => a + h.changed, 0),
    phases,
  };
}

function med(ms: Measure[]): Measure {
  const pick = (k: Exclude<keyof Measure, 'hostMs' | 'phases'>) => median(ms.map((m) => m[k]));
  const host = ms.map((m) => m.hostMs).filter((x): x is number => x !== undefined);
  // The phases of the run whose time is the median.
  const phases = [...ms].sort((a, b) => a.ms - b.ms)[Math.floor(ms.length / 2)]!.phases;
  return { ms: pick('ms'), cpuS: pick('cpuS'), maxRssMiB: pick('maxRssMiB'), connections: pick('connections'), peakOpen: pick('peakOpen'), commandsPerHost: pick('commandsPerHost'), changed: pick('changed'), hostMs: host.length > 0 ? median(host) : undefined, phases };
}

/** Phase totals as one line: where a run's time went on the hosts. */
function phaseLine(p: Record<string, number>, n: number): string {
  const order = ['connect', 'authenticate', 'lock', 'facts', 'apply', 'handlers', 'wait'];
  return order.filter((k) => p[k] !== undefined).map((k) => `${k} ${(p[k]! / n).toFixed(0)}`).join(', ') + ' (ms per host)';
}

/**
 * Added latency on every SSH round trip to the scale hosts, for `fn` (floor and no-op): tc netem
 * needs sch_netem, which this machine's kernel lacks, so bench/latency-relay.ts relays each host's
 * SSH on 127.0.0.1 with DELAY/2 ms each way. An ssh config sends both OpenSSH (the floor) and
 * lbdeploy (the inventory's ssh_config) through it; host keys are not checked on the relayed ports.
 */
async function withLatency<T>(n: number, delayMs: number, inventory: string, fn: (o: { inventory: string; sshConfig: string }) => T): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve('bench/latency-relay.ts'), String(delayMs), ...scaleHosts(n).map((h) => h.address)], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = await new Promise<string[]>((res, rej) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready\n')) res(out.trim().split('\n').slice(0, -1));
      });
      child.on('exit', (code) => rej(new Error(`latency relay exited (${code})`)));
    });
    const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-bench-latency-'));
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(sshConfig, lines.map((l) => l.split(' ')).map(([a, port]) => `Host ${a}\n  HostName 127.0.0.1\n  Port ${port}\n`).join(''));
    const slow = join(dir, 'inventory.yaml');
    writeFileSync(slow, readFileSync(inventory, 'utf8').replace('host_key_checking: strict', `host_key_checking: off, ssh_config: ${JSON.stringify(sshConfig)}`));
    return fn({ inventory: slow, sshConfig });
  } finally {
    child.stdin.end();
    child.kill();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-bench-fleet-'));
  console.log(`lbdeploy fleet bench: the scale profile (light LB hosts in clusters of two, haproxy-keepalived), median of ${RUNS} runs, process start included, --forks ${FORKS}`);
  console.log(`  ${'N'.padStart(3)}  ${'what'.padEnd(26)} ${'ms'.padStart(7)} ${'x floor'.padStart(8)} ${'CPU s'.padStart(6)} ${'CPU ms/host'.padStart(11)} ${'peak MiB'.padStart(8)} ${'conns'.padStart(5)} ${'open'.padStart(4)} ${'cmds/host'.padStart(9)} ${'changed'.padStart(7)} ${'host CPU ms'.padStart(11)}`);
  for (const n of SIZES) {
    const t0 = Date.now();
    const lab = spawnSync(process.execPath, [MAIN, 'lab', 'up', '--scale', String(n)], { encoding: 'utf8' });
    if (lab.status !== 0) throw new Error(`lab up --scale ${n} failed: ${lab.stderr.slice(-2000)}`);
    const labS = (Date.now() - t0) / 1000;
    const inventory = join(dir, `scale-${n}.yaml`);
    const base = readFileSync(scaleInventoryPath(paths), 'utf8');
    writeFileSync(inventory, base);
    up(inventory); // warm: converged once
    const counter = cpuCounters(n);
    const idleStart = counter?.() ?? 0;
    const idleT = Date.now();
    spawnSync('sleep', ['5']);
    const idle = counter ? (counter() - idleStart) / (Date.now() - idleT) : 0;
    const timed = (fn: () => Measure): Measure => {
      const r = hostCpu(counter, idle, n, fn);
      return { ...r.value, hostMs: r.hostMs };
    };
    const runs = { floor: [] as number[], floorHost: [] as number[], converge: [] as Measure[], noop: [] as Measure[], change: [] as Measure[] };
    for (let i = 0; i < RUNS; i++) {
      const fl = hostCpu(counter, idle, n, () => floor(n));
      runs.floor.push(fl.value);
      if (fl.hostMs !== undefined) runs.floorHost.push(fl.hostMs);
      // Converge: both configs differ and the sysctl file is gone (rewrites, reloads, sysctl --system).
      sh(onAll(n, "echo '# bench' >> /etc/haproxy/haproxy.cfg; echo '# bench' >> /etc/keepalived/keepalived.conf; rm -f /etc/sysctl.d/60-lbdeploy-ha.conf"));
      runs.converge.push(timed(() => up(inventory)));
      runs.noop.push(timed(() => up(inventory)));
      // One file: haproxy.cfg (maxconn), then its reload, on every host.
      writeFileSync(inventory, base.replace('  haproxy:\n', `  haproxy:\n    maxconn: ${5000 + i}\n`));
      runs.change.push(timed(() => up(inventory)));
      writeFileSync(inventory, base);
      up(inventory);
    }
    const f = median(runs.floor);
    const hostCol = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0)).padStart(11);
    const row = (what: string, m: Measure | undefined, ms: number, host?: number) =>
      console.log(`  ${String(n).padStart(3)}  ${what.padEnd(26)} ${ms.toFixed(0).padStart(7)} ${(ms / f).toFixed(2).padStart(8)} ${m ? m.cpuS.toFixed(2).padStart(6) : ''.padStart(6)} ${m ? ((m.cpuS * 1000) / n).toFixed(1).padStart(11) : ''.padStart(11)} ${m ? m.maxRssMiB.toFixed(0).padStart(8) : ''.padStart(8)} ${m ? String(m.connections).padStart(5) : ''.padStart(5)} ${m ? String(m.peakOpen).padStart(4) : ''.padStart(4)} ${m ? m.commandsPerHost.toFixed(1).padStart(9) : ''.padStart(9)} ${m ? String(m.changed).padStart(7) : ''.padStart(7)} ${hostCol(m ? m.hostMs : host)}`);
    row(`floor: ${n} x ssh host true`, undefined, f, runs.floorHost.length > 0 ? median(runs.floorHost) : undefined);
    row('up, converge', med(runs.converge), med(runs.converge).ms);
    row('up, no-op', med(runs.noop), med(runs.noop).ms);
    row('up, one file + reload', med(runs.change), med(runs.change).ms);
    const noop = med(runs.noop);
    console.log(`       no-op phases: ${phaseLine(noop.phases, n)}`);
    console.log(`       lab up --scale ${n}: ${labS.toFixed(0)} s; targets: no-op ${n <= 50 ? '<= 1.2x' : n >= 100 ? '<= 0.7x and < 3 s' : '-'} floor, < 15 ms CPU per host -> ${(noop.ms / f).toFixed(2)}x, ${((noop.cpuS * 1000) / n).toFixed(1)} ms/host`);
    for (const delay of LATENCIES.filter((d) => d > 0)) {
      // The same floor and no-op with every host's packets delayed: the extra round trips show.
      const slow = await withLatency(n, delay, inventory, (o) => {
        const fl: number[] = [];
        const ops: Measure[] = [];
        for (let i = 0; i < RUNS; i++) {
          fl.push(floor(n, o.sshConfig));
          ops.push(up(o.inventory));
        }
        return { floor: median(fl), noop: med(ops) };
      });
      console.log(`  ${String(n).padStart(3)}  ${`floor +${delay} ms latency`.padEnd(26)} ${slow.floor.toFixed(0).padStart(7)} ${'1.00'.padStart(8)}`);
      console.log(`  ${String(n).padStart(3)}  ${`up, no-op +${delay} ms`.padEnd(26)} ${slow.noop.ms.toFixed(0).padStart(7)} ${(slow.noop.ms / slow.floor).toFixed(2).padStart(8)}   (target <= 1.2x)`);
      console.log(`       no-op phases +${delay} ms: ${phaseLine(slow.noop.phases, n)}`);
    }
  }
}

await main();
