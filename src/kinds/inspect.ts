/**
 * Run the deployments' checks: every node probed once (all the probes its deployments want, in one
 * round trip, hosts in parallel, a time limit per host), each deployment's checks evaluated on its
 * own nodes, then, when asked, requests through the VIPs. verify, `up`'s readiness wait and audit
 * all come through here.
 */
import type { ConnectionPool } from '../connection/pool.js';
import type { Host } from '../inventory/model.js';
import type { FactRequest, FactResult } from '../operations/types.js';
import { factsSignature } from '../facts/batch.js';
import type { Check } from '../checks/check.js';
import { endToEndChecks } from '../checks/curl.js';
import { probeHosts, type NodeProbe } from '../checks/probe.js';
import type { Phase } from '../connection/ssh.js';
import type { AuditThresholds, Deployment } from './types.js';

export interface InspectOptions {
  /** Per host, for its probes. */
  timeoutMs: number;
  /** Where the pool counts the probes' time (the readiness wait: 'wait'). */
  phase?: Phase;
  /** Also send requests through the VIPs from each deployment's client. */
  endToEnd: boolean;
  /** Also the audit's own checks (certificates), with these thresholds. */
  audit?: AuditThresholds;
  /** Hosts to probe beyond the deployments' nodes (audit: reachability of every host). */
  extraHosts?: readonly Host[];
  /** More probes for a host, in the same round trip (audit: its `audit_containers`). */
  extraProbes?: (h: Host) => readonly FactRequest[];
  /**
   * Answers already read (a run's last turn on each host, over the --forks cap): a host whose
   * answers are to exactly the requests this inspection asks is not probed again.
   */
  known?: ReadonlyMap<string, TurnAnswers>;
}

/** A host's answers to a set of requests, and that set's signature (facts/batch.ts factsSignature). */
export interface TurnAnswers {
  signature: string;
  facts: ReadonlyMap<string, FactResult>;
}

/** Everything an inspection asks a host: the probes of each deployment it is a node of (and the audit's, and the extra ones). */
export function probeRequests(deployments: readonly Deployment[], h: Host, opts: Pick<InspectOptions, 'audit' | 'extraProbes'> = {}): FactRequest[] {
  return deployments.filter((d) => d.nodes.some((n) => n.name === h.name))
    .flatMap((d) => [...d.probes, ...(opts.audit && d.audit ? d.audit.probes : [])]).concat(opts.extraProbes?.(h) ?? []);
}

export interface Inspection {
  checks: Check[];
  probes: ReadonlyMap<string, NodeProbe>;
  /** The same checks by deployment (in the order given): the audit's picture colours each cluster with its own. */
  byDeployment: Check[][];
}

export async function inspect(pool: ConnectionPool, deployments: readonly Deployment[], opts: InspectOptions): Promise<Inspection> {
  const hosts = new Map<string, Host>();
  for (const h of [...deployments.flatMap((d) => d.nodes), ...(opts.extraHosts ?? [])]) hosts.set(h.name, h);
  const requestsOf = (h: Host) => probeRequests(deployments, h, opts);
  const answered = (h: Host) => {
    const known = opts.known?.get(h.name);
    return known && known.signature === factsSignature(requestsOf(h)) ? known.facts : undefined;
  };
  const fresh = await probeHosts(pool, [...hosts.values()].filter((h) => !answered(h)), requestsOf, opts.timeoutMs, opts.phase);
  const probes = new Map([...hosts.values()].map((h): [string, NodeProbe] => [h.name, answered(h) ?? fresh.get(h.name)!]));
  const byDeployment = deployments.map((d) => {
    const mine = new Map(d.nodes.map((n) => [n.name, probes.get(n.name)!]));
    return [...d.evaluate(mine), ...(opts.audit && d.audit ? d.audit.evaluate(mine, opts.audit) : [])];
  });
  const checks = byDeployment.flat();
  if (opts.endToEnd) {
    for (const [i, d] of deployments.entries()) {
      const e2e = await endToEndChecks(pool, d.client, d.endToEnd);
      byDeployment[i]!.push(...e2e);
      checks.push(...e2e);
    }
  }
  return { checks, probes, byDeployment };
}
