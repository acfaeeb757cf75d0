/**
 * One play over its hosts: order them, gather each host's facts (and the play's probe) in one
 * round trip, cut the hosts into batches, then apply each batch, hosts in parallel up to --forks,
 * a VIP holder drained around a disruptive change.
 */
import type { HostSession } from '../connection/pool.js';
import { BOOT_FACT } from '../operations/command.js';
import type { Operation } from '../operations/types.js';
import type { FactMap } from '../operations/types.js';
import { ConnectionError, LbdeployError } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { closest } from '../inventory/suggest.js';
import type { Host } from '../inventory/model.js';
import { playHosts } from '../inventory/select.js';
import { hostInfo, type HostInfo, type Play, type Playbook } from '../playbook/define.js';
import { mapLimit } from '../util/limit.js';
import { runFacts } from '../facts/batch.js';
import { sleep } from '../util/sleep.js';
import { disruptiveChange, drainHost, undrainHost } from './drain.js';
import { changesNothing, gatherFacts, playRequests, runHostPlay, type HostPlayInput } from './host-play.js';
import type { RunState } from './run-state.js';

type Vars = ReadonlyMap<string, Record<string, unknown>>;

/** A host's steps, handlers and facts for a play, read over one connection. */
interface Prepared {
  steps: Operation[];
  handlers: Record<string, Operation>;
  facts: FactMap;
  /** The host's connection count when the facts were read: a later reconnect makes them stale. */
  epoch: number;
}

export function selectSteps(ops: Operation[], tags?: string[], skipTags?: string[]): Operation[] {
  return ops.filter((op) => {
    if (skipTags?.some((t) => op.tags.includes(t))) return false;
    if (!tags || tags.length === 0) return true;
    return op.tags.includes('always') || tags.some((t) => op.tags.includes(t));
  });
}

export async function runPlay(run: RunState, pb: Playbook, play: Play, vars: Vars): Promise<void> {
  const hosts = playHostsInOrder(run, play, vars);
  if (hosts.length === 0) return;
  run.emit({ type: 'play-start', playbook: pb.name, play: play.name, hosts: hosts.map((h) => h.name) });
  const prepared = await gatherPlayFacts(run, play, vars, hosts);
  for (const batch of batchesOf(run, play, vars, hosts, prepared)) {
    if (run.interrupted) break;
    await applyBatch(run, pb, play, vars, batch, prepared);
  }
}

/**
 * Before anything changes: every host's steps of the play can be built (an operation refusing its
 * arguments, e.g. packages() with no names, says so here), and every handler a step notifies exists
 * (a misspelt name would otherwise never run). Problems as `host: play: message` lines.
 */
export function checkPlay(inv: Inventory, pb: Playbook, play: Play, vars: Vars, hosts: readonly Host[]): string[] {
  const inventory = inv.hosts.map(hostInfo);
  const problems: string[] = [];
  for (const h of hosts) {
    const ctx = { ...hostInfo(h), vars: vars.get(h.name) ?? {}, inventory };
    try {
      const handlers = typeof play.handlers === 'function' ? play.handlers(ctx) : play.handlers ?? {};
      const names = Object.keys(handlers);
      for (const op of play.steps(ctx)) {
        for (const n of op.notify.filter((x) => !names.includes(x))) {
          const guess = closest(n, names);
          problems.push(`${h.name}: ${pb.name} / ${play.name}: step '${op.name}' notifies '${n}', and the play has no handler of that name`
            + (guess ? ` (did you mean '${guess}'?)` : names.length > 0 ? ` (its handlers: ${names.join(', ')})` : ' (it has no handlers)'));
        }
      }
    } catch (e) {
      problems.push(`${h.name}: ${pb.name} / ${play.name}: ${e instanceof LbdeployError ? e.format() : (e as Error).message}`);
    }
  }
  return [...new Set(problems)];
}

/** The play's hosts in scope, in the play's order, without those already out of the run. */
function playHostsInOrder(run: RunState, play: Play, vars: Vars): Host[] {
  const inRun = new Set(run.hosts);
  let hosts = playHosts(run.inv, play).filter((h) => inRun.has(h.name));
  if (play.order) {
    const order = play.order(hosts.map((h) => infoOf(h, vars))).map((h) => h.name);
    hosts = order.map((n) => hosts.find((h) => h.name === n)!).filter(Boolean);
  }
  return hosts.filter((h) => !run.dead.has(h.name));
}

/** A host as a play's order/batches and a playbook's prepare see it: its resolved vars, else its own. */
export const infoOf = (h: Host, vars: Vars): HostInfo => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars });

