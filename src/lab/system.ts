/** The machine side of the lab: required packages and a Docker daemon. */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { $ } from '../shell-local.js';
import { LAB_DOCKERD_ARGS } from './topology.js';
import type { LabPaths } from './paths.js';
import { LabError } from '../errors.js';
import { sleep } from '../util/sleep.js';
import { dockerAnswers, type Log } from '../image/rootfs.js';

export { dockerAnswers, type Log };

/** Commands the lab needs on the machine, and the Debian package that brings each. */
const REQUIRED = [
  { command: 'docker', pkg: 'docker.io' },
  { command: 'dockerd', pkg: 'docker.io' },
  { command: 'debootstrap', pkg: 'debootstrap' },
  { command: 'ssh-keygen', pkg: 'openssh-client' },
  { command: 'tar', pkg: 'tar' },
  // Not for the lab hosts: the tests check rendered configs with the real validators on this machine.
  { command: 'haproxy', pkg: 'haproxy' },
  { command: 'keepalived', pkg: 'keepalived' },
  { command: 'nginx', pkg: 'nginx-light' },
  // The audit's HTML report is checked in headless Chromium.
  { command: 'chromium', pkg: 'chromium' },
  { command: 'systemd-analyze', pkg: 'systemd' },
  // The zsh completion script is run in a real zsh.
  { command: 'zsh', pkg: 'zsh' },
  // RHEL-family package checks are run against a real rpm database (packages built with rpmbuild).
  { command: 'rpmbuild', pkg: 'rpm' },
] as const;

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

export { LabError };

export function assertCanRunLab(): void {
  if (process.platform !== 'linux') throw new LabError('the lab runs on Linux only', { hint: 'run it on a Linux machine or VM' });
  if (process.getuid?.() !== 0) {
    throw new LabError('the lab needs root (it installs packages, runs dockerd and debootstrap)', { hint: 'run it as root, e.g. with sudo' });
  }
}

/** A command on the PATH, or (an absolute path) a file a package installs. */
async function commandExists(cmd: string): Promise<boolean> {
  if (cmd.startsWith('/')) return existsSync(cmd);
  return (await $`command -v ${cmd}`.nothrow().quiet()).exitCode === 0;
}

export async function ensurePackages(log: Log, extra: readonly { command: string; pkg: string }[] = []): Promise<void> {
  const missing = new Set<string>();
  for (const r of [...REQUIRED, ...extra]) if (!(await commandExists(r.command))) missing.add(r.pkg);
  if (missing.size === 0) return;
  const pkgs = [...missing];
  log(`installing ${pkgs.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Installed, never started: haproxy/keepalived/nginx must not start serving on this machine.
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# lbdeploy lab: no service starts while packages install\nexit 101\n', { mode: 0o755 });
  try {
    await $({ env })`apt-get update -qq`.quiet();
    await $({ env })`apt-get install -y -qq --no-install-recommends ${pkgs}`.quiet();
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
}


/** Use a running Docker daemon, or start one (and remember that we did, so `down` stops only ours). */
export async function ensureDockerd(paths: LabPaths, log: Log): Promise<void> {
  if (await dockerAnswers()) return;
  log('no Docker daemon answers: starting dockerd');
  mkdirSync(paths.dir, { recursive: true });
  const out = openSync(paths.dockerdLog, 'a');
  const child = spawn('dockerd', [...LAB_DOCKERD_ARGS], { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  writeFileSync(paths.dockerdPid, `${child.pid}\n`);
  for (let i = 0; i < 120; i++) {
    if (await dockerAnswers()) return;
    if (child.exitCode !== null) break;
    await sleep(500);
  }
  throw new LabError('dockerd did not come up within 60 s', { hint: `see ${paths.dockerdLog}` });
}

/** The pid recorded in a pid file, if that process still runs. */
export function livePid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Stop a process the lab started (recorded in a pid file): SIGTERM, then SIGKILL after `graceMs`. */
export async function stopPidFile(file: string, what: string, graceMs: number, log: Log): Promise<void> {
  const pid = livePid(file);
  if (pid) {
    log(`stopping ${what} (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; waited < graceMs && isAlive(pid); waited += 250) await sleep(250);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(file, { force: true });
}

/** Stop the daemon only if the lab started it. */
export async function stopOwnDockerd(paths: LabPaths, log: Log): Promise<void> {
  await stopPidFile(paths.dockerdPid, 'the dockerd the lab started', 30_000, log);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export { sleep };
