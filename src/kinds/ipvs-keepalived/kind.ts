/** ipvs-keepalived (seed 002) as a deployment kind: keepalived in a container holds the VIPs and programs IPVS on every LB node. */
import { sh } from '../../connection/shell.js';
import { evaluateContainerIpvsNodes, hostNames, ipvsBackends, ipvsEndToEnd, IPVS_FACT } from '../../checks/ipvs.js';
import { ADDRESSES_FACT } from '../../checks/vip.js';
import { containerFact } from '../../operations/container.js';
import { clientHost, hostsNamed, type Deployment, type Kind } from '../types.js';
import { aliveServices, aliveVips } from './model.js';
import playbook from './playbook.js';
import type { AliveDeployVars } from './schema.js';

export const ipvsKeepalived: Kind = {
  serves: true,
  name: 'ipvs-keepalived',
  playbook,
  deployments: ({ inventory, hosts, targeted }) => {
    const nodes = hosts.filter((h) => targeted.has(h.name) && h.groups.includes('lb') && h.vars.alive !== undefined);
    if (nodes.length === 0) return [];
    const a = nodes[0]!.vars.alive as AliveDeployVars;
    const services = aliveServices(a);
    const vips = aliveVips(a);
    const name = a.container.name;
    const deployment: Deployment = {
      kind: 'ipvs-keepalived',
      name: `${vips.map((v) => `${v.name} ${v.address}`).join(', ')} on ${nodes.map((n) => n.name).join(', ')}`,
      nodes: hostsNamed(inventory, nodes.map((n) => n.name)),
      vips,
      client: clientHost(inventory, nodes[0]!.vars.verify_from as string | undefined),
      probes: [ADDRESSES_FACT, IPVS_FACT, containerFact(name)],
      evaluate: (probes) => evaluateContainerIpvsNodes(vips, services, name, probes),
      backends: (probe) => ipvsBackends(services, probe, hostNames(inventory.hosts)),
      endToEnd: ipvsEndToEnd(services, vips, hostNames(inventory.hosts)),
      // SIGTERM: keepalived gives up the VIP and its IPVS rules before it exits.
      drills: [{ scenario: 'keepalived-container', stop: sh`docker stop -t 10 ${name} >/dev/null`, start: sh`docker start ${name} >/dev/null` }],
    };
    return [deployment];
  },
};
