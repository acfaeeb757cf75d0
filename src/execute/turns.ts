/**
 * Over the --forks cap a host cannot stay connected for the whole run: it is connected on its
 * turn in each play, and a later need for it (a play that orders its batches by a probe of every
 * host, the readiness wait) would connect it once more. A turn therefore reads, in the round
 * trips it makes anyway or in one more, what those later needs ask:
 * - at the start of a turn, with the play's facts: the probes of the host's later plays that
 *   order their batches by them. These only order the batches: the host's own turn in that play
 *   reads its facts again, over the connection it applies with.
 * - at the end of the host's last turn: the readiness probes, which answer the wait's first round.
 */
import { factsSignature } from '../facts/batch.js';
import type { Host, Inventory } from '../inventory/model.js';
import { playHosts } from '../inventory/select.js';
import type { FactRequest, FactResult } from '../operations/types.js';
import type { Play, Playbook } from '../playbook/define.js';
import type { TurnAnswers } from '../kinds/inspect.js';

export class Turns {
  /** Per host, the plays it is in, in run order. */
  private readonly plays = new Map<string, Play[]>();
  /** A batching play's probe of a host, read on an earlier turn. */
  private readonly ahead = new Map<Play, Map<string, FactResult>>();
  /** The readiness probes read at the end of each host's last turn. */
  readonly final = new Map<string, TurnAnswers>();

  constructor(inv: Inventory, playbooks: readonly Playbook[], hosts: readonly string[], private readonly finalRequests?: (host: Host) => readonly FactRequest[]) {
    const inRun = new Set(hosts);
    for (const play of playbooks.flatMap((pb) => pb.plays)) {
      for (const h of playHosts(inv, play)) if (inRun.has(h.name)) this.plays.set(h.name, [...(this.plays.get(h.name) ?? []), play]);
    }
  }

  /** What a turn in `play` (or a read before the first play) reads ahead with its facts: the probes of the host's later plays that build their batches from one. */
  aheadOf(host: Host, play?: Play): FactRequest[] {
    const mine = this.plays.get(host.name) ?? [];
    return mine.slice(play ? mine.indexOf(play) + 1 : 0).filter((p) => p.batches && p.probe && !this.ahead.get(p)?.has(host.name)).map((p) => p.probe!);
  }

  /** Keep what a turn read ahead. */
  keepAhead(host: Host, play: Play | undefined, facts: ReadonlyMap<string, FactResult>): void {
    const mine = this.plays.get(host.name) ?? [];
    for (const later of mine.slice(play ? mine.indexOf(play) + 1 : 0)) {
      const r = later.probe && facts.get(later.probe.key);
      if (later.batches && r) this.ahead.set(later, (this.ahead.get(later) ?? new Map()).set(host.name, r));
    }
  }

  /** A batching play's probe of a host read on an earlier turn, if any. */
  readAhead(play: Play, host: string): FactResult | undefined {
    return this.ahead.get(play)?.get(host);
  }

  /** The readiness probes to read when `play` is the host's last (none when nobody waits for them). */
  finalOf(host: Host, play: Play): readonly FactRequest[] {
    const mine = this.plays.get(host.name);
    return this.finalRequests && mine && mine[mine.length - 1] === play ? this.finalRequests(host) : [];
  }

  keepFinal(host: Host, requests: readonly FactRequest[], facts: ReadonlyMap<string, FactResult>): void {
    this.final.set(host.name, { signature: factsSignature(requests), facts });
  }
}
