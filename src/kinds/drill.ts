/**
 * failover-test: a kind's drill on a deployment: stop something on the VIP holder (keepalived,
 * haproxy, the keepalived container...), measure how long until another node holds the VIP and
 * requests through it succeed, count failed requests while probing at a bounded rate, restore the
 * node, verify again.
 */
import { sh } from '../connection/shell.js';
import type { ConnectionPool, HostSession } from '../connection/pool.js';
import { describeCheck, type Check } from '../checks/check.js';
import { probeHosts } from '../checks/probe.js';
import { ADDRESSES_FACT, holders, holdsAddress } from '../checks/vip.js';
import { sleep } from '../util/sleep.js';
import { inspect } from './inspect.js';
import { waitReady } from './ready.js';
import type { Deployment, DrillSpec } from './types.js';

export interface FailoverResult {
  scenario: string;
  vip: string;
  holderBefore: string;
  holderAfter?: string;
  /** Seconds from the stop until another node held the VIP. */
  vipMovedS?: number;
  /** Seconds from the stop until a request through the VIP succeeded again. */
  servingS?: number;
  requests: number;
  failedRequests: number;
  restoredS?: number;
  verify: Check[];
  ok: boolean;
  problem?: string;
}


/** A bounded prober on the client: `rate` requests/s for `seconds`, one line per request. */
export function proberScript(url: string, rate: number, seconds: number) {
  const total = Math.ceil(rate * seconds);
  const pause = (1 / rate).toFixed(3);
  return sh`i=0; while [ $i -lt ${total} ]; do if curl -g -s -o /dev/null -m 0.5 ${url}; then echo ok; else echo fail; fi; i=$((i+1)); sleep ${pause}; done`;
}

export function countProbe(output: string): { requests: number; failed: number } {
  const lines = output.split('\n').filter((l) => l === 'ok' || l === 'fail');
  return { requests: lines.length, failed: lines.filter((l) => l === 'fail').length };
}

const PROBE_TIMEOUT_MS = 10_000;

export async function failoverTest(pool: ConnectionPool, d: Deployment, spec: DrillSpec, opts: { maxMoveS: number; rate: number }): Promise<FailoverResult> {
  const { scenario } = spec;
  const vip = d.vips[0]!.address;
  const service = d.endToEnd.find((e) => e.mode === 'http' && e.target.vip.replace(/^\[|\]$/g, '') === vip) ?? d.endToEnd.find((e) => e.target.vip.replace(/^\[|\]$/g, '') === vip);
  const url = service ? `http://${service.target.vip}:${service.target.port}/` : undefined;
  const currentHolders = async () => holders(await probeHosts(pool, d.nodes, () => [ADDRESSES_FACT], PROBE_TIMEOUT_MS), vip);
  const before = await currentHolders();
  const base: FailoverResult = { scenario, vip, holderBefore: before.join(','), requests: 0, failedRequests: 0, verify: [], ok: false };
  if (before.length !== 1) return { ...base, problem: `the VIP must have exactly one holder before the drill, not ${before.length}` };
  const holder = d.nodes.find((n) => n.name === before[0])!;
  const others = d.nodes.filter((n) => n !== holder);
  if (others.length === 0) return { ...base, problem: 'only one node: there is nowhere for the VIP to move' };
  const holderSession = await pool.session(holder);
  const otherSessions = await Promise.all(others.map((n) => pool.session(n)));
  const client: HostSession | undefined = d.client ? await pool.session(d.client) : undefined;

  const window = opts.maxMoveS * 2 + 2;
  const prober = client && url ? client.run(proberScript(url, opts.rate, window)) : undefined;
  await sleep(500);
  const stopped = Date.now();
  const stop = await holderSession.run(spec.stop);
  if (stop.code !== 0) return { ...base, problem: `could not stop ${scenario} on ${holder.name}: ${stop.stderr.trim()}` };
  let moved: number | undefined;
  let serving: number | undefined;
  let newHolder: string | undefined;
  while (Date.now() - stopped < window * 1000 && (moved === undefined || (url && client && serving === undefined))) {
    const [addrs, curl] = await Promise.all([
      Promise.all(otherSessions.map((s) => s.run(ADDRESSES_FACT.command))),
      client && url && moved !== undefined ? client.run(sh`curl -g -s -o /dev/null -m 0.5 -w '%{http_code}' ${url}`) : undefined,
    ]);
    const now = Date.now();
    const idx = addrs.findIndex((r) => holdsAddress(r.stdout, vip));
    if (moved === undefined && idx >= 0) {
      moved = now;
      newHolder = others[idx]!.name;
    }
    if (curl && curl.code === 0 && serving === undefined) serving = now;
    await sleep(100);
  }
  // Restore the node and wait for one stable holder that serves.
  await holderSession.run(spec.start);
  const restoreStart = Date.now();
  let restored: number | undefined;
  while (Date.now() - restoreStart < 30_000) {
    await sleep(500);
    const h = await currentHolders();
    if (h.length === 1) {
      restored = Date.now();
      break;
    }
  }
  await sleep(Math.max(0, opts.maxMoveS * 1000 - (Date.now() - restoreStart)));
  const probe = prober ? countProbe((await prober).stdout) : { requests: 0, failed: 0 };
  // Every check of the deployment ok again (backends risen, one holder), then the requests through the VIP.
  const ready = await waitReady(pool, [d], { timeoutMs: 30_000 });
  const verify = (await inspect(pool, [d], { timeoutMs: PROBE_TIMEOUT_MS, endToEnd: true })).checks;
  const vipMovedS = moved !== undefined ? (moved - stopped) / 1000 : undefined;
  const problems: string[] = [];
  if (vipMovedS === undefined) problems.push(`the VIP did not move within ${window} s`);
  else if (vipMovedS > opts.maxMoveS) problems.push(`the VIP moved in ${vipMovedS.toFixed(2)} s, more than ${opts.maxMoveS} s`);
  if (url && client && serving === undefined) problems.push('requests through the VIP did not succeed again');
  if (restored === undefined) problems.push('no single VIP holder within 30 s after the restore');
  if (!ready.ready) problems.push(`not ready again within 30 s: ${ready.checks.filter((c) => c.severity !== 'ok').map(describeCheck).join('; ')}`);
  if (verify.some((c) => c.severity === 'critical')) problems.push('verify after the restore failed');
  return {
    ...base, holderAfter: newHolder, vipMovedS, servingS: serving !== undefined ? (serving - stopped) / 1000 : undefined,
    requests: probe.requests, failedRequests: probe.failed, restoredS: restored !== undefined ? (restored - restoreStart) / 1000 : undefined,
    verify, ok: problems.length === 0, problem: problems.join('; ') || undefined,
  };
}
