/** The network pre-flight over every VRRP cluster of a run: one bounded command per node, all nodes at once. */
import { randomBytes } from 'node:crypto';
import type { ConnectionPool } from '../connection/pool.js';
import { mapLimit } from '../util/limit.js';
import { CURRENT_VRIDS, evaluatePreflight, preflightScript, vridsChange, type PreflightIssue } from '../checks/vrrp-preflight.js';
import type { Deployment } from './types.js';
import type { FactRequest } from '../operations/types.js';

export interface PreflightResult {
  deployment: string;
  /** Where the host is defined in the inventory (file:line:col). */
  issues: (PreflightIssue & { where?: string })[];
  ms: number;
}

/** Probe each deployment's VRRP: pairs that cannot hear each other, foreign routers on its VRIDs. Listens `listenS` seconds. */
export async function preflight(pool: ConnectionPool, deployments: readonly Deployment[], listenS: number): Promise<PreflightResult[]> {
  const clusters = deployments.filter((d) => d.vrrp && d.nodes.length > 0);
  // A cluster's nodes must listen at the same time: as many clusters at once as --forks holds whole.
  const widest = Math.max(1, ...clusters.map((d) => d.nodes.length));
  const atOnce = Math.max(1, Math.floor(pool.maxOpen / widest));
  return mapLimit(clusters, atOnce, async (d) => {
    const t0 = Date.now();
    if (d.nodes.length > pool.maxOpen) {
      return { deployment: `${d.kind}: ${d.name}`, ms: 0, issues: [{ host: d.nodes[0]!.name, where: d.nodes[0]!.where, message: `the cluster has ${d.nodes.length} nodes but --forks allows ${pool.maxOpen} connections: its nodes cannot listen at the same time`, hint: `give --forks ${d.nodes.length} or more` }] };
    }
    const seg = d.vrrp!;
    const names = d.nodes.map((n) => n.name);
    const nonce = randomBytes(4).toString('hex');
    const outputs = new Map(await Promise.all(d.nodes.map(async (n) => {
      try {
        const r = await (await pool.session(n)).run(preflightScript(seg, n.name, names, nonce, listenS), { timeoutMs: (listenS + 15) * 1000 });
        return [n.name, r.code === 0 ? r.stdout : `ERROR ${r.stderr.trim()}`] as [string, string];
      } catch (e) {
        return [n.name, `ERROR ${(e as Error).message}`] as [string, string];
      }
    })));
    const unreachable = [...outputs].filter(([, o]) => o.startsWith('ERROR ')).map(([h, o]): PreflightIssue => ({ host: h, message: `${h}: the pre-flight could not run: ${o.slice(6)}`, hint: 'check that the host is reachable over SSH' }));
    const issues = [...unreachable, ...evaluatePreflight(seg, names, outputs, nonce)];
    return { deployment: `${d.kind}: ${d.name}`, issues: issues.map((i) => ({ ...i, where: d.nodes.find((n) => n.name === i.host)?.where })), ms: Date.now() - t0 };
  });
}

/** The pre-flight's read of a node, as a fact: a run reads it with its first round trip to each host (`known` above). */
export const CURRENT_VRIDS_FACT: FactRequest = { key: 'preflight:vrids', command: CURRENT_VRIDS };

/**
 * Before `up` changes keepalived: the pre-flight of each cluster whose VRIDs change on some node (a new
 * cluster or node, a changed id); a cluster keepalived already runs as inventoried is skipped, after one
 * quick read of its nodes' keepalived.conf. A node without socat yet (a first install) skips the probes.
 */
export async function preflightBeforeChange(pool: ConnectionPool, deployments: readonly Deployment[], listenS: number, known: ReadonlyMap<string, string> = new Map()): Promise<(PreflightResult & { skipped?: string })[]> {
  const withVrrp = deployments.filter((d) => d.vrrp);
  const nodes = [...new Map(withVrrp.flatMap((d) => d.nodes).map((n) => [n.name, n])).values()].filter((n) => !known.has(n.name));
  const current = new Map([...known, ...await mapLimit(pool.openFirst(nodes), pool.maxOpen, async (n) => [n.name, (await (await pool.session(n)).run(CURRENT_VRIDS)).stdout] as const)]);
  const changing = withVrrp.filter((d) => vridsChange(d.vrrp!, d.nodes.map((n) => current.get(n.name) ?? '')));
  return (await preflight(pool, changing, listenS)).map((r) => {
    const noSocat = r.issues.filter((i) => i.message.includes('socat is not installed'));
    return noSocat.length > 0 ? { ...r, issues: [], skipped: `socat is not installed yet on ${noSocat.map((i) => i.host).join(', ')} (this run installs it): run lbdeploy preflight afterwards` } : r;
  });
}
