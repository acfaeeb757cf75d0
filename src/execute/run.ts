/** Runs playbooks over an inventory: plays in order, batches (serial), hosts in parallel up to --forks. */
import { LockError } from '../connection/lock.js';
import { ConnectionPool, type HostSession } from '../connection/pool.js';
import { BOOT_FACT } from '../operations/command.js';
import { mapLimit } from '../util/limit.js';
import { sleep } from '../util/sleep.js';
import { ConnectionError, LbdeployError } from '../errors.js';
import type { Host, Inventory } from '../inventory/model.js';
import { playHosts, selectHosts } from '../inventory/select.js';
import { hostInfo, type HostContext, type Playbook, type PrepareResult } from '../playbook/define.js';
import { resolvePlaybookVars, targetsOf } from '../playbook/vars.js';
import type { HostRecap, Reporter } from '../report/events.js';
import type { FactMap, Operation, PlanContext } from '../operations/types.js';
import { gatherFacts, runHostPlay } from './host-play.js';

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
}

interface Prepared {
  steps: Operation[];
  handlers: Record<string, Operation>;
  facts: FactMap;
  /** The host's connection count when the facts were read: a later reconnect makes them stale. */
  epoch: number;
}

export interface RunResult {
  hosts: Record<string, HostRecap>;
  /** Each playbook's resolved vars by host (what it planned with). */
  vars: ReadonlyMap<Playbook, ReadonlyMap<string, Record<string, unknown>>>;
  interrupted: boolean;
  connections: number;
  commands: Record<string, number>;
}

export function selectSteps(ops: Operation[], tags?: string[], skipTags?: string[]): Operation[] {
  return ops.filter((op) => {
    if (skipTags?.some((t) => op.tags.includes(t))) return false;
    if (!tags || tags.length === 0) return true;
    return op.tags.includes('always') || tags.some((t) => op.tags.includes(t));
  });
}

/**
 * Validate everything first (vars of every playbook for every host), then connect and run.
 * Throws InventoryError before any connection when input is invalid.
 */
