/**
 * `npm run bench`: how fast is `lbdeploy up` on the lab's three LB hosts, against the floor of
 * as many parallel `ssh host true`? Prints figures; asserts nothing (speed is measured, not tested).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labStatus, labUp } from '../src/lab/lab.js';
import { labPaths } from '../src/lab/paths.js';
import { LAB_HOSTS } from '../src/lab/topology.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LBS = LAB_HOSTS.filter((h) => h.role === 'lb');
const paths = labPaths();
const MAIN = resolve('dist/src/cli/main.js');

function ms(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sshFloor(): number {
  // Three OpenSSH clients at once, each connecting, authenticating and running `true`.
  const script = LBS.map((h) => `ssh -i ${paths.clientKey} -o UserKnownHostsFile=${paths.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes root@${h.address} true &`).join('\n') + '\nwait';
  return ms(() => {
    const r = spawnSync('/bin/sh', ['-c', script], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('ssh floor failed');
  });
}

function up(inventory: string): { ms: number; recap: { connections: number; commands: Record<string, number>; hosts: Record<string, { changed: number }> } } {
  let out = '';
  const t = ms(() => {
    const r = spawnSync(process.execPath, [MAIN, 'up', inventory, '--json'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`up failed (${r.status}): ${r.stdout}${r.stderr}`);
    out = r.stdout;
  });
  const recap = out.split('\n').filter((l) => l.includes('"type":"recap"')).map((l) => JSON.parse(l))[0];
  return { ms: t, recap };
}

function resetHosts(): void {
  // reset-failed also clears systemd's start rate limit: converging every 2 s restarts rsyslog more than 5 times in 10 s.
  const reset = 'rm -f /etc/rsyslog.d/30-lbdeploy.conf /etc/sysctl.d/60-lbdeploy.conf /etc/modules-load.d/lbdeploy.conf; sysctl -q -w net.ipv4.ip_nonlocal_bind=0; systemctl reset-failed rsyslog.service syslog.socket 2>/dev/null; true';
  const script = LBS.map((h) => `ssh -i ${paths.clientKey} -o UserKnownHostsFile=${paths.knownHosts} -o BatchMode=yes root@${h.address} '${reset}' &`).join('\n') + '\nwait';
  spawnSync('/bin/sh', ['-c', script], { stdio: 'inherit' });
}

async function main(): Promise<void> {
  const statuses = await labStatus().catch(() => []);
  if (!statuses.every((s) => s.ssh) || statuses.length === 0) await labUp((l) => process.stderr.write(`lab: ${l}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-bench-'));
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, `playbook: baseline
vars: { baseline_modules: [nf_conntrack, overlay] }
connection: { user: root, private_key: ${paths.clientKey}, known_hosts: ${paths.knownHosts}, host_key_checking: strict }
groups:
  lb:
    hosts:
${LBS.map((h) => `      ${h.name}: { address: ${h.address} }`).join('\n')}
`);
  up(inventory); // warm: packages installed, caches hot
  const converge: number[] = [];
  const noop: number[] = [];
  const floor: number[] = [];
  let last = up(inventory).recap;
  for (let i = 0; i < RUNS; i++) {
    resetHosts();
    converge.push(up(inventory).ms);
    const n = up(inventory);
    noop.push(n.ms);
    last = n.recap;
    floor.push(sshFloor());
  }
  const f = median(floor);
  const rows = [
    [`floor: ${LBS.length} parallel 'ssh host true'`, f],
    ['up, converge (3 files + sysctl + handler)', median(converge)],
    ['up, no-op re-run', median(noop)],
  ] as const;
  console.log(`lbdeploy bench: ${LBS.length} LB hosts, median of ${RUNS} runs (process start included)`);
  for (const [what, t] of rows) console.log(`  ${what.padEnd(44)} ${t.toFixed(0).padStart(6)} ms   ${(t / f).toFixed(2)}x floor`);
  console.log(`  no-op run: ${last.connections} SSH connection(s); remote commands per host: ${Object.entries(last.commands).map(([h, n]) => `${h}=${n}`).join(' ')}`);
  console.log(`  no-op changed: ${Object.values(last.hosts).reduce((a, h) => a + h.changed, 0)}; target: no-op within 2x floor -> ${median(noop) / f <= 2 ? 'met' : 'NOT met'}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
