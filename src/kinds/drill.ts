/**
 * failover-test: a kind's drill on a deployment. Load goes through every VIP from the client at a fixed
 * rate (h2load, open loop); then a fault on the VIP holder (a service stopped, a process killed or
 * hung, VRRP blocked, the node powered off) or planned work (a reload on every node, a drain); the
 * drill measures how long until another node holds the VIP, how long until requests succeed again,
 * failed / total and latency, then restores the node and verifies again.
 */
import { sh, type ShellCommand } from '../connection/shell.js';
import type { ConnectionPool, HostSession } from '../connection/pool.js';
import type { ExecResult } from '../connection/ssh.js';
import type { Host } from '../inventory/model.js';
import { describeCheck, type Check } from '../checks/check.js';
import { evaluateLoad, loadScript } from '../checks/load.js';
import { probeHosts } from '../checks/probe.js';
import { ADDRESSES_FACT, holders, holdsAddress } from '../checks/vip.js';
import { sleep } from '../util/sleep.js';
import { inspect } from './inspect.js';
import { waitReady } from './ready.js';
import type { Deployment, DrillSpec } from './types.js';

export interface FailoverResult {
  scenario: string;
  title: string;
  planned: boolean;
  vip: string;
  holderBefore: string;
  holderAfter?: string;
  /** Seconds from the fault until another node held the VIP (absent: it stayed). */
  vipMovedS?: number;
  /** Seconds from the fault until requests through the VIP succeeded again (0: none failed around it). */
  servingS?: number;
  /** Traffic lost, in seconds of the fixed rate (failed / rate): the outage's worth, however the failures were spread. */
  outageS?: number;
  requests: number;
  failedRequests: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Nodes seen holding the VIP at once during the drill: split brain. */
  splitBrain?: string[];
  restoredS?: number;
  verify: Check[];
  ok: boolean;
  problem?: string;
}

export interface DrillOptions {
  maxMoveS: number;
  /** Requests per second through each VIP. */
  rate: number;
  /** A request not answered within this many seconds failed. */
  timeoutS: number;
  /** Runs a local drill's stop/start on the machine running lbdeploy. */
  runLocal?: (cmd: ShellCommand) => Promise<{ code: number; stderr: string }>;
}

const PROBE_TIMEOUT_MS = 10_000;
/** How long the verify after the restore may take to find nothing critical (a preempting node taking its VIP back). */
const VERIFY_SETTLE_MS = 15_000;
const POLL_MS = 50;
/** Load before the fault: the baseline the latency and the gaps are read against. */
const BASELINE_MS = 1000;
/** How long a fault that need not move the VIP is held before the node is restored. */
const HOLD_MS = 2000;
/** After the VIP moved: how long the old and new holders are still watched for a split brain. */
const SPLIT_WATCH_MS = 500;

interface VipRound {
  vip: string;
  url?: string;
  base: FailoverResult;
  load?: Promise<ExecResult>;
  moved?: number;
  newHolder?: string;
  seen: Set<string>;
  /** The holders of the last poll, when more than one. */
  multi?: string[];
  restored?: number;
}

/** The client's clock minus ours, in µs (the load log is stamped by the client). */
async function clockOffsetUs(client: HostSession): Promise<number> {
  const t0 = Date.now();
  const r = await client.run(sh`date +%s%6N`);
  const t1 = Date.now();
  const us = Number(r.stdout.trim());
  return Number.isFinite(us) && r.code === 0 ? us - ((t0 + t1) / 2) * 1000 : 0;
}

/** Who holds each round's VIP now, among the nodes we can ask. */
async function pollHolders(sessions: readonly [Host, HostSession][], rounds: VipRound[], others: readonly Host[]): Promise<void> {
  const addrs = await Promise.all(sessions.map(([, s]) => s.run(ADDRESSES_FACT.command, { timeoutMs: 2000 }).catch(() => undefined)));
  const now = Date.now();
  for (const r of rounds) {
    const holding = sessions.filter((_, i) => addrs[i] && holdsAddress(addrs[i]!.stdout, r.vip)).map(([h]) => h.name);
    // Two holders in two polls running is a split brain; one poll is a takeover caught mid-way (the new
    // holder adds the VIP a moment before the old one lets it go).
    if (holding.length > 1 && r.multi) [...r.multi, ...holding].forEach((n) => r.seen.add(n));
    r.multi = holding.length > 1 ? holding : undefined;
    const mover = holding.find((n) => others.some((o) => o.name === n));
    if (r.moved === undefined && mover) {
      r.moved = now;
      r.newHolder = mover;
    }
  }
}

