/**
 * ipvs-dr: seed 003. An IPVS director in direct-routing mode (-g): ip_forward on, ip_vs loaded, the
 * VIP on the director's interface, virtual services and real servers applied idempotently and
 * saved for boot. Real servers that are plain hosts (group `ipvs_real_servers`) carry the VIP on lo
 * with arp_ignore/arp_announce, so only the director answers ARP for it.
 */
import { drRealServerSteps } from '../../lb-blocks/dr-real-servers.js';
import { file } from '../../operations/file.js';
import { ipvsServices, persistentAddress } from '../../operations/ipvs.js';
import { onFamily } from '../../operations/platform.js';
import { service } from '../../operations/service.js';
import { IPVSADM_PERSISTENCE } from '../../operations/os-family.js';
import { kernelModules, sysctl } from '../../operations/kernel.js';
import { packages } from '../../operations/package.js';
import { definePlaybook } from '../../playbook/define.js';
import { renderIpvsRules } from '../../render/ipvs.js';
import { drServices, drVipIssues, type DrSettings } from './model.js';

interface DrVars {
  ipvs_dr: DrSettings;
}

export default definePlaybook({
  name: 'ipvs-dr',
  description: 'IPVS direct routing (seed 003): director on group `ipvs`, real servers on group `ipvs_real_servers`',
  vars: {
    type: 'object',
    required: ['ipvs_dr'],
    properties: {
      ipvs_dr: {
        type: 'object', additionalProperties: false, required: ['vip', 'interface', 'services'],
        properties: {
          vip: { type: 'string', pattern: '^([0-9.]+/[0-9]{1,2}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/[0-9]{1,3})$', description: 'address/prefix on the director, IPv4 or IPv6, e.g. 198.18.0.200/24 or 2001:2::200/64' },
          interface: { type: 'string', minLength: 1 },
          services: {
            type: 'array', minItems: 1,
            items: {
              type: 'object', additionalProperties: false, required: ['port', 'real_servers_group'],
              properties: {
                port: { type: 'integer', minimum: 1, maximum: 65535 },
                protocol: { enum: ['tcp', 'udp'], default: 'tcp' },
                scheduler: { enum: ['rr', 'wrr', 'lc', 'wlc', 'sh', 'dh', 'lblc', 'lblcr', 'sed', 'nq'], default: 'rr' },
                real_servers_group: { type: 'string' },
                real_port: { type: 'integer', minimum: 1, maximum: 65535, description: 'DR cannot change the port: must equal port' },
                weight: { type: 'integer', minimum: 0, maximum: 65535, default: 1 },
                persistent: { type: 'integer', minimum: 1 },
                target_port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Kubernetes: the pods\' port behind this service (default: port)' },
              },
            },
          },
          kubernetes: {
            type: 'object', additionalProperties: false, required: ['selector'],
            description: 'the real servers are Kubernetes nodes: a Service with the VIP as externalIP (`lbdeploy manifest`) replaces the VIP on lo',
            properties: {
              service: { type: 'string', pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$', default: 'lbdeploy-ipvs-dr' },
              namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', default: 'default' },
              selector: { type: 'object', minProperties: 1, additionalProperties: { type: 'string' } },
            },
          },
        },
      },
    },
  },
  check: (hosts) => {
    const h = hosts.find((x) => x.vars.ipvs_dr !== undefined);
    const v = (h?.vars as unknown as DrVars | undefined)?.ipvs_dr;
    if (!v) return [];
    return [...drVipIssues(v, hosts), ...v.services.flatMap((s, i) => [
      ...(s.real_port !== undefined && s.real_port !== s.port
        ? [{ path: ['ipvs_dr', 'services', i, 'real_port'], message: `direct routing cannot translate ports: real_port ${s.real_port} must equal port ${s.port}`, hint: 'use the same port, or NAT mode' }] : []),
      ...(s.target_port !== undefined && !v.kubernetes
        ? [{ path: ['ipvs_dr', 'services', i, 'target_port'], message: 'target_port applies to a Kubernetes Service only', hint: 'add ipvs_dr.kubernetes, or remove target_port' }] : []),
      ...(!hosts.some((x) => x.groups.includes(s.real_servers_group))
        ? [{ path: ['ipvs_dr', 'services', i, 'real_servers_group'], message: `real_servers_group '${s.real_servers_group}' has no hosts` }] : []),
    ])];
  },
  plays: [
    {
      name: 'IPVS director',
      hosts: 'ipvs',
      steps: (h) => {
        const v = (h.vars as unknown as DrVars).ipvs_dr;
        const services = drServices(v, h.inventory);
        return [
          packages({ names: ['ipvsadm'] }),
          kernelModules({ file: '/etc/modules-load.d/lbdeploy-ipvs.conf', modules: ['ip_vs', ...new Set(v.services.map((s) => `ip_vs_${s.scheduler}`))] }),
          sysctl({ file: '/etc/sysctl.d/60-lbdeploy-ipvs.conf', values: { 'net.ipv4.ip_forward': 1 } }),
          // The VIP now and after a reboot (its unit); the table comes back from /etc/ipvsadm.rules.
          ...persistentAddress({ address: v.vip, device: v.interface }),
          ipvsServices({ services }),
          // The table restored at boot: Debian's ipvsadm init script (AUTO=true), RHEL's ipvsadm.service.
          onFamily('debian', file({ path: IPVSADM_PERSISTENCE.debian.rules, content: renderIpvsRules(services) })),
          onFamily('debian', file({ path: IPVSADM_PERSISTENCE.debian.config.path, content: IPVSADM_PERSISTENCE.debian.config.content })),
          onFamily('rhel', file({ path: IPVSADM_PERSISTENCE.rhel.rules, content: renderIpvsRules(services) })),
          onFamily('rhel', file({ path: IPVSADM_PERSISTENCE.rhel.config.path, content: IPVSADM_PERSISTENCE.rhel.config.content })),
          onFamily('rhel', service({ name: IPVSADM_PERSISTENCE.rhel.service!, enabled: true })),
        ];
      },
    },
    {
      name: 'DR real servers',
      hosts: 'ipvs_real_servers',
      steps: (h) => {
        const v = (h.vars as unknown as DrVars).ipvs_dr;
        // Kubernetes nodes take the VIP's packets through kube-proxy's externalIP rules instead.
        return v.kubernetes ? [] : drRealServerSteps([v.vip]);
      },
    },
  ],
});
