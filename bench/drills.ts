/**
 * `npx tsx bench/drills.ts`: the drill matrix on the lab, with figures: for each scenario and VIP, the
 * time until another node held the VIP, until requests succeeded again, failed/total at a fixed rate
 * (h2load from the client, 200 requests/s by default) and p50/p99 latency. Containers for
 * haproxy-keepalived (inventory/lab.yaml, plus fast mode: VRRP v3 with 0.1 s adverts), the VM tier for
 * IPVS (BENCH_DRILLS_VMS=1, inventory/lab-software-lb.yaml). Prints; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labUp } from '../src/lab/lab.js';
import { labPaths } from '../src/lab/paths.js';
import { failoverTable } from '../src/cli/failover.js';
import type { FailoverResult } from '../src/kinds/drill.js';

const MAIN = resolve('dist/src/cli/main.js');
const RATE = process.env.BENCH_DRILLS_RATE ?? '200';
const POWER = ['--power-off', 'docker kill lbdeploy-lab-{host} >/dev/null', '--power-on', 'docker start lbdeploy-lab-{host} >/dev/null'];

function lbdeploy(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30 * 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the lab inventory with its text changed (the lab's key and known_hosts by absolute path). */
function variant(file: string, change: (text: string) => string): string {
  const p = labPaths();
  const out = join(mkdtempSync(join(tmpdir(), 'lbdeploy-bench-drills-')), 'inventory.yaml');
  writeFileSync(out, change(readFileSync(file, 'utf8').replace('../.lbdeploy/lab/id_ed25519', p.clientKey).replace('../.lbdeploy/lab/known_hosts', p.knownHosts)));
  return out;
}

function matrix(label: string, inventory: string, extra: string[] = []): void {
  const up = lbdeploy(['up', inventory]);
  if (up.code !== 0) throw new Error(`up ${inventory} failed:\n${up.stdout}${up.stderr}`);
  const t0 = Date.now();
  const r = lbdeploy(['failover-test', inventory, '--json', '--history', 'none', '--rate', RATE, '--max-move', '6', ...extra]);
  let results: FailoverResult[] = [];
  try {
    results = JSON.parse(r.stdout) as FailoverResult[];
  } catch {
    throw new Error(`failover-test printed no JSON (exit ${r.code}):\n${r.stderr}`);
  }
  console.log(`\n## ${label} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n$ lbdeploy failover-test ${inventory} --rate ${RATE} --max-move 6 ${extra.join(' ')}\n`);
  console.log(failoverTable(results));
}

await labUp((m) => console.error(m), labPaths(), { vms: process.env.BENCH_DRILLS_VMS === '1' });
matrix('haproxy-keepalived, defaults (VRRP v2, advert_int 1), containers', 'inventory/lab.yaml', ['--scenario', 'all', ...POWER]);
// Fast mode: VRRP version 3 with 0.1 s adverts (no auth_pass: v3 has none).
const fast = variant('inventory/lab.yaml', (t) => t.replace('    check_fall: 1\n', '    check_fall: 1\n    vrrp_version: 3\n    advert_int: 0.1\n').replace(/\n {8}auth_pass: !secret lab-vrrp/, ''));
matrix('haproxy-keepalived, fast mode (VRRP v3, advert_int 0.1), containers', fast, ['--scenario', 'stop-keepalived,kill-haproxy,link-down,hang-keepalived,block-vrrp,power-off', ...POWER]);
lbdeploy(['up', 'inventory/lab.yaml']);
if (process.env.BENCH_DRILLS_VMS === '1') matrix('ipvs-keepalived on the VM tier', 'inventory/lab-software-lb.yaml', ['--max-move', '10']);