export async function runPlaybooks(inv: Inventory, playbooks: Playbook[], opts: RunOptions, reporter: Reporter): Promise<RunResult> {
  const started = Date.now();
  const limited = opts.limit ? new Set(selectHosts(inv, opts.limit).map((h) => h.name)) : undefined;
  const inScope = (h: Host) => !limited || limited.has(h.name);
  const varsByPlaybook = new Map<Playbook, Map<string, Record<string, unknown>>>();
  for (const pb of playbooks) {
    // Every host a play of the playbook targets is validated, also outside --limit: checks look across nodes.
    const targeted = targetsOf(inv, pb);
    varsByPlaybook.set(pb, await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => targeted.has(h.name))));
  }

  const allHosts = [...new Set(playbooks.flatMap((pb) => pb.plays.flatMap((p) => playHosts(inv, p).filter(inScope).map((h) => h.name))))];
  const recaps: Record<string, HostRecap> = Object.fromEntries(allHosts.map((h) => [h, { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, ms: 0 }]));
  const pool = opts.pool ?? new ConnectionPool(inv);
  const ctx: PlanContext = { check: opts.check, diff: opts.diff, allowReboot: opts.allowReboot };
  const emit = reporter.emit.bind(reporter);
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    emit({ type: 'interrupted', message: 'stopping: connections closed; files being written stay old or new, never partial' });
    void pool.closeAll();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const dead = new Set<string>();
  // More hosts than --forks: they cannot all stay connected (and locked) at once. Each host is then
  // locked while lbdeploy works on it; one held by another run stops the run before its next host.
  const capped = !pool.fits(allHosts.length);
  let heldElsewhere: string | undefined;
  const inventoryInfo = inv.hosts.map(hostInfo);

  /** A host that could not be used: unreachable (nothing done on it yet), else a failed step. */
  const failHost = (host: Host, play: string, t0: number, e: unknown) => {
    dead.add(host.name);
    const recap = recaps[host.name]!;
    const err = e instanceof LbdeployError ? e : new LbdeployError((e as Error).message);
    if (e instanceof LockError && capped) heldElsewhere ??= host.name;
    if (e instanceof ConnectionError && recap.ok + recap.changed + recap.failed === 0 && !interrupted) {
      recap.unreachable = true;
      emit({ type: 'host-unreachable', host: host.name, message: err.message, hint: err.hint });
    } else {
      recap.failed++;
      emit({ type: 'step', host: host.name, play, step: e instanceof LockError ? 'run lock' : 'connection', status: 'failed', message: interrupted ? 'interrupted' : err.message, hint: err.hint, ms: Date.now() - t0 });
    }
  };

  /**
   * A run that changes hosts takes every host's run lock before its first step, so no play of
   * this run meets a host another run is changing. One host held elsewhere refuses the whole run.
   */
  const lockAll = async (hosts: Host[]): Promise<void> => {
    const t0 = Date.now();
    const held: string[] = [];
    await mapLimit(hosts, opts.forks, async (host) => {
      try {
        await pool.session(host);
      } catch (e) {
        if (e instanceof LockError) held.push(host.name);
        failHost(host, 'run lock', t0, e);
      }
    });
    if (held.length === 0) return;
    for (const h of hosts.filter((x) => !dead.has(x.name))) {
      dead.add(h.name);
      recaps[h.name]!.failed++;
      emit({ type: 'step', host: h.name, play: 'run lock', step: 'run lock', status: 'failed', message: `not run: another lbdeploy run holds ${held.sort().join(', ')}; this run changes nothing`, ms: Date.now() - t0 });
    }
  };

  /** A playbook's prepare: read-only commands; its refusals fail the hosts it targets, before any step. */
  const prepare = async (pb: Playbook, vars: Map<string, Record<string, unknown>>): Promise<boolean> => {
    const t0 = Date.now();
    const infos = inv.hosts.map((h) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars }));
    let result: PrepareResult;
    try {
      result = await pb.prepare!({
        hosts: infos,
        inventoryDir: inv.dir,
        check: opts.check,
        secret: (v) => inv.masker.add(v),
        run: async (name, command) => {
          const host = inv.hosts.find((h) => h.name === name);
          if (!host) throw new LbdeployError(`prepare: no host '${name}' in the inventory`);
          return (await pool.session(host)).run(command);
        },
      });
    } catch (e) {
      result = { errors: [{ message: e instanceof LbdeployError ? e.format() : (e as Error).message }] };
    }
    for (const text of result.notes ?? []) emit({ type: 'note', playbook: pb.name, text });
    if (result.errors && result.errors.length > 0) {
      for (const err of result.errors) {
        emit({ type: 'note', playbook: pb.name, text: `REFUSED ${err.host ? `${err.host}: ` : ''}${err.message}${err.hint ? `\n  → ${err.hint}` : ''}` });
      }
      const targeted = pb.plays.flatMap((p) => playHosts(inv, p).filter(inScope).map((h) => h.name));
      for (const h of new Set(targeted)) {
        recaps[h]!.failed++;
        dead.add(h);
        emit({ type: 'step', host: h, play: 'prepare', step: `${pb.name}: prepare`, status: 'failed', message: `refused before any change (${result.errors.length} problem(s) above)`, ms: Date.now() - t0 });
      }
      return false;
    }
    for (const [host, extra] of Object.entries(result.vars ?? {})) vars.set(host, { ...(vars.get(host) ?? {}), ...extra });
    return true;
  };

  emit({ type: 'run-start', playbooks: playbooks.map((p) => p.name), hosts: allHosts, check: opts.check });
  try {
    if (pool.locking && !capped) await lockAll(inv.hosts.filter((h) => allHosts.includes(h.name)));
    for (const pb of playbooks) {
      const vars = varsByPlaybook.get(pb)!;
      if (pb.prepare && !interrupted) {
        const ok = await prepare(pb, vars);
        if (!ok) continue;
      }
      for (const play of pb.plays) {
        if (interrupted) break;
        let hosts = playHosts(inv, play).filter(inScope);
        const infoOf = (h: Host) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars });
        if (play.order) {
          const order = play.order(hosts.map(infoOf)).map((h) => h.name);
          hosts = order.map((n) => hosts.find((h) => h.name === n)!).filter(Boolean);
        }
        hosts = hosts.filter((h) => !dead.has(h.name));
        if (hosts.length === 0) continue;
        emit({ type: 'play-start', playbook: pb.name, play: play.name, hosts: hosts.map((h) => h.name) });

        // Connect and gather every host's facts (and the play's probe) in parallel, one round trip each.
        // Over the connection cap this waits for each host's turn below, unless the play orders its
        // batches by the probe: then facts of a host whose connection was closed since are read again.
        const prepared = new Map<string, Prepared>();
        const fail = (host: Host, t0: number, e: unknown) => failHost(host, play.name, t0, e);
        const readHost = async (host: Host, session: HostSession): Promise<Prepared> => {
          const epoch = pool.epoch(host);
          const hostCtx: HostContext = { ...infoOf(host), vars: vars.get(host.name) ?? {}, inventory: inventoryInfo };
          const steps = selectSteps(play.steps(hostCtx), opts.tags, opts.skipTags);
          const handlers = typeof play.handlers === 'function' ? play.handlers(hostCtx) : play.handlers ?? {};
          const facts = await gatherFacts(session, steps, Object.values(handlers), ctx, play.probe ? [play.probe] : []);
          return { steps, handlers, facts, epoch };
        };
        /** Over the cap, a host is not started once another run was found holding one. */
        const stoppedBefore = (host: Host, t0: number): boolean => {
          if (!heldElsewhere) return false;
          dead.add(host.name);
          recaps[host.name]!.failed++;
          emit({ type: 'step', host: host.name, play: play.name, step: 'run lock', status: 'failed', message: `not run: another lbdeploy run holds ${heldElsewhere}; this run stopped before this host`, ms: Date.now() - t0 });
          return true;
        };
        if (!capped || play.batches) {
          await mapLimit(hosts, opts.forks, async (host) => {
            const t0 = Date.now();
            if (stoppedBefore(host, t0)) return;
            try {
              prepared.set(host.name, await pool.hold(host, (session) => readHost(host, session)));
            } catch (e) {
              fail(host, t0, e);
            } finally {
              recaps[host.name]!.ms += Date.now() - t0;
            }
          });
        }
        const ready = capped && !play.batches ? hosts : hosts.filter((h) => prepared.has(h.name));
        let batches: Host[][];
        if (play.batches) {
          const probes = new Map([...prepared].map(([n, p]) => [n, p.facts.get(play.probe?.key ?? '') ?? { stdout: '', code: -1 }]));
          batches = play.batches(ready.map(infoOf), probes).map((b) => b.map((i) => ready.find((h) => h.name === i.name)!).filter(Boolean));
        } else {
          const size = play.serial && play.serial > 0 ? play.serial : ready.length;
          batches = [];
          for (let b = 0; b < ready.length; b += size) batches.push(ready.slice(b, b + size));
        }
        for (const batch of batches) {
          if (interrupted) break;
          // Over the cap, hosts still connected go first: fewer closed to make room and opened again.
          const turn = capped ? pool.openFirst(batch) : batch;
          await mapLimit(turn, opts.forks, async (host) => {
            const t0 = Date.now();
            const recap = recaps[host.name]!;
            if (dead.has(host.name) || stoppedBefore(host, t0)) return;
            try {
              await pool.hold(host, async (session) => {
                let prep = prepared.get(host.name);
                if (!prep || prep.epoch !== pool.epoch(host)) prep = await readHost(host, session);
                const r = await runHostPlay({
                  session, facts: prep.facts, playbook: pb.name, play: play.name,
                  steps: prep.steps, handlers: prep.handlers, ctx, emit,
                  aborted: () => interrupted,
                  holdsSecret: (text) => inv.masker.mask(text) !== text,
                  reconnect: (timeoutMs, previousBoot) => reconnect(pool, host, timeoutMs, previousBoot),
                });
                recap.ok += r.ok;
                recap.changed += r.changed;
                recap.failed += r.failed;
                recap.skipped += r.skipped;
                if (r.failed > 0) dead.add(host.name);
              });
            } catch (e) {
              fail(host, t0, e);
            } finally {
              recap.ms += Date.now() - t0;
            }
          });
        }
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (!opts.pool) await pool.closeAll();
  }
  for (const h of allHosts) emit({ type: 'host-done', host: h, recap: recaps[h]! });
  const commands = Object.fromEntries(pool.stats.commands);
  emit({ type: 'recap', hosts: recaps, ms: Date.now() - started, connections: pool.stats.connections, commands, peakOpen: pool.stats.peakOpen });
  return { hosts: recaps, vars: varsByPlaybook, interrupted, connections: pool.stats.connections, commands };
}

/** After a reboot: drop the connection, wait until SSH answers again on a new boot. */
async function reconnect(pool: ConnectionPool, host: Host, timeoutMs: number, previousBoot: string): Promise<HostSession> {
  await pool.forget(host);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    await sleep(2000);
    try {
      const s = await pool.session(host);
      const r = await s.run(BOOT_FACT.command, { timeoutMs: 10_000 });
      if (r.code === 0 && r.stdout !== previousBoot) return s;
      await pool.forget(host); // still the old boot: the reboot has not happened yet
    } catch (e) {
      last = e;
      await pool.forget(host);
    }
  }
  throw new ConnectionError(`did not come back within ${Math.round(timeoutMs / 1000)} s after the reboot${last ? `: ${(last as Error).message}` : ''}`, { where: host.name });
}