/** Apply the fault (or the planned work): on the holder, on every node in turn, or locally. */
async function applyStop(pool: ConnectionPool, spec: DrillSpec, holder: Host, others: readonly Host[], o: DrillOptions): Promise<string | undefined> {
  if (spec.local) {
    if (!o.runLocal) return 'this drill runs a local command, and none was given';
    await pool.forget(holder);
    const r = await o.runLocal(spec.local(holder).stop);
    return r.code === 0 ? undefined : r.stderr.trim() || `exit ${r.code}`;
  }
  for (const n of spec.everyNode ? [...others, holder] : [spec.target ?? holder]) {
    const s = await pool.session(n);
    const r = await s.run(spec.stop);
    if (r.code !== 0) return `${n.name}: ${r.stderr.trim() || `exit ${r.code}`}`;
    if (spec.everyNode) {
      const back = await s.run(spec.start);
      if (back.code !== 0) return `${n.name}: ${back.stderr.trim() || `exit ${back.code}`}`;
    }
  }
  return undefined;
}

/** Put the node back; a powered-off node is waited for until it answers SSH again. */
async function applyStart(pool: ConnectionPool, spec: DrillSpec, holder: Host, o: DrillOptions): Promise<string | undefined> {
  if (spec.everyNode) return undefined;
  if (spec.local) {
    const r = await o.runLocal!(spec.local(holder).start);
    if (r.code !== 0) return r.stderr.trim() || `exit ${r.code}`;
    const until = Date.now() + 120_000;
    for (;;) {
      try {
        await (await pool.session(holder)).run(sh`true`, { timeoutMs: 5000 });
        return undefined;
      } catch (e) {
        await pool.forget(holder);
        if (Date.now() > until) return `${holder.name} did not answer SSH within 120 s: ${(e as Error).message}`;
        await sleep(1000);
      }
    }
  }
  const r = await (await pool.session(spec.target ?? holder)).run(spec.start);
  return r.code === 0 ? undefined : r.stderr.trim() || `exit ${r.code}`;
}

function judge(spec: DrillSpec, r: VipRound, res: Pick<FailoverResult, 'vipMovedS' | 'servingS' | 'failedRequests' | 'requests'>, o: DrillOptions, measured: boolean): string[] {
  const expect = spec.expect ?? 'move';
  const problems: string[] = [];
  if (expect === 'move' && res.vipMovedS === undefined) problems.push(`the VIP did not move within the drill`);
  else if (expect === 'move' && res.vipMovedS! > o.maxMoveS) problems.push(`the VIP moved in ${res.vipMovedS!.toFixed(2)} s, more than ${o.maxMoveS} s`);
  if (expect === 'stay' && res.vipMovedS !== undefined) problems.push(`the VIP moved to ${r.newHolder} (it should have stayed)`);
  if (measured && res.servingS === undefined) problems.push('requests through the VIP did not succeed again');
  if (measured && spec.planned && res.failedRequests > 0) problems.push(`planned work lost ${res.failedRequests} of ${res.requests} requests`);
  if (!spec.splitBrain && r.seen.size > 1) problems.push(`split brain: ${[...r.seen].join(' and ')} held the VIP at once`);
  if (r.restored === undefined) problems.push('no single VIP holder within 30 s after the restore');
  return problems;
}

