/** Seed 003's model: the `ipvs_dr` vars, the virtual services they plan, and the Service manifest for Kubernetes real servers. */
import type { HostInfo } from '../../playbook/define.js';
import type { VirtualService } from '../../render/ipvs.js';
import type { ExternalIpService } from '../../render/kube-service.js';

/** The `ipvs_dr` vars (seed 003) after the playbook schema's defaults. */
export interface DrSettings {
  vip: string;
  interface: string;
  services: { port: number; protocol: 'tcp' | 'udp'; scheduler: string; real_servers_group: string; real_port?: number; weight: number; persistent?: number; target_port?: number }[];
  kubernetes?: { service: string; namespace: string; selector: Record<string, string> };
}

/** Seed 003's Service: the VIP as externalIP, one port per virtual service. */
export function drKubernetesService(v: DrSettings): ExternalIpService | undefined {
  if (!v.kubernetes) return undefined;
  return {
    name: v.kubernetes.service, namespace: v.kubernetes.namespace, selector: v.kubernetes.selector, externalIPs: [v.vip.split('/')[0]!],
    ports: v.services.map((s) => ({ port: s.port, targetPort: s.target_port ?? s.port, protocol: s.protocol === 'udp' ? 'UDP' as const : 'TCP' as const })),
  };
}

/** The virtual services, with the real servers taken from the inventory groups. */
export function drServices(v: DrSettings, inventory: readonly HostInfo[]): VirtualService[] {
  const vip = v.vip.split('/')[0]!;
  return v.services.map((s) => ({
    protocol: s.protocol, address: vip, port: s.port, scheduler: s.scheduler,
    ...(s.persistent ? { persistent: s.persistent } : {}),
    realServers: inventory.filter((h) => h.groups.includes(s.real_servers_group))
      .map((h) => ({ address: h.address, port: s.real_port ?? s.port, forward: 'route' as const, weight: s.weight })),
  }));
}

