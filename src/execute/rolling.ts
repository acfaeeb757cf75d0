/**
 * `up --serial N|P%`: a rolling change over a fleet of VRRP clusters. Clusters go in batches; in
 * each batch the backups converge first and the VIP holders after them (the VIP moves at most
 * once, to a node already converged); then a health gate (the kinds' readiness checks on the
 * batch's clusters, with requests through each VIP from the client) must pass before the next
 * batch starts. A failed batch stops the rollout, the rest untouched, with the command that
 * resumes it (--max-fail sets how many failed batches are tolerated first). Every host's run lock
 * is taken before the first batch, over the connections the whole rollout reuses.
 */
import { LockError } from '../connection/lock.js';
import type { ConnectionPool } from '../connection/pool.js';
import { probeHosts } from '../checks/probe.js';
import { ADDRESSES_FACT, holders } from '../checks/vip.js';
import { InventoryError } from '../inventory/errors.js';
import type { Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { deploymentsOf } from '../kinds/deployments.js';
import { waitReady } from '../kinds/ready.js';
import type { Deployment } from '../kinds/types.js';
import type { Playbook } from '../playbook/define.js';
import { targetsOf } from '../playbook/vars.js';
import type { HostRecap, Reporter } from '../report/events.js';
import { mapLimit } from '../util/limit.js';
import { runPlaybooks, type RunOptions } from './run.js';

export type Serial = { count: number } | { percent: number };

/** `--serial 5` (clusters per batch) or `--serial 20%` (of the clusters, at least one). */
export function parseSerial(text: string): Serial {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 1 || (m[2] && n > 100)) throw new Error(`--serial takes a number of clusters per batch (5) or a percentage of them (20%), not '${text}'`);
  return m[2] ? { percent: n } : { count: n };
}

export function batchSize(serial: Serial, clusters: number): number {
  return 'count' in serial ? serial.count : Math.max(1, Math.ceil((serial.percent * clusters) / 100));
}

/** Clusters in batches of `size`, in the inventory's order. */
export function planBatches<T>(clusters: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < clusters.length; i += size) out.push(clusters.slice(i, i + size));
  return out;
}

/** A batch's nodes split by who holds a VIP now: the backups converge first, the holders last. */
export function holderLast(nodes: readonly string[], holding: ReadonlySet<string>): { backups: string[]; holders: string[] } {
  return { backups: nodes.filter((n) => !holding.has(n)), holders: nodes.filter((n) => holding.has(n)) };
}

export interface RollingOptions extends RunOptions {
  pool: ConnectionPool;
  serial: Serial;
  /** Failed batches tolerated before the rollout stops (0: the first failure stops it). */
  maxFail: number;
  /** The gate's time limit per batch. */
  gateS: number;
  /** For the resume hint: how the operator ran it, without --limit. */
  resumeCommand: string;
}

export interface BatchReport {
  index: number;
  clusters: string[];
  backups: string[];
  holders: string[];
  ok: boolean;
  ms: number;
  gateMs: number;
  problem?: string;
}

export interface RollingResult {
  hosts: Record<string, HostRecap>;
  batches: BatchReport[];
  /** The rollout stopped before its end (failed batches over --max-fail, an interrupt, a held lock). */
  stopped: boolean;
  interrupted: boolean;
}

