/** Wait until the deployments serve: their checks, polled with a bounded deadline, all ok. */
import type { ConnectionPool } from '../connection/pool.js';
import { allOk, type Check } from '../checks/check.js';
import { sleep } from '../util/sleep.js';
import { inspect } from './inspect.js';
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
 */
export async function waitReady(pool: ConnectionPool, deployments: readonly Deployment[], opts: { timeoutMs: number; intervalMs?: number; endToEnd?: boolean }): Promise<Readiness> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 1000;
  let rounds = 0;
  for (;;) {
    const left = opts.timeoutMs - (Date.now() - started);
    const { checks } = await inspect(pool, deployments, { timeoutMs: Math.max(2000, Math.min(10_000, left)), endToEnd: opts.endToEnd ?? false });
    rounds++;
    if (allOk(checks)) return { ready: true, ms: Date.now() - started, rounds, checks };
    const remaining = opts.timeoutMs - (Date.now() - started);
    if (remaining <= 0) return { ready: false, ms: Date.now() - started, rounds, checks };
    // The last round runs at the deadline, not an interval before it.
    await sleep(Math.min(interval, remaining));
  }
}
