/**
 * What the audit saw, as a picture's data: for each VRRP cluster its VIPs, which node holds each
 * (the others are backups), and the backends as the holder sees them, every part with a severity
 * taken from the cluster's own checks. Pure: deployments, probes and checks in, data out.
 */
import { worst, type Check, type Severity } from '../checks/check.js';
import { probeError, type NodeProbe } from '../checks/probe.js';
import { holders } from '../checks/vip.js';
import type { BackendView, Deployment } from '../kinds/types.js';

export interface TopologyVip {
  name: string;
  address: string;
  holders: string[];
  severity: Severity;
  detail: string;
}

export interface TopologyNode {
  name: string;
  role: 'holder' | 'backup' | 'unreachable';
  severity: Severity;
  detail: string;
}

export interface TopologyBackend extends BackendView {
  severity: Severity;
  /** The node whose view this is: the VIP holder, else the first node that answered. */
  seenFrom: string;
}

export interface TopologyCluster {
  kind: string;
  name: string;
  vips: TopologyVip[];
  nodes: TopologyNode[];
  backends: TopologyBackend[];
}

const BACKEND_SEVERITY: Record<BackendView['state'], Severity> = { up: 'ok', other: 'warning', down: 'critical' };

/** Is the check about this VIP: its holder check, or a request through it (target "svc 198.18.0.100:80", "svc [2001:2::100]:80")? */
function aboutVip(c: Check, address: string): boolean {
  return (c.topic === 'vip-holder' || c.topic === 'vip-request') && c.vip === address;
}

/** Is the check about this node: its target is the node, or starts with it ("lb1 ingress-proxy")? */
const aboutNode = (c: Check, node: string) => c.target === node || c.target.startsWith(`${node} `);

function problems(checks: readonly Check[]): string {
  return checks.filter((c) => c.severity !== 'ok').map((c) => `${c.check}: ${c.detail}`).join('; ');
}

export function clusterTopology(d: Deployment, probes: ReadonlyMap<string, NodeProbe>, checks: readonly Check[]): TopologyCluster {
  const mine = new Map(d.nodes.filter((n) => probes.has(n.name)).map((n) => [n.name, probes.get(n.name)!]));
  const vips = d.vips.map((v): TopologyVip => {
    const held = holders(mine, v.address);
    const own = checks.filter((c) => aboutVip(c, v.address));
    return {
      name: v.name, address: v.address, holders: held, severity: own.length > 0 ? worst(own) : held.length === 1 ? 'ok' : 'critical',
      detail: problems(own) || (held.length === 1 ? `held by ${held[0]}` : held.length === 0 ? 'no node holds it' : `split brain: ${held.join(', ')}`),
    };
  });
  const holding = new Set(vips.flatMap((v) => v.holders));
  const nodes = d.nodes.map((n): TopologyNode => {
    const p = probes.get(n.name);
    const error = p === undefined ? 'not probed' : probeError(p);
    const own = checks.filter((c) => aboutNode(c, n.name));
    if (error) return { name: n.name, role: 'unreachable', severity: 'critical', detail: error };
    const role = holding.has(n.name) ? 'holder' : 'backup';
    return { name: n.name, role, severity: worst(own), detail: problems(own) || (role === 'holder' ? 'holds the VIP' : 'backup, ready to take the VIP') };
  });
  const viewer = [...holding].find((n) => mine.has(n) && !probeError(mine.get(n)!))
    ?? nodes.find((n) => n.role !== 'unreachable')?.name;
  const backends = d.backends && viewer
    ? d.backends(mine.get(viewer)!).map((b): TopologyBackend => ({ ...b, severity: BACKEND_SEVERITY[b.state], seenFrom: viewer }))
    : [];
  return { kind: d.kind, name: d.name, vips, nodes, backends };
}

/** Every deployment with a VIP, each coloured by its own checks (`byDeployment[i]` for `deployments[i]`). */
export function topologyOf(deployments: readonly Deployment[], probes: ReadonlyMap<string, NodeProbe>, byDeployment: readonly (readonly Check[])[]): TopologyCluster[] {
  return deployments.flatMap((d, i) => (d.vips.length > 0 ? [clusterTopology(d, probes, byDeployment[i] ?? [])] : []));
}
