/** ipvs-dr (seed 003) as a deployment kind: one director per VIP, its IPVS table as planned, and the Service manifest for Kubernetes real servers. */
import { drInit } from './init.js';
import { hostNames, ipvsBackends, ipvsEndToEnd, ipvsTableCheck, IPVS_FACT } from '../../checks/ipvs.js';
import { probeError } from '../../checks/probe.js';
import { ADDRESSES_FACT, unreachableCheck, vipHolderChecks } from '../../checks/vip.js';
import { loadKubeModels } from '../../kube/models.js';
import { renderExternalIpService } from '../../render/kube-service.js';
import { clientHost, hostsNamed, type Kind } from '../types.js';
import { drKubernetesService, drServices, type DrSettings } from './model.js';
import playbook from './playbook.js';

export const ipvsDr: Kind = {
  serves: true,
  name: 'ipvs-dr',
  // The Service manifest (seed 003) is a kubernetes-models object.
  load: async () => void (await loadKubeModels()),
  playbook,
  init: drInit,
  deployments: ({ inventory, hosts, targeted }) => {
    const nodes = hosts.filter((h) => targeted.has(h.name) && h.groups.includes('ipvs') && h.vars.ipvs_dr !== undefined);
    if (nodes.length === 0) return [];
    const d = nodes[0]!.vars.ipvs_dr as DrSettings;
    const services = drServices(d, hosts);
    const vips = [{ name: 'ipvs-dr', address: d.vip.split('/')[0]! }];
    const service = drKubernetesService(d);
    return [{
      kind: 'ipvs-dr',
      name: `${vips[0]!.address} on ${nodes.map((n) => n.name).join(', ')}`,
      nodes: hostsNamed(inventory, nodes.map((n) => n.name)),
      vips,
      client: clientHost(inventory, nodes[0]!.vars.verify_from as string | undefined),
      probes: [ADDRESSES_FACT, IPVS_FACT],
      evaluate: (probes) => [
        ...vipHolderChecks(vips, probes),
        ...[...probes].map(([node, p]) => {
          const error = probeError(p);
          return error ? unreachableCheck(node, error) : ipvsTableCheck(node, p, services);
        }),
      ],
      backends: (probe) => ipvsBackends(services, probe, hostNames(inventory.hosts)),
      endToEnd: ipvsEndToEnd(services, vips, hostNames(inventory.hosts)),
      // One director: there is nowhere for the VIP to move.
      drills: [],
      manifests: service ? [renderExternalIpService(service)] : undefined,
    }];
  },
};
