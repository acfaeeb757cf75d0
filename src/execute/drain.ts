/**
 * Drain before a disruptive change: a VIP holder whose plan has a step marked `disruptive` that will
 * change is drained first (its priority lowered; the play's `moved` command exits 0 once a peer holds
 * its VIPs), then its steps run, then it is undrained. A holder that does not let its VIPs go in time
 * is not touched.
 */
import type { HostSession } from '../connection/pool.js';
import type { FactMap, Operation, PlanContext } from '../operations/types.js';
import type { Play } from '../playbook/define.js';
import type { RunEvent } from '../report/events.js';
import { sleep } from '../util/sleep.js';

type Drain = ReturnType<NonNullable<Play['drain']>>;

/** Does any disruptive step of this host's plan change something? */
export function disruptiveChange(steps: readonly Operation[], facts: FactMap, ctx: PlanContext): boolean {
  return steps.some((op) => {
    if (!op.disruptive) return false;
    try {
      return op.plan(facts, ctx).kind === 'change';
    } catch {
      return false;
    }
  });
}

const STEP = 'drain (VIP holder, before a disruptive change)';

/** Drain the host and wait until its VIPs are held elsewhere; false (undrained again, reported) when they were not within `timeoutMs`. */
export async function drainHost(session: HostSession, drain: Drain, play: string, emit: (e: RunEvent) => void, timeoutMs = 60_000): Promise<boolean> {
  const host = session.host.name;
  const t0 = Date.now();
  const set = await session.run(drain.set);
  if (set.code !== 0) {
    emit({ type: 'step', host, play, step: STEP, status: 'failed', message: `could not drain: ${set.stderr.trim()}`, ms: Date.now() - t0 });
    return false;
  }
  while (Date.now() - t0 < timeoutMs) {
    if ((await session.run(drain.moved)).code === 0) {
      emit({ type: 'step', host, play, step: STEP, status: 'changed', message: `its VIPs moved to a peer in ${((Date.now() - t0) / 1000).toFixed(1)} s`, ms: Date.now() - t0 });
      return true;
    }
    await sleep(200);
  }
  await session.run(drain.clear);
  emit({ type: 'step', host, play, step: STEP, status: 'failed', message: `its VIPs did not move to a peer within ${timeoutMs / 1000} s: the disruptive change was not made`, hint: 'check that the other nodes of the cluster are healthy (lbdeploy verify)', ms: Date.now() - t0 });
  return false;
}

export async function undrainHost(session: HostSession, drain: Drain, play: string, emit: (e: RunEvent) => void): Promise<void> {
  const t0 = Date.now();
  const r = await session.run(drain.clear);
  emit({ type: 'step', host: session.host.name, play, step: 'undrain (VIP holder)', status: r.code === 0 ? 'changed' : 'failed', message: r.code === 0 ? 'priority back: it takes its VIPs back by preemption' : `could not undrain: ${r.stderr.trim()}`, ms: Date.now() - t0 });
}
