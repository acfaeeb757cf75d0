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

interface VipRound {
  vip: string;
  url?: string;
  base: FailoverResult;
  prober?: Promise<{ stdout: string }>;
  moved?: number;
  serving?: number;
  newHolder?: string;
  restored?: number;
}

/**
 * The drill, for every VIP of the deployment: the VIPs grouped by the node that holds them, one round
 * per holder (stop on it, measure each of its VIPs moving and serving again, restore), then the
 * deployment verified once. One result per VIP.
 */
export async function failoverTest(pool: ConnectionPool, d: Deployment, spec: DrillSpec, opts: { maxMoveS: number; rate: number }): Promise<FailoverResult[]> {
  const { scenario } = spec;
  const unbracket = (a: string) => a.replace(/^\[|\]$/g, '');
  const urlOf = (vip: string) => {
    const service = d.endToEnd.find((e) => e.mode === 'http' && unbracket(e.target.vip) === vip) ?? d.endToEnd.find((e) => unbracket(e.target.vip) === vip);
    return service ? `http://${service.target.vip}:${service.target.port}/` : undefined;
  };
  const probeAll = () => probeHosts(pool, d.nodes, () => [ADDRESSES_FACT], PROBE_TIMEOUT_MS);
  const first = await probeAll();
  const results = new Map<string, FailoverResult>();
  const byHolder = new Map<string, VipRound[]>();
  for (const { address: vip } of d.vips) {
    const before = holders(first, vip);
    const base: FailoverResult = { scenario, vip, holderBefore: before.join(','), requests: 0, failedRequests: 0, verify: [], ok: false };
    if (before.length !== 1) results.set(vip, { ...base, problem: `the VIP must have exactly one holder before the drill, not ${before.length}` });
    else byHolder.set(before[0]!, [...(byHolder.get(before[0]!) ?? []), { vip, url: urlOf(vip), base }]);
  }
  const client: HostSession | undefined = d.client ? await pool.session(d.client) : undefined;
  const window = opts.maxMoveS * 2 + 2;
  for (const [holderName, rounds] of byHolder) {
    const holder = d.nodes.find((n) => n.name === holderName)!;
    const others = d.nodes.filter((n) => n !== holder);
    if (others.length === 0) {
      for (const r of rounds) results.set(r.vip, { ...r.base, problem: 'only one node: there is nowhere for the VIP to move' });
      continue;
    }
    const holderSession = await pool.session(holder);
    const otherSessions = await Promise.all(others.map((n) => pool.session(n)));
    for (const r of rounds) if (client && r.url) r.prober = client.run(proberScript(r.url, opts.rate, window));
    await sleep(500);
    const stopped = Date.now();
    const stop = await holderSession.run(spec.stop);
    if (stop.code !== 0) {
      await Promise.all(rounds.map((r) => r.prober));
      for (const r of rounds) results.set(r.vip, { ...r.base, problem: `could not stop ${scenario} on ${holder.name}: ${stop.stderr.trim()}` });
      continue;
    }
    const pending = () => rounds.some((r) => r.moved === undefined || (r.url && client && r.serving === undefined));
    while (Date.now() - stopped < window * 1000 && pending()) {
      const [addrs, curls] = await Promise.all([
        Promise.all(otherSessions.map((s) => s.run(ADDRESSES_FACT.command))),
        Promise.all(rounds.map((r) => (client && r.url && r.moved !== undefined && r.serving === undefined ? client.run(sh`curl -g -s -o /dev/null -m 0.5 -w '%{http_code}' ${r.url}`) : undefined))),
      ]);
      const now = Date.now();
      rounds.forEach((r, i) => {
        const idx = addrs.findIndex((a) => holdsAddress(a.stdout, r.vip));
        if (r.moved === undefined && idx >= 0) {
          r.moved = now;
          r.newHolder = others[idx]!.name;
        }
        if (curls[i]?.code === 0 && r.serving === undefined) r.serving = now;
      });
      await sleep(100);
    }
    // Restore the node and wait for one stable holder of each VIP.
    await holderSession.run(spec.start);
    const restoreStart = Date.now();
    while (Date.now() - restoreStart < 30_000 && rounds.some((r) => r.restored === undefined)) {
      await sleep(500);
      const probes = await probeAll();
      for (const r of rounds) if (r.restored === undefined && holders(probes, r.vip).length === 1) r.restored = Date.now();
    }
    await sleep(Math.max(0, opts.maxMoveS * 1000 - (Date.now() - restoreStart)));
    for (const r of rounds) {
      const probe = r.prober ? countProbe((await r.prober).stdout) : { requests: 0, failed: 0 };
      const vipMovedS = r.moved !== undefined ? (r.moved - stopped) / 1000 : undefined;
      const problems: string[] = [];
      if (vipMovedS === undefined) problems.push(`the VIP did not move within ${window} s`);
      else if (vipMovedS > opts.maxMoveS) problems.push(`the VIP moved in ${vipMovedS.toFixed(2)} s, more than ${opts.maxMoveS} s`);
      if (r.url && client && r.serving === undefined) problems.push('requests through the VIP did not succeed again');
      if (r.restored === undefined) problems.push('no single VIP holder within 30 s after the restore');
      results.set(r.vip, {
        ...r.base, holderAfter: r.newHolder, vipMovedS, servingS: r.serving !== undefined ? (r.serving - stopped) / 1000 : undefined,
        requests: probe.requests, failedRequests: probe.failed, restoredS: r.restored !== undefined ? (r.restored - restoreStart) / 1000 : undefined,
        ok: problems.length === 0, problem: problems.join('; ') || undefined,
      });
    }
  }
  // Every check of the deployment ok again (backends risen, one holder each), then the requests through the VIPs.
  const ready = await waitReady(pool, [d], { timeoutMs: 30_000 });
  const verify = (await inspect(pool, [d], { timeoutMs: PROBE_TIMEOUT_MS, endToEnd: true })).checks;
  const after: string[] = [];
  if (!ready.ready) after.push(`not ready again within 30 s: ${ready.checks.filter((c) => c.severity !== 'ok').map(describeCheck).join('; ')}`);
  if (verify.some((c) => c.severity === 'critical')) after.push('verify after the restore failed');
  return d.vips.map(({ address }) => {
    const r = results.get(address)!;
    const problems = [r.problem, ...after].filter((p): p is string => !!p);
    return { ...r, verify, ok: problems.length === 0, problem: problems.join('; ') || undefined };
  });
}
