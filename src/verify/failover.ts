/**
 * failover-test: stop keepalived (or haproxy, which the vrrp_script must notice; or seed 002's
 * keepalived container) on the VIP holder,
 * measure how long until another node holds the VIP and requests through it succeed, count failed
 * requests while probing at a bounded rate, restore the node, verify again.
 */
import { sh, type ShellCommand } from '../connection/shell.js';
import type { ConnectionPool, HostSession } from '../connection/pool.js';
import type { Host } from '../inventory/model.js';
import { serviceTargets, vipsOf } from '../lb/ha.js';
import { holders, probeNodes, verifyHa, type Check, type HaContext } from './ha-verify.js';
import { ADDRESSES_FACT, holdsAddress } from './ha-probe.js';
import { sleep } from '../util/sleep.js';

/** keepalived or haproxy stopped by systemd (seeds 000/001), or the keepalived container stopped (seed 002). */
export type Scenario = 'keepalived' | 'haproxy' | 'keepalived-container';

export interface FailoverResult {
  scenario: Scenario;
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

/** What a drill needs from a deployment: who holds the VIP, how to stop and restore the holder, how to verify. */
export interface Drill {
  scenario: Scenario;
  vip: string;
  /** A URL through the VIP the client probes (none: only the VIP move is measured). */
  url?: string;
  nodes: Host[];
  client?: Host;
  pool: ConnectionPool;
  stop: ShellCommand;
  start: ShellCommand;
  holders(): Promise<string[]>;
  verify(): Promise<Check[]>;
}

/** The haproxy-keepalived drills: stop keepalived (or haproxy) with systemctl. */
export function haDrill(ctx: HaContext, scenario: 'keepalived' | 'haproxy'): Drill {
  const vip = vipsOf(ctx.vars)[0]!;
  const target = serviceTargets(ctx.vars, ctx.hosts)[0];
  return {
    scenario, vip: vip.address, url: target ? `http://${vip.address}:${target.port}/` : undefined, nodes: ctx.nodes, client: ctx.client, pool: ctx.pool,
    stop: sh`systemctl stop ${scenario}`, start: sh`systemctl start ${scenario}`,
    holders: async () => holders(await probeNodes(ctx), vip.address),
    verify: () => verifyHa(ctx),
  };
}

export async function failoverTest(drill: Drill, opts: { maxMoveS: number; rate: number }): Promise<FailoverResult> {
  const { scenario, url, vip } = drill;
  const before = await drill.holders();
  const base: FailoverResult = { scenario, vip, holderBefore: before.join(','), requests: 0, failedRequests: 0, verify: [], ok: false };
  if (before.length !== 1) return { ...base, problem: `the VIP must have exactly one holder before the drill, not ${before.length}` };
  const holder = drill.nodes.find((n) => n.name === before[0])!;
  const others = drill.nodes.filter((n) => n !== holder);
  if (others.length === 0) return { ...base, problem: 'only one node: there is nowhere for the VIP to move' };
  const holderSession = await drill.pool.session(holder);
  const otherSessions = await Promise.all(others.map((n) => drill.pool.session(n)));
  const client: HostSession | undefined = drill.client ? await drill.pool.session(drill.client) : undefined;

  const window = opts.maxMoveS * 2 + 2;
  const prober = client && url ? client.run(proberScript(url, opts.rate, window)) : undefined;
  await sleep(500);
  const stopped = Date.now();
  const stop = await holderSession.run(drill.stop);
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
  await holderSession.run(drill.start);
  const restoreStart = Date.now();
  let restored: number | undefined;
  while (Date.now() - restoreStart < 30_000) {
    await sleep(500);
    const h = await drill.holders();
    if (h.length === 1) {
      restored = Date.now();
      break;
    }
  }
  await sleep(Math.max(0, opts.maxMoveS * 1000 - (Date.now() - restoreStart)));
  const probe = prober ? countProbe((await prober).stdout) : { requests: 0, failed: 0 };
  const verify = await drill.verify();
  const vipMovedS = moved !== undefined ? (moved - stopped) / 1000 : undefined;
  const problems: string[] = [];
  if (vipMovedS === undefined) problems.push(`the VIP did not move within ${window} s`);
  else if (vipMovedS > opts.maxMoveS) problems.push(`the VIP moved in ${vipMovedS.toFixed(2)} s, more than ${opts.maxMoveS} s`);
  if (url && client && serving === undefined) problems.push('requests through the VIP did not succeed again');
  if (restored === undefined) problems.push('no single VIP holder within 30 s after the restore');
  if (verify.some((c) => c.status === 'fail')) problems.push('verify after the restore failed');
  return {
    ...base, holderAfter: newHolder, vipMovedS, servingS: serving !== undefined ? (serving - stopped) / 1000 : undefined,
    requests: probe.requests, failedRequests: probe.failed, restoredS: restored !== undefined ? (restored - restoreStart) / 1000 : undefined,
    verify, ok: problems.length === 0, problem: problems.join('; ') || undefined,
  };
}
