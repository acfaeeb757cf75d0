/** haproxy-keepalived as a deployment kind: one deployment per VRRP cluster (the nodes that carry the same instances). */
import { haInit } from './init.js';
import { sh } from '../../connection/shell.js';
import { clientHost, hostsNamed, type Deployment, type Kind } from '../types.js';
import { evaluateHaNodes, haBackends, HA_NODE_PROBES } from './checks.js';
import { clusters, serversOf, serviceTargets, vipsOf, type HaVars } from './model.js';
import playbook from './playbook.js';

export const haproxyKeepalived: Kind = {
  name: 'haproxy-keepalived',
  playbook,
  init: haInit,
  deployments: ({ inventory, hosts, targeted }) => clusters(hosts.filter((h) => targeted.has(h.name))).map(({ nodes }): Deployment => {
    const v = nodes[0]!.vars as unknown as HaVars;
    const vips = vipsOf(v);
    const targets = serviceTargets(v, hosts);
    const services = v.haproxy.services.map((s) => ({ name: s.name, servers: serversOf(s, hosts).length }));
    return {
      kind: 'haproxy-keepalived',
      name: `${vips.map((x) => `${x.name} ${x.address}`).join(', ')} on ${nodes.map((n) => n.name).join(', ')}`,
      nodes: hostsNamed(inventory, nodes.map((n) => n.name)),
      vips,
      client: clientHost(inventory, v.verify_from),
      probes: HA_NODE_PROBES,
      evaluate: (probes) => evaluateHaNodes(vips, services, probes),
      backends: (probe) => haBackends(services.map((s) => s.name), probe),
      endToEnd: targets.map((t) => ({ target: t, mode: v.haproxy.services.find((s) => s.name === t.name)?.verify_http ? 'http' as const : 'tcp' as const })),
      drills: (['keepalived', 'haproxy'] as const).map((unit) => ({ scenario: unit, stop: sh`systemctl stop ${unit}`, start: sh`systemctl start ${unit}` })),
    };
  }),
};
