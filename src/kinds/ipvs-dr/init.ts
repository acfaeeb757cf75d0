/** The starting inventory `lbdeploy init ipvs-dr` writes (seed 003). */
import type { InitTemplate } from '../types.js';

export const drInit: InitTemplate = {
  summary: 'IPVS direct routing from a director to nodes that carry the VIP (Service externalIP)',
  groups: { lb: 'ipvs', backends: 'ipvs_real_servers' },
  playbooks: ['ipvs-dr'],
  vars: (a) => `  ipvs_dr:
    # The VIP, with the prefix of the director's network (IPv4 or IPv6).
    vip: ${a.vip}
    # The director's interface on that network.
    interface: ${a.interface}
    services:
      # Real servers answer the client themselves: they carry the VIP on lo (lbdeploy sets
      # arp_ignore/arp_announce there), or, for Kubernetes nodes, as a Service externalIP
      # (\`lbdeploy manifest\` prints it).
      - { port: 80, real_servers_group: ipvs_real_servers }
`,
};