/** One holder's round: load on its VIPs, the fault, the measurements, the restore. */
async function runRound(pool: ConnectionPool, d: Deployment, spec: DrillSpec, holder: Host, rounds: VipRound[], client: HostSession | undefined, o: DrillOptions): Promise<FailoverResult[]> {
  const others = d.nodes.filter((n) => n !== holder);
  const window = o.maxMoveS * 2 + 4;
  const offsetUs = client ? await clockOffsetUs(client) : 0;
  for (const r of rounds) if (client && r.url) r.load = client.run(loadScript({ url: r.url, rate: o.rate, seconds: window, timeoutS: o.timeoutS }), { timeoutMs: (window + o.timeoutS + 30) * 1000 });
  await sleep(BASELINE_MS);
  const askable = async (withHolder: boolean) => Promise.all((withHolder ? [...others, holder] : others).map(async (n) => [n, await pool.session(n)] as [Host, HostSession]));
  const sessions = await askable(!spec.local);
  const faultAt = Date.now();
  // The holders are polled while the fault is applied: `systemctl stop` returns after keepalived gave the VIP up.
  let stopDone = false;
  const stopping = applyStop(pool, spec, holder, others, o).finally(() => { stopDone = true; });
  // Until every VIP moved (or, when it need not move, the hold time), then a little longer for a split brain to show.
  const expect = spec.expect ?? 'move';
  // A VIP that may stay (a restarted process) is watched up to --max-move: a slow check can still move it.
  const settled = () => stopDone && (rounds.every((r) => r.moved !== undefined) || (expect === 'stay' && Date.now() - faultAt >= HOLD_MS) || (expect === 'any' && Date.now() - faultAt >= o.maxMoveS * 1000));
  const polled = spec.local ? sessions : sessions.filter(([h]) => h !== holder || (!spec.everyNode && !spec.cutsHolder));
  while (Date.now() - faultAt < o.maxMoveS * 1000 * 2 && !settled()) {
    await pollHolders(polled, rounds, others);
    await sleep(POLL_MS);
  }
  const stopProblem = await stopping;
  if (stopProblem) {
    await Promise.all(rounds.map((r) => r.load));
    return rounds.map((r) => ({ ...r.base, problem: `could not run ${spec.scenario} on ${holder.name}: ${stopProblem}` }));
  }
  // Watched a little longer once it settled: a new holder while the old one keeps the VIP is a split
  // brain only if it lasts past one poll (a fault that splits on purpose is watched for HOLD_MS).
  for (const until = Date.now() + (spec.splitBrain ? HOLD_MS : SPLIT_WATCH_MS); Date.now() < until;) {
    await pollHolders(spec.splitBrain ? sessions : polled, rounds, others);
    await sleep(spec.splitBrain ? POLL_MS * 4 : POLL_MS);
  }
  // A holder cut off the network comes back by itself: its start runs once the cut is over.
  if (spec.cutsHolder) await sleep(Math.max(0, faultAt + spec.cutsHolder * 1000 + 1000 - Date.now()));
  const startProblem = await applyStart(pool, spec, holder, o);
  const restoreStart = Date.now();
  const probeAll = () => probeHosts(pool, d.nodes, () => [ADDRESSES_FACT], PROBE_TIMEOUT_MS);
  while (!startProblem && Date.now() - restoreStart < 30_000 && rounds.some((r) => r.restored === undefined)) {
    await sleep(500);
    const probes = await probeAll();
    for (const r of rounds) if (r.restored === undefined && holders(probes, r.vip).length === 1) r.restored = Date.now();
  }
  const out: FailoverResult[] = [];
  for (const r of rounds) {
    const loadOut = r.load ? await r.load : undefined;
    const measured = !!loadOut && loadOut.code === 0;
    const load = measured ? evaluateLoad(loadOut!.stdout, o.rate, faultAt * 1000 + offsetUs) : undefined;
    const vipMovedS = r.moved !== undefined ? (r.moved - faultAt) / 1000 : undefined;
    const outageS = load ? load.failed / o.rate : undefined;
    const res = { vipMovedS, servingS: load?.servingS, outageS, requests: load?.requests ?? 0, failedRequests: load?.failed ?? 0 };
    const problems = judge(spec, r, res, o, measured);
    if (loadOut && !measured) problems.push(`the load on ${d.client?.name} failed: ${loadOut.stderr.trim().split('\n').pop()}`);
    if (startProblem) problems.push(`could not restore ${holder.name}: ${startProblem}`);
    out.push({
      ...r.base, ...res, holderAfter: r.newHolder, p50Ms: load?.p50Ms, p99Ms: load?.p99Ms, splitBrain: r.seen.size > 1 ? [...r.seen] : undefined,
      restoredS: r.restored !== undefined ? (r.restored - restoreStart) / 1000 : undefined, ok: problems.length === 0, problem: problems.join('; ') || undefined,
    });
  }
  return out;
}

