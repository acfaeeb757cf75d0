/** One play on one host: facts in one round trip, steps in order, handlers at the end. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { join as joinCmd, sh, type ShellCommand } from '../connection/shell.js';
import type { HostSession } from '../connection/pool.js';
import type { ExecResult } from '../connection/ssh.js';
import { LbdeployError } from '../errors.js';
import { runFacts } from '../facts/batch.js';
import type { FactMap, FactRequest, Operation, PlanContext, StepPlan } from '../operations/types.js';
import type { RunEvent, StepStatus } from '../report/events.js';
import { BOOT_FACT } from '../operations/command.js';

/** Where a notified-but-not-yet-run handler is remembered on the host, so a failed run does not lose it. */
export const HANDLER_MARKER_DIR = '/var/lib/lbdeploy/handlers';

export function handlerMarker(playbook: string, handler: string): string {
  const slug = `${playbook}-${handler}`.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${slug.slice(0, 80)}-${createHash('sha256').update(`${playbook}\0${handler}`).digest('hex').slice(0, 8)}`;
}

/** The pending handlers' markers, one per line, listed by the shell's own glob (no process). */
export function pendingFact(dir = HANDLER_MARKER_DIR): FactRequest {
  return { key: 'lbdeploy:pending-handlers', command: sh`for f in ${dir}/*; do if [ -e "$f" ]; then echo "\${f##*/}"; fi; done; true` };
}

const PENDING_FACT = pendingFact();

export interface HostPlayInput {
  session: HostSession;
  /** Facts gathered beforehand for these steps (see gatherFacts); gathered here when absent. */
  facts?: FactMap;
  playbook: string;
  play: string;
  steps: Operation[];
  handlers: Record<string, Operation>;
  ctx: PlanContext;
  emit: (e: RunEvent) => void;
  aborted: () => boolean;
  /** Does this text hold a secret value? Diffs of such files are hidden (the old version may hold an old secret). */
  holdsSecret: (text: string) => boolean;
  /** Called after a step with `reconnect` changed (a reboot): returns a fresh session on the new boot. */
  reconnect: (timeoutMs: number, previousBoot: string) => Promise<HostSession>;
}

/**
 * Everything a play's steps and handlers need (plus extra probes), in one round trip.
 * The pending-handler markers always come along.
 */
export async function gatherFacts(session: HostSession, ops: readonly Operation[], handlers: readonly Operation[], ctx: PlanContext, extra: readonly FactRequest[] = []): Promise<FactMap> {
  const requests = [PENDING_FACT, ...extra, ...ops.flatMap((o) => o.facts(ctx)), ...handlers.flatMap((o) => o.facts(ctx))];
  const { facts, first: r } = await runFacts((script) => session.run(script), requests);
  if (!facts.has(PENDING_FACT.key)) {
    throw new LbdeployError(`gathering facts failed (exit ${r.code ?? 'without status'}): ${(r.stderr || r.stdout).trim().slice(0, 500)}`, { where: session.host.name });
  }
  return facts;
}

export interface HostPlayResult {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
}

