/**
 * The keepalived container image for seed 002 on the VM tier, built offline: this machine's
 * keepalived binary with exactly the shared libraries it links (from `ldd`), imported into Docker
 * and saved as an archive, the air-gapped path the playbook uploads and `docker load`s.
 */
import { copyFileSync, existsSync, mkdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { $ } from '../shell-local.js';
import { LabError } from '../errors.js';
import type { LabPaths } from './paths.js';
import type { Log } from './system.js';

const KEEPALIVED = '/usr/sbin/keepalived';
/** Reads /live/cfg/keepalived.conf (the config folder is mounted there), in the foreground, logging to the console. */
export const KEEPALIVED_ENTRYPOINT = [KEEPALIVED, '--dont-fork', '--log-console', '--log-detail', '--use-file=/live/cfg/keepalived.conf'];

export interface LabKeepalivedImage {
  ref: string;
  archive: string;
}

/** A fixed tag, so the lab's inventory can name it whatever keepalived version this machine has. */
export const LAB_KEEPALIVED_REF = 'lbdeploy-lab/keepalived:lab';

export const labKeepalivedArchive = (paths: LabPaths) => join(paths.dir, 'images', 'keepalived.tar.gz');

/** The libraries `ldd` lists for a binary (absolute paths; the vDSO has none). */
export function lddPaths(lddOutput: string): string[] {
  return [...lddOutput.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

export async function ensureKeepalivedImage(paths: LabPaths, log: Log): Promise<LabKeepalivedImage> {
  const archive = labKeepalivedArchive(paths);
  if (!existsSync(KEEPALIVED)) throw new LabError(`${KEEPALIVED} is missing: the lab builds its keepalived image from this machine's binary`, { hint: 'apt-get install keepalived' });
  const ref = LAB_KEEPALIVED_REF;
  if (existsSync(archive)) return { ref, archive };
  const started = Date.now();
  const root = join(paths.buildDir, `keepalived-image-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  try {
    for (const f of [KEEPALIVED, ...lddPaths((await $`ldd ${KEEPALIVED}`.quiet()).stdout)]) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(realpathSync(f), join(root, f));
    }
    for (const d of ['run', 'tmp', 'etc', 'var/run', 'live/cfg']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await $`tar -C ${root} -c . | docker import --change ${`ENTRYPOINT ${JSON.stringify(KEEPALIVED_ENTRYPOINT)}`} - ${ref}`.quiet();
    mkdirSync(dirname(archive), { recursive: true });
    await $`docker save ${ref} | gzip -1 > ${archive + '.part'}`.quiet();
    renameSync(archive + '.part', archive);
  } catch (e) {
    rmSync(archive + '.part', { force: true });
    const err = e as { stderr?: string; message: string };
    throw new LabError(`building the keepalived image failed: ${(err.stderr ?? err.message).trim()}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  log(`keepalived image ${ref} saved to ${archive} in ${Math.round((Date.now() - started) / 1000)} s`);
  return { ref, archive };
}
