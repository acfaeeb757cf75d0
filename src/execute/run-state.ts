/**
 * What one run shares between its steps: the hosts in scope, their recaps, the hosts out of the
 * run (failed, unreachable, refused), the pool, the event sink and the interrupt. The steps
 * (run.ts, play.ts) read like the run; this holds the bookkeeping they have in common.
 */
import { LockError } from '../connection/lock.js';
import type { ConnectionPool } from '../connection/pool.js';
import { ConnectionError, LbdeployError } from '../errors.js';
import type { Host, Inventory } from '../inventory/model.js';
import { hostInfo, type HostContext, type HostInfo, type Play } from '../playbook/define.js';
import type { HostRecap, RunEvent } from '../report/events.js';
import type { FactMap, FactRequest, FactResult, Operation, PlanContext } from '../operations/types.js';
import type { Turns } from './turns.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  forks: number;
  allowReboot: boolean;
  signal?: AbortSignal;
  /** Reuse these connections (the caller closes them); by default the run opens and closes its own. */
  pool?: ConnectionPool;
  /**
   * The probes the caller's readiness wait will ask of a host. Over the --forks cap, each host's
   * last turn reads them before its connection goes (RunResult.probed): the wait's first round
   * needs no connection of its own. Asked only when the run is over the cap.
   */
  readinessProbes?: () => Promise<(host: Host) => readonly FactRequest[]>;
  /**
   * Before the first change, every host locked: `requests` read from each host of the run (in one
   * round trip with what later plays read ahead), then `decide` with the answers. A refusal (true)
   * ends the run with nothing changed (RunResult.refused). up's VRRP pre-flight.
   */
  beforeChange?: BeforeChange;
}

export interface BeforeChange {
  requests(host: Host): readonly FactRequest[];
  decide(answers: ReadonlyMap<string, ReadonlyMap<string, FactResult>>): Promise<boolean>;
}

/** Answers read up front that still hold (prefetch.ts), or none. */
export interface UpFront {
  known(host: Host, requests: readonly FactRequest[]): FactMap | undefined;
  /** A play's steps and handlers for a host, as built when the reads were planned. */
  built(play: Play, host: Host): { steps: Operation[]; handlers: Record<string, Operation> } | undefined;
  /** Over the cap: the answers read under the host's lock up front, while nothing in the run changed (whatever connection). */
  settled(host: Host, requests: readonly FactRequest[]): FactMap | undefined;
}

export class RunState {
  readonly recaps: Record<string, HostRecap>;
  /** Hosts out of the run: nothing more is done on them. */
  readonly dead = new Set<string>();
  readonly ctx: PlanContext;
  /** More hosts than --forks: each host is locked while the run works on it, not for the whole run. */
  readonly capped: boolean;
  /** What the run read up front, while it still holds (prefetch.ts sets it). */
  upFront: UpFront = { known: () => undefined, built: () => undefined, settled: () => undefined };
  /** Over the cap: the first host found held by another run (the run stops before its next host). */
  heldElsewhere: string | undefined;
  interrupted = false;
  /** The caller's check before any change refused the run (RunOptions.beforeChange). */
  refused = false;
  readonly inventoryInfo: HostInfo[];

  constructor(
    readonly inv: Inventory,
    readonly opts: RunOptions,
    readonly pool: ConnectionPool,
    readonly hosts: readonly string[],
    readonly emit: (e: RunEvent) => void,
    /** What a host's turn reads for later needs, over the cap (turns.ts). */
    readonly turns: Turns,
  ) {
    this.recaps = Object.fromEntries(hosts.map((h) => [h, { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, ms: 0 }]));
    this.ctx = { check: opts.check, diff: opts.diff, allowReboot: opts.allowReboot };
    this.capped = !pool.fits(hosts.length);
    this.inventoryInfo = inv.hosts.map(hostInfo);
  }

  /** A host as a play's functions see it, with the vars its playbook resolved. */
  hostContext(host: Host, vars: ReadonlyMap<string, Record<string, unknown>>): HostContext {
    return { ...hostInfo(host), vars: vars.get(host.name) ?? {}, inventory: this.inventoryInfo };
  }

  /** A host that could not be used: unreachable (nothing done on it yet), else a failed step. */
  failHost(host: Host, play: string, t0: number, e: unknown): void {
    this.dead.add(host.name);
    const recap = this.recaps[host.name]!;
    const err = e instanceof LbdeployError ? e : new LbdeployError((e as Error).message);
    if (e instanceof LockError && this.capped) this.heldElsewhere ??= host.name;
    if (e instanceof ConnectionError && recap.ok + recap.changed + recap.failed === 0 && !this.interrupted) {
      recap.unreachable = true;
      this.emit({ type: 'host-unreachable', host: host.name, message: err.message, hint: err.hint });
    } else {
      recap.failed++;
      this.emit({ type: 'step', host: host.name, play, step: e instanceof LockError ? 'run lock' : 'connection', status: 'failed', message: this.interrupted ? 'interrupted' : err.message, hint: err.hint, ms: Date.now() - t0 });
    }
  }

  /** A host not run at all, with why (another run holds a host, a refused prepare). */
  notRun(host: string, play: string, step: string, message: string, t0: number): void {
    this.dead.add(host);
    this.recaps[host]!.failed++;
    this.emit({ type: 'step', host, play, step, status: 'failed', message, ms: Date.now() - t0 });
  }

  /** Over the cap, a host is not started once another run was found holding one. */
  stoppedBefore(host: Host, play: string, t0: number): boolean {
    if (!this.heldElsewhere) return false;
    this.notRun(host.name, play, 'run lock', `not run: another lbdeploy run holds ${this.heldElsewhere}; this run stopped before this host`, t0);
    return true;
  }

  /** Nothing changed (or failed) on any host of the run so far: what was read up front still holds. */
  unchanged(): boolean {
    // Check mode runs nothing: what it counts as changed is only what would change.
    return Object.values(this.recaps).every((r) => (this.ctx.check || r.changed === 0) && r.failed === 0);
  }

  /** Count a host's play results into its recap. */
  add(host: string, r: { ok: number; changed: number; failed: number; skipped: number }): void {
    const recap = this.recaps[host]!;
    recap.ok += r.ok;
    recap.changed += r.changed;
    recap.failed += r.failed;
    recap.skipped += r.skipped;
    if (r.failed > 0) this.dead.add(host);
  }

  /** Time spent on the host, whatever happened. */
  async timed<T>(host: Host, work: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      this.recaps[host.name]!.ms += Date.now() - t0;
    }
  }
}
