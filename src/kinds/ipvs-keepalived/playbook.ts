/**
 * ipvs-keepalived: seed 002, the software datacenter LB. On group `lb`: ipvsadm and docker, the
 * seed's kernel modules and sysctls (applied now; a reboot only with --allow-reboot), the config
 * folder with keepalived.conf (VRRP instances + IPVS virtual servers) and alive.yaml, and keepalived
 * in a container with host networking and only the capabilities it needs. Group `clients` gets
 * arp_accept (seed step 10); with lb_kind DR, group `ipvs_real_servers` carries the VIPs on lo.
 * The kubeconfigs (kubecfg01..03.conf) come from the `kubeconfig` playbook: list it first.
 */
import { drRealServerSteps } from '../../lb-blocks/dr-real-servers.js';
import { holderLast } from '../../lb-blocks/rolling.js';
import { reboot } from '../../operations/command.js';
import { containerSignal, type ImageArchive } from '../../operations/container.js';
import { dockerHostSteps, keepalivedContainerSteps, prepareImageArchive, restartDocker } from '../../lb-blocks/keepalived-container.js';
import { directory, file } from '../../operations/file.js';
import { kernelModules, sysctl } from '../../operations/kernel.js';
import type { Operation } from '../../operations/types.js';
import { definePlaybook, type HostInfo } from '../../playbook/define.js';
import { renderKeepalived } from '../../render/keepalived.js';
import { aliveChecks, aliveKeepalived, aliveVips, parseVirtualServerConfig, renderAliveYaml } from './model.js';
import { aliveVarsSchema, type AliveDeployVars } from './schema.js';

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
    const image = first ? aliveOf(first).image : undefined;
    if (!image?.archive) return {};
    return prepareImageArchive(image.archive, image.ref, ctx.inventoryDir, lbHosts(ctx.hosts).map((h) => h.name), 'alive_image_archive', 'alive.image');
  },
  plays: [
    {
      name: 'software LB nodes',
      hosts: 'lb',
      // Converge the backups first and the node holding a VIP last, so a VIP moves at most once.
      ...holderLast((h) => (h.vars.alive ? aliveVips(aliveOf(h)).map((v) => v.address) : [])),
      steps: (h) => {
        const a = aliveOf(h);
        const reload = ['reload keepalived'];
        const steps: Operation[] = [
          ...dockerHostSteps(a.packages, a.docker_daemon),
          kernelModules({ file: '/etc/modules-load.d/alive.kmod.conf', modules: a.modules, notify: 'reboot', tags: ['kernel'] }),
          sysctl({ file: '/etc/sysctl.d/alive.sysctl.conf', values: a.sysctl, notify: 'reboot', tags: ['kernel'] }),
          ...keepalivedContainerSteps({
            dir: a.config_dir, mount: a.container.mount, image: a.image, archive: h.vars.alive_image_archive as ImageArchive | undefined,
            name: a.container.name, privileged: a.container.privileged, command: a.container.command,
            config: renderKeepalived(aliveKeepalived(h, a, lbHosts(h.inventory))), notify: reload, tags: ['keepalived'],
            files: [
              directory({ path: `${a.config_dir}/kubecfg`, mode: '0700', tags: ['keepalived'] }),
              file({ path: `${a.config_dir}/alive.yaml`, content: renderAliveYaml(a), notify: reload, tags: ['keepalived'] }),
            ],
          }),
        ];
        return steps;
      },
      handlers: (h) => {
        const a = aliveOf(h);
        return {
          'restart docker': restartDocker(),
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
