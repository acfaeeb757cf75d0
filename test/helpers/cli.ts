/** Run the built CLI as a user would, and write throw-away inventories for the lab. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { labKeepalivedArchive } from '../../src/lab/keepalived-image.js';
import { labPaths } from '../../src/lab/paths.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const MAIN = resolve('dist/src/cli/main.js');

export function cli(args: string[], env: NodeJS.ProcessEnv = {}, onSpawn?: (kill: (sig: NodeJS.Signals) => void, pid: number) => void): Promise<CliResult> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => res({ code, stdout, stderr }));
    onSpawn?.((sig) => child.kill(sig), child.pid!);
  });
}

/**
 * The SSH connections a process has open now, read from outside it: its socket file descriptors
 * matched against the kernel's established TCP connections to port 22 (/proc/net/tcp and tcp6).
 */
export function sshConnectionsOf(pid: number): number {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0; // the process has ended
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // remote address:port, state 01 = ESTABLISHED, inode
      if (f.length > 9 && f[2]!.endsWith(':0016') && f[3] === '01' && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

/** JSON-lines output of `up --json`. */
export function events(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A temporary inventory for the lab's LB hosts; `body` goes under the top level (vars, playbook...).
 * Connection paths are absolute, so the file can live anywhere.
 */
export function labInventory(body = '', options: { knownHosts?: string; lbExtra?: string; connection?: string } = {}): string {
  const p = labPaths();
  const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-inv-'));
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, `${body}
connection:
  user: root
  private_key: ${p.clientKey}
  known_hosts: ${options.knownHosts ?? p.knownHosts}
  host_key_checking: strict
  connect_timeout: 4
${options.connection ?? ''}
groups:
  lb:
    hosts:
      lb1: { address: 198.18.0.11 }
      lb2: { address: 198.18.0.12 }
      lb3: { address: 198.18.0.13 }
${options.lbExtra ?? ''}
`);
  return file;
}

export const FIXTURES = resolve('test/fixtures/playbooks');

/** A copy of a lab inventory (default inventory/lab.yaml) with absolute lab paths and `edit` applied to its text. */
export function labInventoryCopy(edit: (text: string) => string = (t) => t, source = 'inventory/lab.yaml'): string {
  const p = labPaths();
  const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-inv-'));
  const file = join(dir, basename(source));
  const text = readFileSync(resolve(source), 'utf8')
    .replace('../.lbdeploy/lab/id_ed25519', p.clientKey).replace('../.lbdeploy/lab/known_hosts', p.knownHosts)
    .replace('../.lbdeploy/lab/images/keepalived.tar.gz', labKeepalivedArchive(p));
  writeFileSync(file, edit(text));
  return file;
}