export async function runHostPlay(input: HostPlayInput): Promise<HostPlayResult> {
  const { playbook, play, steps, handlers, ctx, emit } = input;
  let session = input.session;
  const host = session.host.name;
  const counts: HostPlayResult = { ok: 0, changed: 0, failed: 0, skipped: 0 };
  const handlerOps = Object.entries(handlers);
  const report = (step: string, status: StepStatus, started: number, extra: Partial<Extract<RunEvent, { type: 'step' }>> = {}) => {
    counts[status]++;
    emit({ type: 'step', host, play, step, status, ms: Date.now() - started, ...extra });
  };

  const gather = (ops: readonly Operation[]) => gatherFacts(session, ops, handlerOps.map(([, o]) => o), ctx);
  let facts = input.facts ?? (await gather(steps));
  const pending = new Set(facts.get(PENDING_FACT.key)!.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  const notified = new Set(handlerOps.filter(([name]) => pending.has(handlerMarker(playbook, name))).map(([name]) => name));
  const markers = (names: readonly string[]) => {
    const files = names.filter((n) => n in handlers).map((n) => `${HANDLER_MARKER_DIR}/${handlerMarker(playbook, n)}`);
    return files.length > 0 ? sh`mkdir -p ${HANDLER_MARKER_DIR} && touch ${files}` : undefined;
  };

  for (let i = 0; i < steps.length; i++) {
    const op = steps[i]!;
    const started = Date.now();
    if (input.aborted()) {
      report(op.name, 'skipped', started, { message: 'interrupted' });
      continue;
    }
    let plan: StepPlan;
    try {
      plan = op.plan(facts, ctx);
    } catch (e) {
      report(op.name, 'failed', started, { message: `planning failed: ${(e as Error).message}` });
      return counts;
    }
    if (plan.kind === 'ok') {
      report(op.name, 'ok', started, { message: plan.reason });
      continue;
    }
    if (plan.kind === 'fail') {
      report(op.name, 'failed', started, { message: plan.message, hint: plan.hint });
      return counts;
    }
    if (plan.kind === 'run') {
      if (ctx.check) {
        report(op.name, 'ok', started, { message: `${plan.summary} (not run in check mode)` });
        continue;
      }
      const r = await session.run(plan.script);
      if (r.code !== 0) {
        report(op.name, 'failed', started, { message: errorText(r) });
        return counts;
      }
      report(op.name, 'ok', started, { message: plan.summary });
      continue;
    }
    // A change.
    if (plan.diff && typeof plan.stdin === 'string' && input.holdsSecret(plan.stdin)) plan = { ...plan, diff: hiddenDiff(plan.diff) };
    if (ctx.check) {
      op.notify.forEach((n) => notified.add(n));
      report(op.name, 'changed', started, { message: `would ${plan.summary}`, diff: plan.diff });
      continue;
    }
    // Notified handlers are remembered on the host in the same command as the change itself.
    const marker = op.kind === 'command' ? undefined : markers(op.notify);
    const script: ShellCommand = marker ? joinCmd([sh`( ${plan.script} )`, marker], ' && ') : plan.script;
    const r = await session.run(script, { stdin: stdinOf(plan.stdin) });
    const outcome = op.result ? op.result(r) : r.code === 0 ? { changed: true } : { changed: false, error: errorText(r) };
    if (outcome.error !== undefined || r.code === null) {
      report(op.name, 'failed', started, { message: outcome.error ?? `the command ended without an exit status (${r.signal ?? 'connection lost'})` });
      return counts;
    }
    if (!outcome.changed) {
      report(op.name, 'ok', started, { message: 'ran, reported no change' });
      continue;
    }
    if (op.kind === 'command' && op.notify.length > 0) {
      const m = markers(op.notify);
      if (m) await session.run(m);
    }
    op.notify.forEach((n) => notified.add(n));
    report(op.name, 'changed', started, { message: plan.summary, diff: plan.diff });
    if (op.reconnect) session = await input.reconnect(op.reconnect.timeoutMs, facts.get(BOOT_FACT.key)?.stdout ?? '');
    // Later steps plan against the host as it is now: one more round trip, only after a change.
    if (i < steps.length - 1 || notified.size > 0) facts = await gather(steps.slice(i + 1));
  }

  for (const [name, op] of handlerOps) {
    if (!notified.has(name)) continue;
    const started = Date.now();
    const marker = `${HANDLER_MARKER_DIR}/${handlerMarker(playbook, name)}`;
    if (input.aborted()) {
      report(name, 'skipped', started, { handler: true, message: 'interrupted; stays pending for the next run' });
      continue;
    }
    if (ctx.check) {
      report(name, 'changed', started, { handler: true, message: 'would run' });
      continue;
    }
    const plan = op.plan(facts, ctx);
    if (plan.kind === 'fail') {
      report(name, 'failed', started, { handler: true, message: plan.message, hint: plan.hint });
      return counts;
    }
    const script = plan.kind === 'ok' ? sh`rm -f ${marker}` : joinCmd([sh`( ${plan.script} )`, sh`rm -f ${marker}`], ' && ');
    const r = await session.run(script, { stdin: plan.kind === 'change' ? stdinOf(plan.stdin) : undefined });
    if (r.code !== 0) {
      report(name, 'failed', started, { handler: true, message: `${errorText(r)} (stays pending for the next run)` });
      return counts;
    }
    report(name, plan.kind === 'ok' ? 'ok' : 'changed', started, { handler: true, message: plan.kind === 'ok' ? plan.reason : plan.summary });
    // A reboot handler: wait for the new boot before the next handler (or the next play).
    if (op.reconnect && plan.kind === 'change') session = await input.reconnect(op.reconnect.timeoutMs, facts.get(BOOT_FACT.key)?.stdout ?? '');
  }
  return counts;
}

/** A local file goes up as a stream, opened only when its step runs. */
function stdinOf(stdin: string | { localFile: string } | undefined): string | Readable | undefined {
  return stdin === undefined || typeof stdin === 'string' ? stdin : createReadStream(stdin.localFile);
}

/** Keep a diff's headers and size, not its lines. */
export function hiddenDiff(diff: string): string {
  const lines = diff.split('\n');
  const added = lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length;
  const removed = lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).length;
  const headers = lines.filter((l) => l.startsWith('---') || l.startsWith('+++'));
  return `${headers.join('\n')}\n(diff hidden: the file holds secrets; ${added} line(s) added, ${removed} removed)\n`;
}

function errorText(r: ExecResult): string {
  const text = (r.stderr || r.stdout).trim();
  const tail = text.split('\n').slice(-8).join('\n');
  return r.code === null ? `ended without an exit status (${r.signal ?? 'connection lost'})${tail ? `: ${tail}` : ''}` : `exit ${r.code}${tail ? `: ${tail}` : ''}`;
}
