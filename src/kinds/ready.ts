/** Wait until the deployments serve: their checks, polled with a bounded deadline, all ok. */
import type { ConnectionPool } from '../connection/pool.js';
import { allOk, type Check } from '../checks/check.js';
import { sleep } from '../util/sleep.js';
import { inspect, type InspectOptions } from './inspect.js';
import type { Deployment } from './types.js';

export interface Readiness {
  ready: boolean;
  /** How long it took (or how long it waited before giving up). */
  ms: number;
  /** How many times the checks ran. */
  rounds: number;
  /** The last round's checks. */
  checks: Check[];
}

/**
 * Poll every `intervalMs` (each host probed once a round, with a time limit) until every check is
 * ok or `timeoutMs` passed; with `endToEnd`, requests through the VIPs from the client as well.
 * A deployment whose checks were all ok in one round is ready: later rounds probe only the nodes
 * of those that are not yet. `known` answers the first round for the hosts it holds (what a run's
 * last turn on each host read, over the --forks cap): hosts it covers are not probed in that round.
 */
export async function waitReady(pool: ConnectionPool, deployments: readonly Deployment[], opts: { timeoutMs: number; intervalMs?: number; endToEnd?: boolean; known?: InspectOptions['known'] }): Promise<Readiness> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 1000;
  const last = new Map<Deployment, Check[]>();
  let pending = [...deployments];
  let rounds = 0;
  const result = (ready: boolean): Readiness => ({ ready, ms: Date.now() - started, rounds, checks: deployments.flatMap((d) => last.get(d) ?? []) });
  for (;;) {
    const left = opts.timeoutMs - (Date.now() - started);
    const { byDeployment } = await inspect(pool, pending, { timeoutMs: Math.max(2000, Math.min(10_000, left)), endToEnd: opts.endToEnd ?? false, known: rounds === 0 ? opts.known : undefined, phase: 'wait' });
    rounds++;
    pending.forEach((d, i) => last.set(d, byDeployment[i]!));
    pending = pending.filter((d) => !allOk(last.get(d)!));
    if (pending.length === 0) return result(true);
    const remaining = opts.timeoutMs - (Date.now() - started);
    if (remaining <= 0) return result(false);
    // The last round runs at the deadline, not an interval before it.
    await sleep(Math.min(interval, remaining));
  }
}