export async function runRolling(inv: Inventory, playbooks: Playbook[], o: RollingOptions, reporter: Reporter): Promise<RollingResult> {
  const started = Date.now();
  const inScope = o.limit ? new Set(selectHosts(inv, o.limit).map((h) => h.name)) : undefined;
  const targeted = new Set(playbooks.flatMap((pb) => [...targetsOf(inv, pb)]).filter((n) => !inScope || inScope.has(n)));
  const all = await deploymentsOf(inv, playbooks);
  const clusters = all.filter((d) => d.vips.length > 0 && d.nodes.some((n) => targeted.has(n.name)));
  if (clusters.length === 0) {
    throw new InventoryError([{ where: '--serial', message: 'rolls a change over VRRP clusters, and the hosts in scope carry none', hint: 'run without --serial' }]);
  }
  const inCluster = new Set(clusters.flatMap((d) => d.nodes.map((n) => n.name)));
  // Hosts outside every cluster (the backends' baseline, say) go with the first batch.
  const others = [...targeted].filter((n) => !inCluster.has(n));
  const hostByName = new Map(inv.hosts.map((h) => [h.name, h]));
  const batches = planBatches(clusters, batchSize(o.serial, clusters.length));
  const recaps: Record<string, HostRecap> = {};
  const reports: BatchReport[] = [];
  const emit = reporter.emit.bind(reporter);
  // Each part's own recap is folded into the rollout's one.
  const quiet: Reporter = { emit: (e) => { if (e.type !== 'recap') emit(e); }, close: async () => undefined };

  // Every host's lock before the first change: a run that meets one held elsewhere changes nothing.
  // With more hosts than --forks they cannot all stay connected: each batch locks its own hosts
  // before its first change, and one held elsewhere fails that batch (the rollout stops there).
  const everyone = [...targeted].map((n) => hostByName.get(n)!).filter(Boolean);
  if (o.pool.locking && o.pool.fits(everyone.length)) {
    const held: string[] = [];
    await mapLimit(everyone, o.forks, async (h) => {
      try {
        await o.pool.session(h);
      } catch (e) {
        if (e instanceof LockError) held.push(`${h.name} (${e.message})`);
      }
    });
    if (held.length > 0) {
      emit({ type: 'rollout-stopped', after: 0, of: batches.length, reason: `another lbdeploy run holds ${held.sort().join('; ')}: nothing was changed`, resume: o.resumeCommand });
      return { hosts: recaps, batches: reports, stopped: true, interrupted: false };
    }
  }

  const nodesOf = (ds: readonly Deployment[]) => [...new Set(ds.flatMap((d) => d.nodes.map((n) => n.name)).filter((n) => targeted.has(n)))];
  let failed = 0;
  let stopped = false;
  let interrupted = false;
  for (const [i, batch] of batches.entries()) {
    if (o.signal?.aborted) {
      interrupted = true;
      stopped = true;
      break;
    }
    const t0 = Date.now();
    const nodes = nodesOf(batch);
    const probes = await probeHosts(o.pool, nodes.map((n) => hostByName.get(n)!), () => [ADDRESSES_FACT], 10_000);
    const holding = new Set(batch.flatMap((d) => d.vips.flatMap((v) => holders(probes, v.address))));
    const { backups, holders: last } = holderLast(nodes, holding);
    const first = [...(i === 0 ? others : []), ...backups];
    emit({ type: 'batch-start', index: i + 1, of: batches.length, clusters: batch.map((d) => d.name), backups: first, holders: last });
    let problem: string | undefined;
    for (const part of [first, last]) {
      if (part.length === 0 || problem) continue;
      const r = await runPlaybooks(inv, playbooks, { ...o, limit: part.join(','), pool: o.pool }, quiet);
      for (const [h, x] of Object.entries(r.hosts)) {
        const acc = (recaps[h] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, ms: 0 });
        acc.ok += x.ok;
        acc.changed += x.changed;
        acc.failed += x.failed;
        acc.skipped += x.skipped;
        acc.unreachable ||= x.unreachable;
        acc.ms += x.ms;
      }
      if (r.interrupted) {
        interrupted = true;
        problem = 'interrupted';
      }
      const bad = Object.entries(r.hosts).filter(([, x]) => x.failed > 0 || x.unreachable).map(([h]) => h);
      if (!problem && bad.length > 0) problem = `failed on ${bad.join(', ')}`;
    }
    let gateMs = 0;
    if (!problem) {
      const gated = batch.filter((d) => d.probes.length > 0);
      emit({ type: 'wait-start', deployments: gated.map((d) => `${d.kind}: ${d.name}`), timeoutS: o.gateS });
      const g = await waitReady(o.pool, gated, { timeoutMs: o.gateS * 1000, endToEnd: true });
      emit({ type: 'wait-done', ready: g.ready, ms: g.ms, rounds: g.rounds, checks: g.checks.length, failing: g.checks.filter((c) => c.severity !== 'ok') });
      gateMs = g.ms;
      if (!g.ready) problem = `health gate not passed within ${o.gateS} s`;
    }
    const report: BatchReport = { index: i + 1, clusters: batch.map((d) => d.name), backups: first, holders: last, ok: !problem, ms: Date.now() - t0, gateMs, ...(problem ? { problem } : {}) };
    reports.push(report);
    emit({ type: 'batch-done', ...report, of: batches.length });
    if (interrupted) {
      stopped = true;
      break;
    }
    if (problem && ++failed > o.maxFail) {
      // Resume from this batch: its hosts converge again (idempotent), then the untouched rest.
      const rest = nodesOf(batches.slice(i).flat());
      emit({
        type: 'rollout-stopped', after: i + 1, of: batches.length,
        reason: `batch ${i + 1} failed (${problem})${o.maxFail > 0 ? `, ${failed} failed batches > --max-fail ${o.maxFail}` : ''}; batches ${i + 2}..${batches.length} untouched`,
        resume: `${o.resumeCommand} --limit ${rest.join(',')}`,
      });
      stopped = true;
      break;
    }
  }
  const stats = o.pool.stats;
  emit({ type: 'rollout-done', batches: reports.map((b) => ({ index: b.index, ok: b.ok, ms: b.ms, gateMs: b.gateMs })), ms: Date.now() - started, stopped });
  emit({ type: 'recap', hosts: recaps, ms: Date.now() - started, connections: stats.connections, commands: Object.fromEntries(stats.commands), peakOpen: stats.peakOpen });
  return { hosts: recaps, batches: reports, stopped, interrupted };
}
