/** Offline image builds: debootstrap once, add each role's packages in a chroot, `docker import`. */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { $ } from '../shell-local.js';
import { baseHash, imageTag, recipeFor, type ImageRecipe } from './recipes.js';
import type { LabRole } from './topology.js';
import { LabError, isAlive, type Log } from './system.js';
import { quote } from '../connection/shell.js';

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

async function imageExists(tag: string): Promise<boolean> {
  return (await $`docker image inspect ${tag}`.nothrow().quiet()).exitCode === 0;
}

/** Make sure each role's image exists, building what is missing. Returns role -> tag. */
export async function ensureImages(roles: readonly LabRole[], buildDir: string, log: Log): Promise<Map<LabRole, string>> {
  const tags = new Map<LabRole, string>();
  for (const role of roles) {
    const recipe = recipeFor(role);
    const tag = imageTag(recipe);
    tags.set(role, tag);
    if (await imageExists(tag)) continue;
    const started = Date.now();
    log(`building image ${tag} (first start or changed recipe)`);
    await buildImage(recipe, tag, buildDir, log);
    log(`built ${tag} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return tags;
}

export async function baseTarball(recipe: ImageRecipe, buildDir: string, log: Log): Promise<string> {
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
    throw new LabError(`debootstrap failed (exit ${r.exitCode}): ${lastLines(r.stdout + r.stderr)}`,
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

async function buildImage(recipe: ImageRecipe, tag: string, buildDir: string, log: Log): Promise<void> {
  mkdirSync(buildDir, { recursive: true });
  const tarball = await baseTarball(recipe, buildDir, log);
  try {
    await withBuildRoot(buildDir, recipe.role, tarball, async (root, chroot) => {
      if (recipe.rolePackages.length > 0) {
        log(`installing ${recipe.rolePackages.join(', ')} into the ${recipe.role} image`);
        const sources = `deb ${debianMirror()} ${recipe.suite} main`;
        await chroot(`echo ${quote(sources)} > /etc/apt/sources.list && apt-get update -qq && ` +
          `apt-get install -y -qq --no-install-recommends ${recipe.rolePackages.join(' ')}`);
      }
      writeFiles(root, recipe.files);
      await chroot(recipe.setup.join('\n'));
      await chroot([
        ...recipe.enable.map((u) => `systemctl enable ${u} >/dev/null 2>&1`),
        ...recipe.mask.map((u) => `systemctl mask ${u} >/dev/null 2>&1`),
        'apt-get clean', 'rm -rf /var/lib/apt/lists/* /tmp/* /var/log/*.log',
      ].join('\n'));
    }, async (root) => {
      log(`importing ${tag} into Docker`);
      await $`tar -C ${root} -c . | docker import -c ${'CMD ["/sbin/init"]'} - ${tag}`.quiet();
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new LabError(`building the ${recipe.role} image failed: ${lastLines((err.stdout ?? '') + (err.stderr ?? err.message))}`,
      { hint: 'fix what the message says (mirror reachable? disk room?) and run `lab up` again: the build restarts cleanly' });
  }
}

/** Remove build leftovers of interrupted runs (folders named after a pid that is gone). */
export async function cleanBuildLeftovers(buildDir: string): Promise<void> {
  if (!existsSync(buildDir)) return;
  for (const name of readdirSync(buildDir)) {
    // Only build folders (NAME-PID), never the caches (debs, base-*.tar, vm-HASH).
    const m = /^(?:base|lb|web|client|master|vmroot)-(\d+)$/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    const dir = join(buildDir, name);
    // An interrupted build may have left /proc mounted inside: never recurse into it.
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
    for (const mp of mounts.filter((p) => p.startsWith(dir + '/')).reverse()) await $`umount -l ${mp}`.nothrow().quiet();
    rmSync(dir, { recursive: true, force: true });
  }
}


function lastLines(text: string, n = 8): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
