/**
 * Runs playbooks over an inventory, as named steps: plan (every playbook's vars, the hosts in
 * scope) -> connect and lock (every host, one global order) -> per playbook: prepare, then each
 * play (play.ts: facts, batches, steps and handlers per host) -> report. Hosts in parallel up to --forks.
 */
import { ConnectionPool } from '../connection/pool.js';
import { LbdeployError } from '../errors.js';
import { LockError } from '../connection/lock.js';
import type { Host, Inventory } from '../inventory/model.js';
import { playHosts, selectHosts } from '../inventory/select.js';
import type { Playbook, PrepareResult } from '../playbook/define.js';
import { PlaybookError } from '../playbook/load.js';
import { resolvePlaybookVars, targetsOf } from '../playbook/vars.js';
import type { HostRecap, Reporter } from '../report/events.js';
import { checkPlay, infoOf, runPlay } from './play.js';
import { RunState, type BeforeChange, type RunOptions } from './run-state.js';
import type { FactRequest, FactResult } from '../operations/types.js';
import { mapLimit } from '../util/limit.js';
import { Turns } from './turns.js';
import { Prefetch } from './prefetch.js';
import type { TurnAnswers } from '../kinds/inspect.js';

export type { RunOptions };

export { selectSteps } from './play.js';


export interface RunResult {
  hosts: Record<string, HostRecap>;
  /** Each playbook's resolved vars by host (what it planned with). */
  vars: ReadonlyMap<Playbook, ReadonlyMap<string, Record<string, unknown>>>;
  interrupted: boolean;
  connections: number;
  commands: Record<string, number>;
  /** RunOptions.beforeChange refused the run: nothing changed. */
  refused: boolean;
  /** Over the --forks cap: the readiness probes each host's last turn read (RunOptions.readinessProbes). */
  probed: ReadonlyMap<string, TurnAnswers>;
}

type Vars = Map<string, Record<string, unknown>>;

/**
 * Validate everything first (vars of every playbook for every host), then connect and run.
 * Throws InventoryError before any connection when input is invalid.
 */
export async function runPlaybooks(inv: Inventory, playbooks: Playbook[], opts: RunOptions, reporter: Reporter): Promise<RunResult> {
  const started = Date.now();
  const plan = await planRun(inv, playbooks, opts.limit);
  const pool = opts.pool ?? new ConnectionPool(inv);
  const capped = !pool.fits(plan.hosts.length);
  const readiness = opts.readinessProbes ? await opts.readinessProbes() : undefined;
  const turns = new Turns(inv, playbooks, plan.hosts, capped ? readiness : undefined);
  const run = new RunState(inv, opts, pool, plan.hosts, reporter.emit.bind(reporter), turns);
  const inRun = inv.hosts.filter((h) => plan.hosts.includes(h.name));
  const prefetch = new Prefetch(run, readiness);
  // Over the cap the batch goes out with the read before any change, and carries what later turns read ahead.
  for (const h of inRun) prefetch.plan(h, playbooks, (pb) => plan.vars.get(pb)!, firstRead(run, opts.beforeChange, h));
  run.upFront = prefetch;
  const stopWatching = watchInterrupt(run, opts.signal);
  run.emit({ type: 'run-start', playbooks: playbooks.map((p) => p.name), hosts: plan.hosts, check: opts.check });
  try {
    // Over --forks, hosts cannot all stay connected (and locked): each is locked on its turn instead.
    // Under it, what the run reads goes out with the lock (or, taking none, in one read): one round trip.
    if (pool.locking && !run.capped) await lockHosts(run, inRun, prefetch);
    else if (!run.capped) await prefetch.readAll(inRun);
    if (opts.beforeChange) run.refused = await readBeforeChange(run, opts.beforeChange, prefetch);
    if (run.refused) run.emit({ type: 'note', playbook: playbooks[0]?.name ?? '', text: 'REFUSED before any change (what was found is above): nothing changed' });
    for (const pb of run.refused ? [] : playbooks) await runPlaybook(run, pb, plan.vars.get(pb)!);
  } finally {
    stopWatching();
    if (!opts.pool) await pool.closeAll();
  }
  return report(run, plan.vars, started, prefetch);
}

