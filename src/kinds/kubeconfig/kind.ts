/**
 * kubeconfig as a deployment kind: with verify_server, `verify` and `up`'s wait read the API through
 * it with every distributed kubeconfig; the audit reads the certificates' days left on every target node.
 */
import { probeError, probeOut } from '../../checks/probe.js';
import { hostsNamed, type Kind } from '../types.js';
import { certChecks, certProbe, throughChecks, throughProbe } from './checks.js';
import playbook, { CHECK, type KubeVars } from './playbook.js';

export const kubeconfig: Kind = {
  serves: true,
  name: 'kubeconfig',
  playbook,
  deployments: ({ inventory, hosts, targeted }) => {
    const nodes = hosts.filter((h) => targeted.has(h.name) && h.vars.kubeconfig !== undefined && h.groups.includes((h.vars as unknown as KubeVars).kubeconfig.targets));
    if (nodes.length === 0) return [];
    const { dest_dir: dir, verify_server: server } = (nodes[0]!.vars as unknown as KubeVars).kubeconfig;
    const probe = certProbe(dir);
    // With verify_server, verify (and up's wait) read the API through it with each kubeconfig.
    const through = server ? throughProbe(dir, server, CHECK) : undefined;
    return [{
      kind: 'kubeconfig', name: `${dir} on ${nodes.map((n) => n.name).join(', ')}`,
      nodes: hostsNamed(inventory, nodes.map((n) => n.name)), vips: [], endToEnd: [], drills: [],
      probes: through ? [through] : [],
      evaluate: (probes) => (through ? [...probes].flatMap(([node, p]) => throughChecks(node, server!, probeOut(p, through.key), probeError(p))) : []),
      audit: { probes: [probe], evaluate: (probes, t) => [...probes].flatMap(([node, p]) => certChecks(node, probeOut(p, probe.key), t)) },
    }];
  },
};
