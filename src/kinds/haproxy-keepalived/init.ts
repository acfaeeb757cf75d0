/** The starting inventory `lbdeploy init haproxy-keepalived` writes (seeds 000 and 001). */
import type { InitTemplate } from '../types.js';

export const haInit: InitTemplate = {
  summary: 'keepalived VIP + haproxy (TCP) in front of ingress NodePorts or kube-apiservers',
  groups: { lb: 'lb', backends: 'backends' },
  playbooks: ['baseline', 'haproxy-keepalived'],
  vars: (a) => `  keepalived:
    # The interface that carries the VIP on the LB nodes (\`ip -br addr\` on a node).
    interface: ${a.interface}
    instances:
      - name: VI_1
        vip: ${a.vip}
        # 1-255 and unique on this network segment: two clusters with one VRID fight over the VIP.
        virtual_router_id: ${a.vrid}
        # VRRP PASS authentication (IPv4 only, at most 8 characters), from the environment:
        # auth_pass: !secret env:LBDEPLOY_VRRP_PASS
  haproxy:
    services:
      # One entry per port the VIP serves. For an ingress controller, backend_port is its
      # NodePort; add \`send_proxy: v2\` once the ingress accepts PROXY protocol (seed 000).
      # For kube-apiservers: { name: apiserver, port: 6443, backend_group: masters, backend_port: 6443 }
      - { name: ingress-http, port: 80, backend_group: backends, backend_port: 80 }
    # Stats page with a password: stats: { port: 8404, password: !secret env:LBDEPLOY_STATS_PASS }
`,
};
