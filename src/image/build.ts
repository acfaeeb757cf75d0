/**
 * `lbdeploy image build`: an OCI image of lbdeploy, built offline the way the lab builds its hosts
 * (a debootstrapped Debian base, `docker import`; no registry is pulled), tagged with the package
 * version. Inside: this machine's node binary, the package as `npm pack` makes it, and its
 * production dependencies from npm's local cache. It runs as an unprivileged user and never
 * downloads anything at run time, so the printed CronJob works in an air-gapped cluster.
 */
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { baseTarball, BuildError, DEBIAN_BASE, dockerAnswers, withBuildRoot, type Log } from './rootfs.js';
import { packageRoot, packageVersion } from '../package-root.js';
import { $ } from '../shell-local.js';

export const IMAGE_UID = 65532;

/** The image `lbdeploy image build` tags and the audit's CronJob runs unless told another: lbdeploy:VERSION. */
export function imageTag(version = packageVersion()): string {
  return `lbdeploy:${version}`;
}

export interface ImageBuild {
  tag: string;
  /** `docker save` archive, when asked. */
  saved?: string;
  seconds: number;
}

export async function buildImage(buildDir: string, log: Log, options: { tag?: string; save?: string } = {}): Promise<ImageBuild> {
  const started = Date.now();
  if (!(await dockerAnswers())) throw new BuildError('no Docker daemon answers', { hint: 'start Docker (or `lbdeploy lab up`, which starts its own) and run this again' });
  const tag = options.tag ?? imageTag();
  const version = packageVersion();
  mkdirSync(buildDir, { recursive: true });
  const base = await baseTarball(DEBIAN_BASE, buildDir, log);
  const packDir = join(buildDir, `pack-${process.pid}`);
  mkdirSync(packDir, { recursive: true });
  try {
    log(`packing lbdeploy ${version} (npm pack)`);
    await $({ cwd: packageRoot() })`npm pack --ignore-scripts --pack-destination ${packDir}`.quiet();
    const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new BuildError('npm pack wrote no package');
    await withBuildRoot(buildDir, 'lbdeploy-image', base, async (root) => {
      const app = join(root, 'opt/lbdeploy');
      mkdirSync(app, { recursive: true });
      await $`tar -xzf ${join(packDir, tgz)} -C ${app} --strip-components=1`.quiet();
      log('installing its production dependencies (from npm\'s cache where it has them)');
      await $({ cwd: app })`npm install --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --no-package-lock`.quiet();
      copyFileSync(process.execPath, join(root, 'usr/local/bin/node'));
      chmodSync(join(root, 'usr/local/bin/node'), 0o755);
      appendFileSync(join(root, 'etc/passwd'), `lbdeploy:x:${IMAGE_UID}:${IMAGE_UID}:lbdeploy:/home/lbdeploy:/usr/sbin/nologin\n`);
      appendFileSync(join(root, 'etc/group'), `lbdeploy:x:${IMAGE_UID}:\n`);
      mkdirSync(join(root, 'home/lbdeploy'), { recursive: true });
      await $`chown ${`${IMAGE_UID}:${IMAGE_UID}`} ${join(root, 'home/lbdeploy')}`.quiet();
    }, async (root) => {
      log(`importing ${tag} into Docker`);
      const changes = [
        'ENTRYPOINT ["/usr/local/bin/node", "/opt/lbdeploy/dist/src/cli/main.js"]',
        'CMD ["--help"]',
        `USER ${IMAGE_UID}`,
        'ENV HOME=/home/lbdeploy',
        'WORKDIR /home/lbdeploy',
        `LABEL org.opencontainers.image.title=lbdeploy org.opencontainers.image.version=${version}`,
      ].flatMap((c) => ['-c', c]);
      await $`tar -C ${root} -c . | docker import ${changes} - ${tag}`.quiet();
    });
  } finally {
    await $`rm -rf ${packDir}`.quiet();
  }
  if (options.save) {
    log(`saving ${tag} to ${options.save} (docker load -i on the other side, then push to your registry)`);
    await $`docker save -o ${options.save} ${tag}`.quiet();
  }
  return { tag, saved: options.save, seconds: (Date.now() - started) / 1000 };
}
