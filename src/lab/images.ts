/** Offline image builds: debootstrap once, add each role's packages in a chroot, `docker import`. */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from '../shell-local.js';
import { labImageTag, recipeFor, type ImageRecipe } from './recipes.js';
import { baseTarball, debianMirror, lastLines, withBuildRoot, writeFiles } from '../image/rootfs.js';
import type { LabRole } from './topology.js';
import { LabError, isAlive, type Log } from './system.js';
import { quote } from '../connection/shell.js';
import { ensureKubeBinaries, kubeBinaries } from './kube-build.js';

async function imageExists(tag: string): Promise<boolean> {
  return (await $`docker image inspect ${tag}`.nothrow().quiet()).exitCode === 0;
}

/** Make sure each role's image exists, building what is missing. Returns role -> tag. */
export async function ensureImages(roles: readonly LabRole[], buildDir: string, log: Log): Promise<Map<LabRole, string>> {
  const tags = new Map<LabRole, string>();
  for (const role of roles) {
    const recipe = recipeFor(role);
    const tag = labImageTag(recipe);
    tags.set(role, tag);
    if (await imageExists(tag)) continue;
    const started = Date.now();
    log(`building image ${tag} (first start or changed recipe)`);
    await buildImage(recipe, tag, buildDir, log);
    log(`built ${tag} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return tags;
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
      if (recipe.kube) {
        const bin = await ensureKubeBinaries(buildDir, log, recipe.kube);
        for (const b of kubeBinaries(recipe.kube)) await $`install -m 0755 ${join(bin, b)} ${join(root, 'usr/local/bin', b)}`.quiet();
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
    const m = /^(?:base|lb|web|client|master|vmroot|kube-src|kube-[0-9a-f]{16}\.part)-(\d+)$/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    const dir = join(buildDir, name);
    // An interrupted build may have left /proc mounted inside: never recurse into it.
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
    for (const mp of mounts.filter((p) => p.startsWith(dir + '/')).reverse()) await $`umount -l ${mp}`.nothrow().quiet();
    rmSync(dir, { recursive: true, force: true });
  }
}


