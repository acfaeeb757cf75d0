/** Where the lab keeps what it generates: keys, known_hosts, daemon log. Never committed. */
import { join, resolve } from 'node:path';
import { packageRoot } from '../package-root.js';
import { rootfsCacheDir } from '../image/rootfs.js';

export interface LabPaths {
  dir: string;
  clientKey: string;
  knownHosts: string;
  hostKeys: string;
  /** The lab cluster's CA and certificates (masters). */
  pki: string;
  /** Per-VM disks, pid files and consoles. */
  vms: string;
  dockerdPid: string;
  dockerdLog: string;
  /** Build area for root file systems (device nodes, so kept out of the project tree). */
  buildDir: string;
}

export function labPaths(): LabPaths {
  const dir = resolve(process.env.LBDEPLOY_LAB_DIR ?? join(packageRoot(), '.lbdeploy', 'lab'));
  return {
    dir,
    clientKey: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    hostKeys: join(dir, 'hosts'),
    pki: join(dir, 'pki'),
    vms: join(dir, 'vms'),
    dockerdPid: join(dir, 'dockerd.pid'),
    dockerdLog: join(dir, 'dockerd.log'),
    buildDir: rootfsCacheDir(),
  };
}
