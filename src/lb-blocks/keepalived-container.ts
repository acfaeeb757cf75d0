/**
 * keepalived in a container with host networking, as seed 002's image and seed 004's DaemonSet run
 * it: the image (pulled, or uploaded from an air-gapped archive), the config folder mounted (a
 * folder, so an atomic rename inside it is seen), keepalived.conf checked by `keepalived -t` in the
 * very image that reads it before it goes live, and only the capabilities keepalived needs.
 */
import { isAbsolute, resolve } from 'node:path';
import { sh, type ShellCommand } from '../connection/shell.js';
import { container, containerImage, type ImageArchive } from '../operations/container.js';
import { directory, file } from '../operations/file.js';
import { readImageArchive } from '../operations/image-archive.js';
import { packages } from '../operations/package.js';
import { service } from '../operations/service.js';
import type { Operation } from '../operations/types.js';
import type { PrepareResult } from '../playbook/define.js';

/** Addresses, routes and IPVS (NET_ADMIN), VRRP sockets (NET_RAW), gratuitous ARP (NET_BROADCAST). */
export const KEEPALIVED_CAPABILITIES = ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'];

export interface KeepalivedContainer {
  /** The config folder on the host, mounted at `mount`. */
  dir: string;
  mount: string;
  image: { ref: string; id?: string };
  archive?: ImageArchive;
  name: string;
  privileged: boolean;
  command?: string[];
  /** keepalived.conf as rendered. */
  config: string;
  /** Handlers a config change notifies (a reload signal). */
  notify: string[];
  tags: string[];
  /** Steps between keepalived.conf and the container (more files in the folder). */
  files?: Operation[];
}

/** keepalived itself checks the new file, in the image that will read it, before it goes live. */
export function keepalivedValidate(dir: string, mount: string, ref: string): (tmp: ShellCommand) => ShellCommand {
  return (tmp) => sh`docker run --rm --network=host -v ${`${dir}:${mount}:ro`} --entrypoint keepalived ${ref} -t -f ${mount}/"$(basename ${tmp})"`;
}

/** Docker on the host: its daemon.json first (before the package starts it), the packages, the service. Notifies 'restart docker'. */
export function dockerHostSteps(names: string[], daemon: Record<string, unknown> | undefined): Operation[] {
  return [
    ...(daemon ? [
      directory({ path: '/etc/docker', tags: ['docker'] }),
      file({ path: '/etc/docker/daemon.json', content: JSON.stringify(daemon, null, 2) + '\n', notify: 'restart docker', tags: ['docker'] }),
    ] : []),
    packages({ names, tags: ['packages'] }),
    service({ name: 'docker', enabled: true, state: 'started', tags: ['docker'] }),
  ];
}

export const restartDocker = () => service({ name: 'docker', state: 'restarted' });

export function keepalivedContainerSteps(k: KeepalivedContainer): Operation[] {
  const tags = k.tags;
  return [
    directory({ path: k.dir, mode: '0755', tags }),
    containerImage({ ref: k.image.ref, id: k.image.id, archive: k.archive, tags }),
    file({ path: `${k.dir}/keepalived.conf`, content: k.config, validate: keepalivedValidate(k.dir, k.mount, k.image.ref), notify: k.notify, tags }),
    ...(k.files ?? []),
    container({
      name: k.name, image: k.image.ref, network: 'host', restart: 'always',
      privileged: k.privileged, capAdd: KEEPALIVED_CAPABILITIES,
      volumes: [`${k.dir}:${k.mount}`], command: k.command, tags,
    }),
  ];
}

/**
 * Air-gapped images: read a local `docker save` archive (relative to the inventory) once, insist it
 * holds `ref`, and hand its ID and size to the hosts' image steps as the var `varName`.
 */
export async function prepareImageArchive(archive: string, ref: string, inventoryDir: string, hosts: readonly string[], varName: string, setting: string): Promise<PrepareResult> {
  const path = isAbsolute(archive) ? archive : resolve(inventoryDir, archive);
  let info: ImageArchive & { tags: string[] };
  try {
    info = await readImageArchive(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { errors: [{ message: err.code === 'ENOENT' ? `image archive ${path} does not exist` : err.message, hint: `create it with \`docker save IMAGE | gzip > FILE\` (${setting}.archive is relative to the inventory)` }] };
  }
  if (!info.tags.includes(ref)) {
    return { errors: [{ message: `image archive ${path} holds ${info.tags.join(', ') || 'an untagged image'}, not ${ref}`, hint: `set ${setting}.ref to the tag inside the archive` }] };
  }
  const { tags: _tags, ...image } = info;
  return {
    notes: [`image archive ${path}: ${ref} ${info.id.slice(7, 19)} (${(info.size / 1048576).toFixed(1)} MiB)`],
    vars: Object.fromEntries(hosts.map((h) => [h, { [varName]: image }])),
  };
}