/** A play's steps (the run's tags applied) and handlers for one host. */
export function buildPlay(run: RunState, play: Play, vars: Vars, host: Host): Pick<Prepared, 'steps' | 'handlers'> {
  const hostCtx = run.hostContext(host, vars);
  const steps = selectSteps(play.steps(hostCtx), run.opts.tags, run.opts.skipTags);
  const handlers = typeof play.handlers === 'function' ? play.handlers(hostCtx) : play.handlers ?? {};
  return { steps, handlers };
}

/** Steps, handlers and facts (with the play's probe) in one round trip. */
async function readHost(run: RunState, play: Play, vars: Vars, host: Host, session: HostSession): Promise<Prepared> {
  const epoch = run.pool.epoch(host);
  // Built once: the prefetch built them already when it planned the run's reads.
  const { steps, handlers } = run.upFront.built(play, host) ?? buildPlay(run, play, vars, host);
  // Over the cap: the probes of this host's later batching plays too, so their order needs no connection.
  const ahead = run.capped ? run.turns.aheadOf(host, play) : [];
  const extra = [...(play.probe ? [play.probe] : []), ...ahead];
  // Under the cap, read up front with the lock while nothing has changed since (prefetch.ts).
  const known = run.upFront.known(host, playRequests(steps, Object.values(handlers), run.ctx, extra));
  const facts = known ?? (await gatherFacts(session, steps, Object.values(handlers), run.ctx, extra));
  if (ahead.length > 0) run.turns.keepAhead(host, play, facts);
  return { steps, handlers, facts, epoch };
}

/**
 * Every host's facts before any step, hosts in parallel. Over the connection cap this waits for
 * each host's turn instead, unless the play orders its batches by the probe: then the hosts whose
 * probe an earlier turn did not read ahead are read now, and a host whose connection was closed
 * since is read again on its turn.
 */
async function gatherPlayFacts(run: RunState, play: Play, vars: Vars, hosts: readonly Host[]): Promise<Map<string, Prepared>> {
  const prepared = new Map<string, Prepared>();
  if (run.capped && !play.batches) return prepared;
  const unread = run.capped ? hosts.filter((h) => !run.turns.readAhead(play, h.name)) : hosts;
  await mapLimit(run.capped ? run.pool.openFirst(unread) : unread, run.opts.forks, (host) => run.timed(host, async () => {
    const t0 = Date.now();
    if (run.stoppedBefore(host, play.name, t0)) return;
    try {
      prepared.set(host.name, await run.pool.hold(host, (session) => readHost(run, play, vars, host, session)));
    } catch (e) {
      run.failHost(host, play.name, t0, e);
    }
  }));
  return prepared;
}

/** The play's batches: its own (from the probe, e.g. the VIP holders last), else `serial` hosts at a time. */
function batchesOf(run: RunState, play: Play, vars: Vars, hosts: readonly Host[], prepared: ReadonlyMap<string, Prepared>): Host[][] {
  const probeOf = (h: Host) => prepared.get(h.name)?.facts.get(play.probe?.key ?? '') ?? (run.capped ? run.turns.readAhead(play, h.name) : undefined);
  const ready = run.capped && !play.batches ? [...hosts] : hosts.filter((h) => prepared.has(h.name) || (run.capped && run.turns.readAhead(play, h.name)));
  if (play.batches) {
    const probes = new Map(ready.map((h) => [h.name, probeOf(h) ?? { stdout: '', code: -1 }]));
    return play.batches(ready.map((h) => infoOf(h, vars)), probes).map((b) => b.map((i) => ready.find((h) => h.name === i.name)!).filter(Boolean));
  }
  const size = play.serial && play.serial > 0 ? play.serial : ready.length;
  const batches: Host[][] = [];
  for (let b = 0; b < ready.length; b += size) batches.push(ready.slice(b, b + size));
  return batches;
}

async function applyBatch(run: RunState, pb: Playbook, play: Play, vars: Vars, batch: Host[], prepared: ReadonlyMap<string, Prepared>): Promise<void> {
  // Over the cap, hosts still connected go first: fewer closed to make room and opened again.
  const turn = run.capped ? run.pool.openFirst(batch) : batch;
  await mapLimit(turn, run.opts.forks, (host) => run.timed(host, async () => {
    const t0 = Date.now();
    if (run.dead.has(host.name) || run.stoppedBefore(host, play.name, t0)) return;
    try {
      if (run.capped && (await settledTurn(run, pb, play, host))) return;
      await run.pool.hold(host, (session) => applyHost(run, pb, play, vars, host, session, prepared.get(host.name)));
    } catch (e) {
      run.failHost(host, play.name, t0, e);
    }
  }));
}

