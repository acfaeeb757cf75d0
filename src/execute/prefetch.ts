/**
 * A run that changes nothing in one round trip per host. Everything the run would read goes out at
 * once: the read before any change, the facts of every play the host is in (playbooks without a
 * prepare: their steps are known before anything connects), and the readiness probes. With a run
 * lock, the batch runs under the lock in the lock's own command, as soon as the lock is ours;
 * without one (plan), as one read of its own.
 *
 * Under the --forks cap every host stays connected and locked: the batch goes out with lockAll (or
 * readAll), and stands in for each later read over that connection. Over the cap it goes out with
 * the read before any change (read), one host at a time under the cap; a later turn whose steps
 * those answers show all in place reports them without connecting again (settled).
 *
 * Either way the answers stand in only while the run has changed nothing on any host: a step that
 * changed (or failed) makes every later read go to the host again, as before.
 */
import { batchFacts, dedupeFacts, factsSignature, runFacts, type FactBatch } from '../facts/batch.js';
import type { ShellCommand } from '../connection/shell.js';
import type { Host } from '../inventory/model.js';
import { playHosts } from '../inventory/select.js';
import type { TurnAnswers } from '../kinds/inspect.js';
import type { FactMap, FactRequest, Operation } from '../operations/types.js';
import type { Play, Playbook } from '../playbook/define.js';
import { mapLimit } from '../util/limit.js';
import { playRequests } from './host-play.js';
import { buildPlay } from './play.js';
import type { RunState, UpFront } from './run-state.js';

type Vars = ReadonlyMap<string, Record<string, unknown>>;

export class Prefetch implements UpFront {
  /** Per host, what it will read (one batch: its script and the parser of that script's output), and the answers once read. */
  private readonly batches = new Map<string, FactBatch>();
  private readonly answers = new Map<string, { facts: FactMap; epoch: number }>();
  /** Per play and host, the steps and handlers built to plan the reads: the play's turn uses them. */
  private readonly plays = new Map<Play, Map<string, { steps: Operation[]; handlers: Record<string, Operation> }>>();

  constructor(private readonly run: RunState, private readonly readiness?: (host: Host) => readonly FactRequest[]) {}

  /** Everything `host` will read in this run, as far as it is known before it connects. */
  plan(host: Host, playbooks: readonly Playbook[], varsOf: (pb: Playbook) => Vars, before: readonly FactRequest[]): void {
    const requests: FactRequest[] = [...before];
    try {
      for (const pb of playbooks) {
        // A prepare adds vars (and so steps) only once it ran: its plays read on their own.
        if (pb.prepare) continue;
        for (const play of pb.plays) {
          if (!playHosts(this.run.inv, play).some((h) => h.name === host.name)) continue;
          const { steps, handlers } = buildPlay(this.run, play, varsOf(pb), host);
          this.plays.set(play, (this.plays.get(play) ?? new Map()).set(host.name, { steps, handlers }));
          requests.push(...playRequests(steps, Object.values(handlers), this.run.ctx, play.probe ? [play.probe] : []));
        }
      }
    } catch {
      // A play that cannot build its steps says so on its own turn.
      return;
    }
    requests.push(...(this.readiness?.(host) ?? []));
    if (requests.length > 0) this.batches.set(host.name, batchFacts(dedupeFacts(requests)));
  }

  built(play: Play, host: Host): { steps: Operation[]; handlers: Record<string, Operation> } | undefined {
    return this.plays.get(play)?.get(host.name);
  }

  /** The batch a host runs under its lock (or on its own). */
  script(host: Host): ShellCommand | undefined {
    return this.batches.get(host.name)?.script;
  }

  /** Keep a host's answers, read over its connection of this epoch. */
  keep(host: Host, stdout: string): void {
    const batch = this.batches.get(host.name);
    if (batch) this.answers.set(host.name, { facts: batch.parse(stdout), epoch: this.run.pool.epoch(host) });
  }

  /**
   * `requests` (up's read before any change) from the host: the answers read up front when they
   * hold; else the host's whole batch, under its lock in the lock's own command when this connects
   * it (over the cap, where nothing was read up front), kept for the host's turns. Under the cap a
   * host that asks nothing reads nothing; over it, every host with a batch reads it here.
   */
  async read(host: Host, requests: readonly FactRequest[]): Promise<FactMap | undefined> {
    const known = requests.length > 0 ? this.known(host, requests) : undefined;
    if (known || (requests.length === 0 && !this.run.capped)) return known;
    const batch = this.batches.get(host.name);
    if (!batch) {
      if (requests.length === 0) return undefined;
      const session = await this.run.pool.session(host);
      return (await runFacts((script) => session.run(script, { phase: 'facts' }), requests)).facts;
    }
    const session = await this.run.pool.sessionReading(host, batch.script);
    const read = this.run.pool.takeRead(host);
    this.keep(host, read ? read.stdout : (await session.run(batch.script, { phase: 'facts' })).stdout);
    return this.answers.get(host.name)!.facts;
  }

  /**
   * Over the cap, the answers a host read under its run lock up front, for a turn that connects no
   * more when they show its steps all in place (play.ts): while nothing in the run has changed or
   * failed, whatever connection they came over. Such a turn reports what the host was when read
   * under the lock; a turn with anything to do connects, locks and reads again.
   */
  settled(host: Host, requests: readonly FactRequest[]): FactMap | undefined {
    const a = this.answers.get(host.name);
    if (!a || !this.run.capped || !this.run.pool.locking || !this.run.unchanged()) return undefined;
    return requests.every((r) => a.facts.has(r.key)) ? a.facts : undefined;
  }

  /** Without a lock (plan): every host's batch as one read of its own, hosts in parallel. */
  async readAll(hosts: readonly Host[]): Promise<void> {
    await mapLimit(hosts.filter((h) => this.batches.has(h.name)), this.run.opts.forks, async (host) => {
      try {
        const session = await this.run.pool.session(host);
        this.keep(host, (await session.run(this.script(host)!, { phase: 'facts' })).stdout);
      } catch {
        // Unreachable: the host's first play says so.
      }
    });
  }

  /**
   * The answers to `requests` read up front, while they still hold: nothing changed on any host
   * of the run since, the host's connection is the one they came over, and every request was answered.
   */
  known(host: Host, requests: readonly FactRequest[]): FactMap | undefined {
    const a = this.answers.get(host.name);
    if (!a || !this.run.unchanged() || a.epoch !== this.run.pool.epoch(host)) return undefined;
    return requests.every((r) => a.facts.has(r.key)) ? a.facts : undefined;
  }

  /** The readiness probes answered up front, for the wait's first round (none once the run changed something). */
  readinessAnswers(): Map<string, TurnAnswers> {
    const out = new Map<string, TurnAnswers>();
    if (!this.readiness) return out;
    for (const host of this.run.inv.hosts) {
      const requests = this.readiness(host);
      const facts = requests.length > 0 ? this.known(host, requests) : undefined;
      if (facts) out.set(host.name, { signature: factsSignature(requests), facts: new Map(requests.map((r) => [r.key, facts.get(r.key)!])) });
    }
    return out;
  }
}
