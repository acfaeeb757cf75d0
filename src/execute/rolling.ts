/**
 * `up --serial N|P%`: a rolling change over a fleet of VRRP clusters. Clusters go in batches; in
 * each batch the backups converge first and the VIP holders after them (the VIP moves at most
 * once, to a node already converged); then a health gate (the kinds' readiness checks on the
 * batch's clusters, with requests through each VIP from the client) must pass before the next
 * batch starts. A failed batch stops the rollout, the rest untouched, with the command that
 * resumes it (--max-fail sets how many failed batches are tolerated first). Every host's run lock
 * is taken, and the pre-flight asked, before the first batch, over the connections the whole
 * rollout reuses; with more hosts than --forks both happen per batch, before its first change, so
 * each host is connected once, in its turn.
 */
import type { ConnectionPool } from '../connection/pool.js';
import { probeHosts } from '../checks/probe.js';
import { ADDRESSES_FACT, holders } from '../checks/vip.js';
import { InventoryError } from '../inventory/errors.js';
import type { Host, Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { waitReady } from '../kinds/ready.js';
import type { Deployment } from '../kinds/types.js';
import type { Playbook } from '../playbook/define.js';
import { targetsOf } from '../playbook/vars.js';
import type { HostRecap, Reporter } from '../report/events.js';
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
export function splitByHolding(nodes: readonly string[], holding: ReadonlySet<string>): { backups: string[]; holders: string[] } {
  return { backups: nodes.filter((n) => !holding.has(n)), holders: nodes.filter((n) => holding.has(n)) };
}

export interface RollingOptions extends RunOptions {
  pool: ConnectionPool;
  /** What the playbooks deployed (kinds/deployments.ts): the clusters to roll over, and their checks for the gate. */
  deployments: readonly Deployment[];
  serial: Serial;
  /** Failed batches tolerated before the rollout stops (0: the first failure stops it). */
  maxFail: number;
  /** The gate's time limit per batch. */
  gateS: number;
  /** For the resume hint: how the operator ran it, without --limit. */
  resumeCommand: string;
  /** Questions asked before these clusters change (up's VRRP pre-flight): what stops the change, if anything. */
  preflight?: (clusters: readonly Deployment[]) => Promise<string | undefined>;
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

export function runRolling(inv: Inventory, playbooks: Playbook[], o: RollingOptions, reporter: Reporter): Promise<RollingResult> {
  return new Rollout(inv, playbooks, o, reporter).run();
}

/** The rollout's steps: plan the batches, lock every host, then per batch: backups, holders, gate. */
class Rollout {
  private readonly recaps: Record<string, HostRecap> = {};
  private readonly reports: BatchReport[] = [];
  private readonly emit: Reporter['emit'];
  /** Each part's own recap is folded into the rollout's one. */
  private readonly quiet: Reporter;
  private readonly hostByName: ReadonlyMap<string, Host>;
  private targeted = new Set<string>();
  private interrupted = false;

  constructor(private readonly inv: Inventory, private readonly playbooks: Playbook[], private readonly o: RollingOptions, reporter: Reporter) {
    this.emit = reporter.emit.bind(reporter);
    this.quiet = { emit: (e) => { if (e.type !== 'recap') this.emit(e); }, close: async () => undefined };
    this.hostByName = new Map(inv.hosts.map((h) => [h.name, h]));
  }

  async run(): Promise<RollingResult> {
    const started = Date.now();
    const { batches, others } = this.plan();
    if (!(await this.lockEveryone(batches.length)) || !(await this.preflightEveryone(batches))) return { hosts: this.recaps, batches: this.reports, stopped: true, interrupted: false };
    const stopped = await this.runBatches(batches, others);
    const stats = this.o.pool.stats;
    this.emit({ type: 'rollout-done', batches: this.reports.map((b) => ({ index: b.index, ok: b.ok, ms: b.ms, gateMs: b.gateMs })), ms: Date.now() - started, stopped });
    this.emit({ type: 'recap', hosts: this.recaps, ms: Date.now() - started, connections: stats.connections, commands: Object.fromEntries(stats.commands), peakOpen: stats.peakOpen });
    return { hosts: this.recaps, batches: this.reports, stopped, interrupted: this.interrupted };
  }

  /** The clusters in scope in batches; hosts outside every cluster (the backends' baseline, say) go with the first batch. */
  private plan(): { batches: Deployment[][]; others: string[] } {
    const { inv, playbooks, o } = this;
    const inScope = o.limit ? new Set(selectHosts(inv, o.limit).map((h) => h.name)) : undefined;
    this.targeted = new Set(playbooks.flatMap((pb) => [...targetsOf(inv, pb)]).filter((n) => !inScope || inScope.has(n)));
    const clusters = o.deployments.filter((d) => d.vips.length > 0 && d.nodes.some((n) => this.targeted.has(n.name)));
    if (clusters.length === 0) {
      throw new InventoryError([{ where: '--serial', message: 'rolls a change over VRRP clusters, and the hosts in scope carry none', hint: 'run without --serial' }]);
    }
    const inCluster = new Set(clusters.flatMap((d) => d.nodes.map((n) => n.name)));
    return { batches: planBatches(clusters, batchSize(o.serial, clusters.length)), others: [...this.targeted].filter((n) => !inCluster.has(n)) };
  }

  /**
   * Every host's lock before the first change: a run that meets one held elsewhere changes nothing.
   * With more hosts than --forks they cannot all stay connected: each batch locks its own hosts
   * before its first change, and one held elsewhere fails that batch (the rollout stops there).
   */
  private async lockEveryone(batches: number): Promise<boolean> {
    const everyone = [...this.targeted].map((n) => this.hostByName.get(n)!).filter(Boolean);
    if (!this.o.pool.locking || !this.o.pool.fits(everyone.length)) return true;
    const held = (await this.o.pool.lockAll(everyone)).held.map((h) => `${h.host.name} (${h.error.message})`);
    if (held.length === 0) return true;
    this.emit({ type: 'rollout-stopped', after: 0, of: batches, reason: `another lbdeploy run holds ${held.sort().join('; ')}: nothing was changed`, resume: this.o.resumeCommand });
    return false;
  }

  /** Every host fits under --forks: the hosts stay connected, so the whole pre-flight is asked first. */
  private get upFront(): boolean {
    return this.o.pool.fits(this.targeted.size);
  }

  /** The pre-flight over every batch before the first change, when the hosts all fit under --forks; false when it stops the rollout. */
  private async preflightEveryone(batches: Deployment[][]): Promise<boolean> {
    if (!this.o.preflight || !this.upFront) return true;
    const problem = await this.o.preflight(batches.flat());
    if (!problem) return true;
    this.emit({ type: 'rollout-stopped', after: 0, of: batches.length, reason: `${problem}: nothing was changed`, resume: this.o.resumeCommand });
    return false;
  }

  /** The batches in order; true when the rollout stopped before its end. */
  private async runBatches(batches: Deployment[][], others: string[]): Promise<boolean> {
    let failed = 0;
    for (const [i, batch] of batches.entries()) {
      if (this.o.signal?.aborted) {
        this.interrupted = true;
        return true;
      }
      const report = await this.runBatch(i, batches.length, batch, i === 0 ? others : []);
      if (this.interrupted) return true;
      if (report.problem && ++failed > this.o.maxFail) {
        this.stop(i, batches, report.problem, failed);
        return true;
      }
    }
    return false;
  }

  /** One batch: its backups converge, then its VIP holders, then the health gate. */
  private async runBatch(i: number, of: number, batch: Deployment[], others: string[]): Promise<BatchReport> {
    const t0 = Date.now();
    const nodes = this.nodesOf(batch);
    const probes = await probeHosts(this.o.pool, nodes.map((n) => this.hostByName.get(n)!), () => [ADDRESSES_FACT], 10_000);
    const holding = new Set(batch.flatMap((d) => d.vips.flatMap((v) => holders(probes, v.address))));
    const { backups, holders: last } = splitByHolding(nodes, holding);
    const first = [...others, ...backups];
    this.emit({ type: 'batch-start', index: i + 1, of, clusters: batch.map((d) => d.name), backups: first, holders: last });
    // Over --forks, the batch's own pre-flight, over the connections it is about to use.
    let problem = this.o.preflight && !this.upFront ? await this.o.preflight(batch) : undefined;
    for (const part of [first, last]) if (part.length > 0 && !problem) problem = await this.converge(part);
    let gateMs = 0;
    if (!problem) ({ problem, gateMs } = await this.gate(batch));
    const report: BatchReport = { index: i + 1, clusters: batch.map((d) => d.name), backups: first, holders: last, ok: !problem, ms: Date.now() - t0, gateMs, ...(problem ? { problem } : {}) };
    this.reports.push(report);
    this.emit({ type: 'batch-done', ...report, of });
    return report;
  }

  /** The playbooks on these hosts; what went wrong, if anything. */
  private async converge(part: readonly string[]): Promise<string | undefined> {
    const r = await runPlaybooks(this.inv, this.playbooks, { ...this.o, limit: part.join(','), pool: this.o.pool }, this.quiet);
    for (const [h, x] of Object.entries(r.hosts)) {
      const acc = (this.recaps[h] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, ms: 0 });
      acc.ok += x.ok;
      acc.changed += x.changed;
      acc.failed += x.failed;
      acc.skipped += x.skipped;
      acc.unreachable ||= x.unreachable;
      acc.ms += x.ms;
    }
    if (r.interrupted) {
      this.interrupted = true;
      return 'interrupted';
    }
    const bad = Object.entries(r.hosts).filter(([, x]) => x.failed > 0 || x.unreachable).map(([h]) => h);
    return bad.length > 0 ? `failed on ${bad.join(', ')}` : undefined;
  }

  /** The kinds' readiness checks on the batch's clusters, requests through each VIP included. */
  private async gate(batch: readonly Deployment[]): Promise<{ problem?: string; gateMs: number }> {
    const gated = batch.filter((d) => d.probes.length > 0);
    this.emit({ type: 'wait-start', deployments: gated.map((d) => `${d.kind}: ${d.name}`), timeoutS: this.o.gateS });
    const g = await waitReady(this.o.pool, gated, { timeoutMs: this.o.gateS * 1000, endToEnd: true });
    this.emit({ type: 'wait-done', ready: g.ready, ms: g.ms, rounds: g.rounds, checks: g.checks.length, failing: g.checks.filter((c) => c.severity !== 'ok') });
    return { gateMs: g.ms, ...(g.ready ? {} : { problem: `health gate not passed within ${this.o.gateS} s` }) };
  }

  /** Resume from the failed batch: its hosts converge again (idempotent), then the untouched rest. */
  private stop(i: number, batches: Deployment[][], problem: string, failed: number): void {
    const rest = this.nodesOf(batches.slice(i).flat());
    this.emit({
      type: 'rollout-stopped', after: i + 1, of: batches.length,
      reason: `batch ${i + 1} failed (${problem})${this.o.maxFail > 0 ? `, ${failed} failed batches > --max-fail ${this.o.maxFail}` : ''}; batches ${i + 2}..${batches.length} untouched`,
      resume: `${this.o.resumeCommand} --limit ${rest.join(',')}`,
    });
  }

  private nodesOf(ds: readonly Deployment[]): string[] {
    return [...new Set(ds.flatMap((d) => d.nodes.map((n) => n.name)).filter((n) => this.targeted.has(n)))];
  }
}