/** Every playbook's vars for every host a play of it targets (also outside --limit: checks look across nodes), and the hosts in scope. */
async function planRun(inv: Inventory, playbooks: readonly Playbook[], limit: string | undefined): Promise<{ vars: Map<Playbook, Vars>; hosts: string[] }> {
  const limited = limit ? new Set(selectHosts(inv, limit).map((h) => h.name)) : undefined;
  const vars = new Map<Playbook, Vars>();
  for (const pb of playbooks) {
    const targeted = targetsOf(inv, pb);
    vars.set(pb, await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => targeted.has(h.name))));
  }
  const hosts = [...new Set(playbooks.flatMap((pb) => pb.plays.flatMap((p) => playHosts(inv, p).map((h) => h.name))))].filter((h) => !limited || limited.has(h));
  // A playbook with a prepare adds vars on the hosts first: its plays are checked after it.
  const problems = playbooks.filter((pb) => !pb.prepare).flatMap((pb) => checkPlays(inv, pb, vars.get(pb)!, hosts));
  if (problems.length > 0) throw new PlanError(problems);
  return { vars, hosts };
}

/** checkPlay over a playbook's plays and the run's hosts. */
function checkPlays(inv: Inventory, pb: Playbook, vars: Vars, inRun: readonly string[]): string[] {
  return pb.plays.flatMap((play) => checkPlay(inv, pb, play, vars, playHosts(inv, play).filter((h) => inRun.includes(h.name))));
}

/** What the plays cannot do as written, found before anything connects (or, after a prepare, before any change). */
export class PlanError extends PlaybookError {
  constructor(readonly problems: readonly string[]) {
    super(`the playbooks cannot run as written:\n${problems.map((p) => `  ${p}`).join('\n')}`, { hint: 'fix the playbook (or its vars); nothing was changed' });
  }
}

