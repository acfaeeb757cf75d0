/** The machine side of the lab: required packages and a Docker daemon. */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { $ } from 'zx';
import { LAB_DOCKERD_ARGS } from './topology.js';
import type { LabPaths } from './state.js';
import { LabError } from '../errors.js';

export type Log = (line: string) => void;

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
] as const;

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

export { LabError };

export function assertCanRunLab(): void {
  if (process.platform !== 'linux') throw new LabError('the lab runs on Linux only', { hint: 'run it on a Linux machine or VM' });
  if (process.getuid?.() !== 0) {
    throw new LabError('the lab needs root (it installs packages, runs dockerd and debootstrap)', { hint: 'run it as root, e.g. with sudo' });
  }
}

async function commandExists(cmd: string): Promise<boolean> {
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

export async function dockerAnswers(): Promise<boolean> {
  return (await $`docker info --format {{.ServerVersion}}`.nothrow().quiet().timeout('20s')).exitCode === 0;
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

/** Stop the daemon only if the lab started it. */
export async function stopOwnDockerd(paths: LabPaths, log: Log): Promise<void> {
  if (!existsSync(paths.dockerdPid)) return;
  const pid = Number(readFileSync(paths.dockerdPid, 'utf8').trim());
  if (pid > 0 && isAlive(pid)) {
    log(`stopping the dockerd the lab started (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 60 && isAlive(pid); i++) await sleep(500);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(paths.dockerdPid, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
