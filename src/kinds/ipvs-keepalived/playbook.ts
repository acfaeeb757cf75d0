/**
 * ipvs-keepalived: seed 002, the software datacenter LB. On group `lb`: ipvsadm and docker, the
 * seed's kernel modules and sysctls (applied now; a reboot only with --allow-reboot), the config
 * folder with keepalived.conf (VRRP instances + IPVS virtual servers) and alive.yaml, and keepalived
 * in a container with host networking and only the capabilities it needs. Group `clients` gets
 * arp_accept (seed step 10); with lb_kind DR, group `ipvs_real_servers` carries the VIPs on lo.
 * The kubeconfigs (kubecfg01..03.conf) come from the `kubeconfig` playbook: list it first.
 */
import { isAbsolute, resolve } from 'node:path';
import { sh, type ShellCommand } from '../../connection/shell.js';
import { drRealServerSteps } from '../../lb/dr-real-servers.js';
import { holderLast } from '../../lb/rolling.js';
import { reboot } from '../../operations/command.js';
import { container, containerImage, containerSignal, type ImageArchive } from '../../operations/container.js';
import { directory, file } from '../../operations/file.js';
import { readImageArchive } from '../../operations/image-archive.js';
import { kernelModules, sysctl } from '../../operations/kernel.js';
import { packages } from '../../operations/package.js';
import { service } from '../../operations/service.js';
import type { Operation } from '../../operations/types.js';
import { definePlaybook, type HostInfo } from '../../playbook/define.js';
import { renderKeepalived } from '../../render/keepalived.js';
import { aliveChecks, aliveKeepalived, aliveVips, parseVirtualServerConfig, renderAliveYaml } from './model.js';
import { aliveVarsSchema, type AliveDeployVars } from './schema.js';

/** Least privilege for keepalived: addresses, routes and IPVS (NET_ADMIN), VRRP sockets (NET_RAW), gratuitous ARP (NET_BROADCAST). */
const CAPABILITIES = ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'];

const aliveOf = (h: { vars: Readonly<Record<string, unknown>> }) => (h.vars as unknown as { alive: AliveDeployVars }).alive;
const lbHosts = (hosts: readonly HostInfo[]) => hosts.filter((h) => h.groups.includes('lb'));

/** The VIPs that real servers carry on lo: those of instances with a DR port. */
function drVips(a: AliveDeployVars): string[] {
  return a.instances.filter((i) => i.ipvs.ports.some((p) => parseVirtualServerConfig(p.virtual_server_config).lbKind === 'DR')).map((i) => i.vip.vip);
}

