/**
 * Root file systems built offline, shared by the lab's host images and `lbdeploy image build`:
 * debootstrap once (cached by suite and packages), then work in a chroot and archive the tree.
 * The product's image build uses it without importing the lab; the lab imports it from here.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LbdeployError } from '../errors.js';
import { $ } from '../shell-local.js';

export class BuildError extends LbdeployError {}

export type Log = (line: string) => void;

/**
 * Where root file systems are built and the debootstrap stage is cached, shared by the lab and
 * `image build` (device nodes, so kept out of the project tree).
 */
export function rootfsCacheDir(): string {
  return process.env.LBDEPLOY_LAB_BUILD_DIR ?? '/var/cache/lbdeploy-lab';
}

/** What debootstrap installs: every image built from it shares this stage. */
export interface BaseSystem {
  suite: string;
  basePackages: readonly string[];
}

/** Bump when the debootstrap stage itself (not its data) changes. */
const BASE_BUILD_VERSION = 3;

export const DEBIAN_BASE: BaseSystem = {
  suite: 'bookworm',
  basePackages: [
    'systemd-sysv', 'dbus', 'openssh-server', 'sudo', 'iproute2', 'iputils-ping',
    'curl', 'ca-certificates', 'procps', 'less', 'kmod',
  ],
};

/** The hash of the debootstrap stage alone. */
export function baseHash(base: BaseSystem): string {
  const canonical = JSON.stringify({ v: BASE_BUILD_VERSION, suite: base.suite, packages: base.basePackages });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export async function dockerAnswers(): Promise<boolean> {
  return (await $`docker info --format {{.ServerVersion}}`.nothrow().quiet().timeout('20s')).exitCode === 0;
}

/** The Debian mirror this machine's apt already uses (the only package source the lab may reach). */
export function debianMirror(): string {
  if (process.env.LBDEPLOY_LAB_MIRROR) return process.env.LBDEPLOY_LAB_MIRROR;
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text);
    if (deb822?.[1]) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\s/m.exec(text);
    if (oneLine?.[1]) return oneLine[1];
  }
  return 'http://deb.debian.org/debian';
}

export async function baseTarball(recipe: BaseSystem, buildDir: string, log: Log): Promise<string> {
  const tarball = join(buildDir, `base-${recipe.suite}-${baseHash(recipe)}.tar`);
  if (existsSync(tarball)) return tarball;
  const root = join(buildDir, `base-${process.pid}`);
  const debs = join(buildDir, 'debs');
  mkdirSync(debs, { recursive: true });
  rmSync(root, { recursive: true, force: true });
  const mirror = debianMirror();
  log(`debootstrap ${recipe.suite} from ${mirror} (about a minute)`);
  const include = recipe.basePackages.join(',');
  const r = await $`debootstrap --variant=minbase --cache-dir=${debs} --include=${include} ${recipe.suite} ${root} ${mirror}`
    .nothrow().quiet();
  if (r.exitCode !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new BuildError(`debootstrap failed (exit ${r.exitCode}): ${lastLines(r.stdout + r.stderr)}`,
      { hint: 'check that the Debian mirror is reachable (apt-get update works) and there is ~2 GB free disk' });
  }
  await $`tar -C ${root} -cf ${tarball + '.part'} .`.quiet();
  renameSync(tarball + '.part', tarball);
  rmSync(root, { recursive: true, force: true });
  return tarball;
}

export type Chroot = (script: string) => Promise<unknown>;

/**
 * A root file system to build in: the base extracted into buildDir/NAME-PID, no service may start
 * in it, /proc mounted while `work` runs in the chroot; then /proc is unmounted before `finish`
 * reads the tree (so it is never archived), and the folder is removed whatever happens.
 */
export async function withBuildRoot<T>(buildDir: string, name: string, base: string,
  work: (root: string, chroot: Chroot) => Promise<void>, finish: (root: string) => Promise<T>): Promise<T> {
  const root = join(buildDir, `${name}-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  let procMounted = false;
  try {
    await $`tar -C ${root} -xf ${base}`.quiet();
    writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n');
    chmodSync(join(root, 'usr/sbin/policy-rc.d'), 0o755);
    await $`mount -t proc proc ${join(root, 'proc')}`.quiet();
    procMounted = true;
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
    await work(root, (script) => $({ env })`chroot ${root} /bin/sh -ec ${script}`.quiet());
    await $`umount ${join(root, 'proc')}`.quiet();
    procMounted = false;
    rmSync(join(root, 'usr/sbin/policy-rc.d'), { force: true });
    return await finish(root);
  } finally {
    if (procMounted) await $`umount -l ${join(root, 'proc')}`.nothrow().quiet();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Write files into a root file system (path -> content). */
export function writeFiles(root: string, files: Readonly<Record<string, string>>): void {
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

export function lastLines(text: string, n = 8): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
