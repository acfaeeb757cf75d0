/** Read-only probes of many hosts: one round trip per host, hosts in parallel, a time limit per host. */
import type { ConnectionPool } from '../connection/pool.js';
import type { Phase } from '../connection/ssh.js';
import { LbdeployError } from '../errors.js';
import { dedupeFacts, runFacts } from '../facts/batch.js';
import { sh } from '../connection/shell.js';
import type { Host } from '../inventory/model.js';
import type { FactRequest, FactResult } from '../operations/types.js';
import { mapLimit } from '../util/limit.js';

/** A host's probe results by key, or why it gave none. */
export type NodeProbe = ReadonlyMap<string, FactResult> | { error: string };

export const probeError = (p: NodeProbe | undefined): string | undefined => (p && 'error' in p ? (p as { error: string }).error : p ? undefined : 'not probed');

/** The output of one probe of a host ('' when the host gave none). */
export function probeOut(p: NodeProbe | undefined, key: string): string {
  return p && !('error' in p) ? (p as ReadonlyMap<string, FactResult>).get(key)?.stdout ?? '' : '';
}

/** A host with nothing else to probe: does it answer at all? */
const REACHABLE: FactRequest = { key: 'reachable', command: sh`true` };

async function withTimeout<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new LbdeployError(`no answer within ${ms / 1000} s`, { where: host })), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Each host's probes (requests with the same key are sent once) in one batched command; an
 * unreachable or silent host becomes an error entry after `timeoutMs`, never a hang.
 */
export async function probeHosts(pool: ConnectionPool, hosts: readonly Host[], requestsOf: (h: Host) => readonly FactRequest[], timeoutMs: number, phase?: Phase): Promise<Map<string, NodeProbe>> {
  // Under a connection cap: no more hosts at once than it allows (a host's time limit starts with its
  // turn), those still connected first, so they are not closed to make room and opened again.
  const results = await mapLimit(pool.openFirst(hosts), pool.maxOpen, async (h): Promise<[string, NodeProbe]> => {
    const requests = dedupeFacts(requestsOf(h));
    try {
      const r = await withTimeout((async () => {
        const session = await pool.session(h);
        return runFacts((script) => session.run(script, { timeoutMs, phase }), requests.length > 0 ? requests : [REACHABLE]);
      })(), timeoutMs, h.name);
      return [h.name, r.facts];
    } catch (e) {
      return [h.name, { error: (e as Error).message }];
    }
  });
  const byName = new Map(results);
  return new Map(hosts.map((h) => [h.name, byName.get(h.name)!]));
}

/** A backend as one node sees it (haproxy's stats socket, the IPVS table): for the audit's topology picture. */
export interface BackendView {
  /** The haproxy backend, or the virtual service (ADDRESS:PORT). */
  service: string;
  /** The server as the inventory names it. */
  server: string;
  state: 'up' | 'down' | 'other';
  /** What the node reported, e.g. "UP", "DOWN", "MAINT", "not in the IPVS table". */
  detail: string;
}