export default definePlaybook({
  name: 'ipvs-keepalived',
  description: 'seed 002: IPVS + keepalived in a container on group `lb`; arp_accept on `clients`; DR real servers on `ipvs_real_servers`',
  vars: aliveVarsSchema,
  check: (hosts) => {
    const lbs = lbHosts(hosts).filter((h) => h.vars.alive !== undefined);
    return lbs.length === 0 ? [] : aliveChecks(aliveOf(lbs[0]!), lbs);
  },
  prepare: async (ctx) => {
    const first = lbHosts(ctx.hosts).find((h) => h.vars.alive !== undefined);
    const archive = first ? aliveOf(first).image.archive : undefined;
    if (!archive) return {};
    const path = isAbsolute(archive) ? archive : resolve(ctx.inventoryDir, archive);
    let info: ImageArchive & { tags: string[] };
    try {
      info = await readImageArchive(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { errors: [{ message: err.code === 'ENOENT' ? `image archive ${path} does not exist` : err.message, hint: 'create it with `docker save IMAGE | gzip > FILE` (alive.image.archive is relative to the inventory)' }] };
    }
    const ref = aliveOf(first!).image.ref;
    if (!info.tags.includes(ref)) {
      return { errors: [{ message: `image archive ${path} holds ${info.tags.join(', ') || 'an untagged image'}, not ${ref}`, hint: 'set alive.image.ref to the tag inside the archive' }] };
    }
    const { tags: _tags, ...image } = info;
    return {
      notes: [`image archive ${path}: ${ref} ${info.id.slice(7, 19)} (${(info.size / 1048576).toFixed(1)} MiB)`],
      vars: Object.fromEntries(lbHosts(ctx.hosts).map((h) => [h.name, { alive_image_archive: image }])),
    };
  },
  plays: [
    {
      name: 'software LB nodes',
      hosts: 'lb',
      // Converge the backups first and the node holding a VIP last, so a VIP moves at most once.
      ...holderLast((h) => (h.vars.alive ? aliveVips(aliveOf(h)).map((v) => v.address) : [])),
      steps: (h) => {
        const a = aliveOf(h);
        const archive = h.vars.alive_image_archive as ImageArchive | undefined;
        const dir = a.config_dir;
        const c = a.container;
        // keepalived itself checks the new file, in the image that will read it, before it goes live.
        const validate = (tmp: ShellCommand) => sh`docker run --rm --network=host -v ${`${dir}:${c.mount}:ro`} --entrypoint keepalived ${a.image.ref} -t -f ${c.mount}/"$(basename ${tmp})"`;
        const reload = ['reload keepalived'];
        const steps: Operation[] = [
          ...(a.docker_daemon ? [
            directory({ path: '/etc/docker', tags: ['docker'] }),
            file({ path: '/etc/docker/daemon.json', content: JSON.stringify(a.docker_daemon, null, 2) + '\n', notify: 'restart docker', tags: ['docker'] }),
          ] : []),
          packages({ names: a.packages, tags: ['packages'] }),
          service({ name: 'docker', enabled: true, state: 'started', tags: ['docker'] }),
          kernelModules({ file: '/etc/modules-load.d/alive.kmod.conf', modules: a.modules, notify: 'reboot', tags: ['kernel'] }),
          sysctl({ file: '/etc/sysctl.d/alive.sysctl.conf', values: a.sysctl, notify: 'reboot', tags: ['kernel'] }),
          directory({ path: dir, mode: '0755', tags: ['keepalived'] }),
          directory({ path: `${dir}/kubecfg`, mode: '0700', tags: ['keepalived'] }),
          containerImage({ ref: a.image.ref, id: a.image.id, archive, tags: ['keepalived'] }),
          file({ path: `${dir}/keepalived.conf`, content: renderKeepalived(aliveKeepalived(h, a, lbHosts(h.inventory))), validate, notify: reload, tags: ['keepalived'] }),
          file({ path: `${dir}/alive.yaml`, content: renderAliveYaml(a), notify: reload, tags: ['keepalived'] }),
          container({
            name: c.name, image: a.image.ref, network: 'host', restart: 'always',
            privileged: c.privileged, capAdd: CAPABILITIES,
            // The folder, not the files: an atomic rename inside it is seen by the container.
            volumes: [`${dir}:${c.mount}`], command: c.command, tags: ['keepalived'],
          }),
        ];
        return steps;
      },
      handlers: (h) => {
        const a = aliveOf(h);
        return {
          'restart docker': service({ name: 'docker', state: 'restarted' }),
          // A config change alone: keepalived re-reads it on SIGHUP, keeping VRRP state and the VIP.
          'reload keepalived': containerSignal({ name: a.container.name, signal: a.container.reload_signal }),
          // Seed step 3; the modules and sysctls are already applied live, so only with --allow-reboot.
          reboot: reboot({ when: 'always', optional: true, timeoutSec: 300 }),
        };
      },
    },
    {
      name: 'clients accept gratuitous ARP',
      hosts: 'clients',
      steps: () => [sysctl({ file: '/etc/sysctl.d/60-lbdeploy-arp-accept.conf', values: { 'net.ipv4.conf.all.arp_accept': 1 }, tags: ['clients'] })],
    },
    {
      name: 'DR real servers',
      hosts: 'ipvs_real_servers',
      steps: (h) => drRealServerSteps(drVips(aliveOf(h))),
    },
  ],
});
