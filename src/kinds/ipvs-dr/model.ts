/** Seed 003's model: the `ipvs_dr` vars, the virtual services they plan, and the Service manifest for Kubernetes real servers. */
import type { HostInfo, PlaybookIssue } from '../../playbook/define.js';
import { familyAddress, hostAddresses, parseAddress } from '../../util/net.js';
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

/** The virtual services, with the real servers taken from the inventory groups (in the VIP's address family). */
export function drServices(v: DrSettings, inventory: readonly HostInfo[]): VirtualService[] {
  const vip = v.vip.split('/')[0]!;
  const v6 = vip.includes(':');
  return v.services.map((s) => ({
    protocol: s.protocol, address: vip, port: s.port, scheduler: s.scheduler,
    ...(s.persistent ? { persistent: s.persistent } : {}),
    realServers: inventory.filter((h) => h.groups.includes(s.real_servers_group))
      .map((h) => ({ address: familyAddress(h, v6) ?? h.address, port: s.real_port ?? s.port, forward: 'route' as const, weight: s.weight })),
  }));
}

/** What the schema's pattern cannot see: an address that parses, a prefix within its family, real servers of the VIP's family. */
export function drVipIssues(v: DrSettings, hosts: readonly HostInfo[]): PlaybookIssue[] {
  const [address, prefix] = v.vip.split('/') as [string, string];
  const parsed = parseAddress(address);
  if (!parsed) return [{ path: ['ipvs_dr', 'vip'], message: `${address} is not an IPv4 or IPv6 address`, hint: 'write address/prefix, e.g. 198.18.0.200/24 or 2001:2::200/64' }];
  if (Number(prefix) > parsed.bits) return [{ path: ['ipvs_dr', 'vip'], message: `prefix /${prefix} is longer than an IPv${parsed.bits === 32 ? 4 : 6} address (${parsed.bits} bits)` }];
  const v6 = parsed.bits === 128;
  return v.services.flatMap((s, i) => hosts.filter((h) => h.groups.includes(s.real_servers_group) && !familyAddress(h, v6)).map((h) => ({
    host: h.name, path: ['ipvs_dr', 'services', i, 'real_servers_group'],
    message: `real server ${h.name} (${hostAddresses(h).join(', ')}) has no IPv${v6 ? 6 : 4} address for the VIP ${address}`,
    hint: v6 ? `list its IPv6 address in the host's \`addresses\` var, e.g. ${h.name}: { address: ${h.address}, vars: { addresses: ["2001:2::21"] } }` : 'give the host an IPv4 address',
  })));
}
