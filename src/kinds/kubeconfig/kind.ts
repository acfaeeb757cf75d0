/** kubeconfig as a deployment kind: nothing to wait for after `up`; the audit reads the certificates' days left on every target node. */
import { probeOut } from '../../checks/probe.js';
import { hostsNamed, type Kind } from '../types.js';
import { certChecks, certProbe } from './checks.js';
import playbook, { type KubeVars } from './playbook.js';

export const kubeconfig: Kind = {
  serves: true,
  name: 'kubeconfig',
  playbook,
  deployments: ({ inventory, hosts, targeted }) => {
    const nodes = hosts.filter((h) => targeted.has(h.name) && h.vars.kubeconfig !== undefined && h.groups.includes((h.vars as unknown as KubeVars).kubeconfig.targets));
    if (nodes.length === 0) return [];
    const dir = (nodes[0]!.vars as unknown as KubeVars).kubeconfig.dest_dir;
    const probe = certProbe(dir);
    return [{
      kind: 'kubeconfig', name: `${dir} on ${nodes.map((n) => n.name).join(', ')}`,
      nodes: hostsNamed(inventory, nodes.map((n) => n.name)), vips: [], probes: [], evaluate: () => [], endToEnd: [], drills: [],
      audit: { probes: [probe], evaluate: (probes, t) => [...probes].flatMap(([node, p]) => certChecks(node, probeOut(p, probe.key), t)) },
    }];
  },
};