/** Ctrl-C: connections closed (files being written stay old or new), no new step starts. */
function watchInterrupt(run: RunState, signal: AbortSignal | undefined): () => void {
  const onAbort = () => {
    run.interrupted = true;
    run.emit({ type: 'interrupted', message: 'stopping: connections closed; files being written stay old or new, never partial' });
    void run.pool.closeAll();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return () => signal?.removeEventListener('abort', onAbort);
}

/**
 * A run that changes hosts takes every host's run lock before its first step (pool.lockAll: one
 * global order), so no play of this run meets a host another run is changing. One host held
 * elsewhere refuses the whole run, with nothing changed.
 */
async function lockHosts(run: RunState, hosts: Host[], prefetch: Prefetch): Promise<void> {
  const t0 = Date.now();
  const { held, failed } = await run.pool.lockAll(hosts, (h) => prefetch.script(h));
  for (const h of hosts) {
    const read = run.pool.takeRead(h);
    if (read) prefetch.keep(h, read.stdout);
  }
  for (const f of failed) run.failHost(f.host, 'run lock', t0, f.error);
  stopForHeld(run, held, t0);
}

/** Hosts another run holds: each fails its run lock naming the holder, the rest are not run; nothing changes. */
function stopForHeld(run: RunState, held: readonly { host: Host; error: unknown }[], t0: number): void {
  for (const h of held) run.failHost(h.host, 'run lock', t0, h.error);
  if (held.length === 0) return;
  const names = held.map((h) => h.host.name).sort().join(', ');
  for (const h of run.hosts.filter((x) => !run.dead.has(x))) {
    run.notRun(h, 'run lock', 'run lock', `not run: another lbdeploy run holds ${names}; this run changes nothing`, t0);
  }
}

/** What a host's first read asks before any change: the caller's requests, and over the cap what later plays read ahead. */
function firstRead(run: RunState, before: BeforeChange | undefined, host: Host): FactRequest[] {
  return before ? [...before.requests(host), ...(run.capped ? run.turns.aheadOf(host) : [])] : [];
}

/**
 * One read of every host before any change (the caller's requests; over the cap the host's whole
 * batch, under its lock: prefetch.ts), then the caller's decision over the answers: true refuses the run.
 */
async function readBeforeChange(run: RunState, before: BeforeChange, prefetch: Prefetch): Promise<boolean> {
  const answers = new Map<string, ReadonlyMap<string, FactResult>>();
  const hosts = run.inv.hosts.filter((h) => run.hosts.includes(h.name) && !run.dead.has(h.name));
  await mapLimit(run.capped ? run.pool.openFirst(hosts) : hosts, run.opts.forks, (host) => run.timed(host, async () => {
    const t0 = Date.now();
    if (run.stoppedBefore(host, 'pre-flight', t0)) return;
    try {
      const facts = await prefetch.read(host, firstRead(run, before, host));
      if (!facts) return;
      answers.set(host.name, facts);
      if (run.capped) run.turns.keepAhead(host, undefined, facts);
    } catch (e) {
      run.failHost(host, 'pre-flight', t0, e);
    }
  }));
  // Nothing will change (another run holds a host, every host failed): no decision to make, nothing more to read.
  const nothingLeft = run.hosts.every((h) => run.dead.has(h));
  return run.heldElsewhere || run.interrupted || nothingLeft ? false : before.decide(answers);
}

async function runPlaybook(run: RunState, pb: Playbook, vars: Vars): Promise<void> {
  if (run.interrupted) return;
  if (pb.prepare && !(await prepare(run, pb, vars))) return;
  for (const play of pb.plays) {
    if (run.interrupted) break;
    await runPlay(run, pb, play, vars);
  }
}

/** A playbook's prepare: read-only commands; its refusals fail the hosts it targets, before any step. */
async function prepare(run: RunState, pb: Playbook, vars: Vars): Promise<boolean> {
  const t0 = Date.now();
  const held: { host: Host; error: LockError }[] = [];
  const result = await callPrepare(run, pb, vars, held);
  for (const text of result.notes ?? []) run.emit({ type: 'note', playbook: pb.name, text });
  // A host another run holds, met by the prepare's own commands (over the cap no lock is taken
  // up front): the run stops there, as it would at that host's first step, and changes nothing.
  if (held.length > 0) {
    stopForHeld(run, held, t0);
    return false;
  }
  if (!result.errors || result.errors.length === 0) {
    for (const [host, extra] of Object.entries(result.vars ?? {})) vars.set(host, { ...(vars.get(host) ?? {}), ...extra });
    const problems = checkPlays(run.inv, pb, vars, run.hosts);
    if (problems.length === 0) return true;
    result.errors = problems.map((message) => ({ message }));
  }
  for (const err of result.errors) {
    run.emit({ type: 'note', playbook: pb.name, text: `REFUSED ${err.host ? `${err.host}: ` : ''}${err.message}${err.hint ? `\n  → ${err.hint}` : ''}` });
  }
  const inRun = new Set(run.hosts);
  const targeted = new Set(pb.plays.flatMap((p) => playHosts(run.inv, p).filter((h) => inRun.has(h.name)).map((h) => h.name)));
  for (const h of targeted) run.notRun(h, 'prepare', `${pb.name}: prepare`, `refused before any change (${result.errors.length} problem(s) above)`, t0);
  return false;
}

async function callPrepare(run: RunState, pb: Playbook, vars: Vars, held: { host: Host; error: LockError }[]): Promise<PrepareResult> {
  try {
    return await pb.prepare!({
      hosts: run.inv.hosts.map((h) => infoOf(h, vars)),
      runHosts: new Set(run.hosts),
      inventoryDir: run.inv.dir,
      check: run.opts.check,
      secret: (v) => run.inv.masker.add(v),
      run: async (name, command) => {
        const host = run.inv.hosts.find((h) => h.name === name);
        if (!host) throw new LbdeployError(`prepare: no host '${name}' in the inventory`);
        try {
          return await (await run.pool.session(host)).run(command);
        } catch (e) {
          if (e instanceof LockError) held.push({ host, error: e });
          throw e;
        }
      },
    });
  } catch (e) {
    return { errors: [{ message: e instanceof LbdeployError ? e.format() : (e as Error).message }] };
  }
}

/** Each host's recap, then the run's, with the pool's counts. */
function report(run: RunState, vars: ReadonlyMap<Playbook, Vars>, started: number, prefetch: Prefetch): RunResult {
  for (const h of run.hosts) run.emit({ type: 'host-done', host: h, recap: run.recaps[h]! });
  const { stats } = run.pool;
  const commands = Object.fromEntries(stats.commands);
  run.emit({ type: 'recap', hosts: run.recaps, ms: Date.now() - started, connections: stats.connections, commands, peakOpen: stats.peakOpen });
  return { hosts: run.recaps, vars, interrupted: run.interrupted, refused: run.refused, connections: stats.connections, commands, probed: run.capped ? run.turns.final : prefetch.readinessAnswers() };
}