/** The play's steps and handlers on one host; a VIP holder about to take a disruptive change is drained first, and undrained after. */
async function applyHost(run: RunState, pb: Playbook, play: Play, vars: Vars, host: Host, session: HostSession, prep: Prepared | undefined): Promise<void> {
  if (!prep || prep.epoch !== run.pool.epoch(host)) prep = await readHost(run, play, vars, host, session);
  const drain = drainFor(run, play, vars, host, prep);
  if (drain && !(await drainHost(session, drain, play.name, run.emit))) {
    run.add(host.name, { ok: 0, changed: 0, failed: 1, skipped: 0 });
    return;
  }
  try {
    run.add(host.name, await runHostPlay(hostPlayInput(run, pb, play, session, prep)));
  } finally {
    // Undrained whatever happened to the steps: a node left drained would never take its VIPs back.
    if (drain) await undrainHost(session, drain, play.name, run.emit);
  }
  if (run.capped && !run.dead.has(host.name)) await readFinal(run, play, host, session);
}

function hostPlayInput(run: RunState, pb: Playbook, play: Play, session: HostSession, prep: Pick<Prepared, 'steps' | 'handlers' | 'facts'>): HostPlayInput {
  return {
    session, facts: prep.facts, playbook: pb.name, play: play.name,
    steps: prep.steps, handlers: prep.handlers, ctx: run.ctx, emit: run.emit,
    aborted: () => run.interrupted,
    holdsSecret: (text) => run.inv.masker.mask(text) !== text,
    reconnect: (timeoutMs, previousBoot) => reconnect(run, session.host, timeoutMs, previousBoot),
  };
}

/**
 * Over the cap: a turn whose steps the answers read under the host's lock up front show all in
 * place (and no handler pending) is reported from them, with no connection (prefetch.ts settled);
 * on the host's last turn those answers hold the readiness probes too. False: the turn connects.
 */
async function settledTurn(run: RunState, pb: Playbook, play: Play, host: Host): Promise<boolean> {
  const built = run.upFront.built(play, host);
  if (!built) return false;
  const final = run.turns.finalOf(host, play);
  const facts = run.upFront.settled(host, [...playRequests(built.steps, Object.values(built.handlers), run.ctx, play.probe ? [play.probe] : []), ...final]);
  if (!facts || !changesNothing(facts, pb.name, built.steps, built.handlers, run.ctx)) return false;
  const offline: HostSession = {
    host,
    run: () => Promise.reject(new LbdeployError('internal: a turn found to change nothing ran a command', { where: host.name })),
  };
  run.add(host.name, await runHostPlay(hostPlayInput(run, pb, play, offline, { ...built, facts })));
  if (final.length > 0) run.turns.keepFinal(host, final, new Map(final.map((r) => [r.key, facts.get(r.key)!])));
  return true;
}

/** Over the cap, the end of a host's last turn: the readiness probes, before its connection may go. */
async function readFinal(run: RunState, play: Play, host: Host, session: HostSession): Promise<void> {
  const requests = run.turns.finalOf(host, play);
  if (requests.length === 0) return;
  try {
    const { facts } = await runFacts((script) => session.run(script, { phase: 'facts' }), requests);
    run.turns.keepFinal(host, requests, facts);
  } catch {
    // Not kept: the wait probes this host itself.
  }
}

/** The play's drain, when this host holds a VIP (its probe says) and one of its changes is disruptive. */
function drainFor(run: RunState, play: Play, vars: Vars, host: Host, prep: Prepared) {
  if (run.ctx.check || !play.drain) return undefined;
  const drain = play.drain(run.hostContext(host, vars));
  const probe = prep.facts.get(play.probe?.key ?? '');
  return probe && drain.holds(probe) && disruptiveChange(prep.steps, prep.facts, run.ctx) ? drain : undefined;
}

/** After a reboot: drop the connection, wait until SSH answers again on a new boot. */
async function reconnect(run: RunState, host: Host, timeoutMs: number, previousBoot: string): Promise<HostSession> {
  await run.pool.forget(host);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    await sleep(2000);
    try {
      const s = await run.pool.session(host);
      const r = await s.run(BOOT_FACT.command, { timeoutMs: 10_000 });
      if (r.code === 0 && r.stdout !== previousBoot) return s;
      await run.pool.forget(host); // still the old boot: the reboot has not happened yet
    } catch (e) {
      last = e;
      await run.pool.forget(host);
    }
  }
  throw new ConnectionError(`did not come back within ${Math.round(timeoutMs / 1000)} s after the reboot${last ? `: ${(last as Error).message}` : ''}`, { where: host.name });
}