/**
 * The verify after the restore, asked again while it finds something critical (at most
 * VERIFY_SETTLE_MS): a restored node that preempts takes its VIP back once its checks rise, and
 * for an advert or two both nodes hold it. Such a hand-over is not a split brain; one that lasts is.
 */
async function settledVerify(pool: ConnectionPool, d: Deployment): Promise<Check[]> {
  const until = Date.now() + VERIFY_SETTLE_MS;
  for (;;) {
    const checks = (await inspect(pool, [d], { timeoutMs: PROBE_TIMEOUT_MS, endToEnd: true })).checks;
    if (!checks.some((c) => c.severity === 'critical') || Date.now() > until) return checks;
    await sleep(1000);
  }
}

/**
 * The drill, for every VIP of the deployment: the VIPs grouped by the node that holds them, one round
 * per holder, then the deployment verified once. One result per VIP.
 */
export async function failoverTest(pool: ConnectionPool, d: Deployment, spec: DrillSpec, opts: DrillOptions): Promise<FailoverResult[]> {
  const unbracket = (a: string) => a.replace(/^\[|\]$/g, '');
  const urlOf = (vip: string) => {
    const service = d.endToEnd.find((e) => e.mode === 'http' && unbracket(e.target.vip) === vip);
    return service ? `http://${service.target.vip}:${service.target.port}/` : undefined;
  };
  const first = await probeHosts(pool, d.nodes, () => [ADDRESSES_FACT], PROBE_TIMEOUT_MS);
  const results = new Map<string, FailoverResult>();
  const byHolder = new Map<string, VipRound[]>();
  const title = spec.title ?? spec.scenario;
  for (const { address: vip } of d.vips) {
    const before = holders(first, vip);
    const base: FailoverResult = { scenario: spec.scenario, title, planned: !!spec.planned, vip, holderBefore: before.join(','), requests: 0, failedRequests: 0, verify: [], ok: false };
    if (before.length !== 1) results.set(vip, { ...base, problem: `the VIP must have exactly one holder before the drill, not ${before.length}` });
    else byHolder.set(before[0]!, [...(byHolder.get(before[0]!) ?? []), { vip, url: urlOf(vip), base, seen: new Set() }]);
  }
  const client = d.client ? await pool.session(d.client) : undefined;
  for (const [holderName, rounds] of byHolder) {
    const holder = d.nodes.find((n) => n.name === holderName)!;
    if (d.nodes.length < 2) {
      for (const r of rounds) results.set(r.vip, { ...r.base, problem: 'only one node: there is nowhere for the VIP to move' });
      continue;
    }
    for (const r of await runRound(pool, d, spec, holder, rounds, client, opts)) results.set(r.vip, r);
  }
  // Every check of the deployment ok again (backends risen, one holder each), then the requests through the VIPs.
  const ready = await waitReady(pool, [d], { timeoutMs: 30_000 });
  const verify = await settledVerify(pool, d);
  const after: string[] = [];
  if (!ready.ready) after.push(`not ready again within 30 s: ${ready.checks.filter((c) => c.severity !== 'ok').map(describeCheck).join('; ')}`);
  if (verify.some((c) => c.severity === 'critical')) after.push('verify after the restore failed');
  return d.vips.map(({ address }) => {
    const r = results.get(address)!;
    const problems = [r.problem, ...after].filter((p): p is string => !!p);
    return { ...r, verify, ok: problems.length === 0, problem: problems.join('; ') || undefined };
  });
}
