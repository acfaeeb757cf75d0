/** One play on one host: facts in one round trip, steps in order, handlers at the end. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { join as joinCmd, sh, type ShellCommand } from '../connection/shell.js';
import type { HostSession } from '../connection/pool.js';
import type { ExecResult } from '../connection/ssh.js';
import { LbdeployError } from '../errors.js';
import { batchFacts, dedupeFacts, runFacts, type FactBatch } from '../facts/batch.js';
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

/** What a play's steps and handlers read on a host (with extra probes); the pending-handler markers always. */
export function playRequests(ops: readonly Operation[], handlers: readonly Operation[], ctx: PlanContext, extra: readonly FactRequest[] = []): FactRequest[] {
  return [PENDING_FACT, ...extra, ...ops.flatMap((o) => o.facts(ctx)), ...handlers.flatMap((o) => o.facts(ctx))];
}

/**
 * Everything a play's steps and handlers need (plus extra probes), in one round trip.
 * The pending-handler markers always come along.
 */
export async function gatherFacts(session: HostSession, ops: readonly Operation[], handlers: readonly Operation[], ctx: PlanContext, extra: readonly FactRequest[] = []): Promise<FactMap> {
  const requests = playRequests(ops, handlers, ctx, extra);
  const { facts, first: r } = await runFacts((script) => session.run(script, { phase: 'facts' }), requests);
  if (!facts.has(PENDING_FACT.key)) {
    throw new LbdeployError(`gathering facts failed (exit ${r.code ?? 'without status'}): ${(r.stderr || r.stdout).trim().slice(0, 500)}`, { where: session.host.name });
  }
  return facts;
}

/**
 * Whether a play changes nothing on a host with these facts: no handler of the play pending from an
 * earlier run, and every step in place (a step that would run a command, or cannot plan, is not).
 */
export function changesNothing(facts: FactMap, playbook: string, steps: readonly Operation[], handlers: Record<string, Operation>, ctx: PlanContext): boolean {
  const pending = facts.get(PENDING_FACT.key);
  if (!pending || Object.keys(handlers).some((n) => pending.stdout.split('\n').some((l) => l.trim() === handlerMarker(playbook, n)))) return false;
  try {
    return steps.every((op) => op.plan(facts, ctx).kind === 'ok');
  } catch {
    return false;
  }
}

export interface HostPlayResult {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
}

export function runHostPlay(input: HostPlayInput): Promise<HostPlayResult> {
  return new HostPlay(input).run();
}

type Step = RunEvent & { type: 'step' };

/** What the steps after a change read, and (once read with the change) the answers. */
interface NextRead {
  requests: FactRequest[];
  batch: FactBatch;
  facts?: FactMap;
}

/** One play on one host: its steps in order (one round trip for facts, again only after a change), then the handlers they notified. */
class HostPlay {
  private session: HostSession;
  private facts!: FactMap;
  private readonly counts: HostPlayResult = { ok: 0, changed: 0, failed: 0, skipped: 0 };
  private readonly notified = new Set<string>();
  private readonly handlerOps: [string, Operation][];

  constructor(private readonly input: HostPlayInput) {
    this.session = input.session;
    this.handlerOps = Object.entries(input.handlers);
  }

  async run(): Promise<HostPlayResult> {
    const { steps, playbook } = this.input;
    this.facts = this.input.facts ?? (await this.gather(steps));
    // Handlers a failed earlier run left pending on the host run this time.
    const pending = new Set(this.facts.get(PENDING_FACT.key)!.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
    for (const [name] of this.handlerOps) if (pending.has(handlerMarker(playbook, name))) this.notified.add(name);
    for (let i = 0; i < steps.length; i++) {
      if (!(await this.step(steps[i]!, steps.slice(i + 1)))) return this.counts;
    }
    for (const [name, op] of this.handlerOps) {
      if (this.notified.has(name) && !(await this.handler(name, op))) return this.counts;
    }
    return this.counts;
  }

  private gather(ops: readonly Operation[]): Promise<FactMap> {
    return gatherFacts(this.session, ops, this.handlerOps.map(([, o]) => o), this.input.ctx);
  }

  private report(step: string, status: StepStatus, started: number, extra: Partial<Step> = {}): void {
    this.counts[status]++;
    this.input.emit({ type: 'step', host: this.session.host.name, play: this.input.play, step, status, ms: Date.now() - started, ...extra });
  }

  /** The marker files that remember notified handlers on the host until they ran. */
  private markers(names: readonly string[]): ShellCommand | undefined {
    const files = names.filter((n) => n in this.input.handlers).map((n) => `${HANDLER_MARKER_DIR}/${handlerMarker(this.input.playbook, n)}`);
    return files.length > 0 ? sh`mkdir -p ${HANDLER_MARKER_DIR} && touch ${files}` : undefined;
  }

  /** One step: false stops the host's play (a failure). */
  private async step(op: Operation, rest: readonly Operation[]): Promise<boolean> {
    const { ctx } = this.input;
    const started = Date.now();
    if (this.input.aborted()) {
      this.report(op.name, 'skipped', started, { message: 'interrupted' });
      return true;
    }
    let plan: StepPlan;
    try {
      plan = op.plan(this.facts, ctx);
    } catch (e) {
      this.report(op.name, 'failed', started, { message: `planning failed: ${(e as Error).message}` });
      return false;
    }
    switch (plan.kind) {
      case 'ok':
        this.report(op.name, 'ok', started, { message: plan.reason, hint: plan.hint });
        return true;
      case 'fail':
        this.report(op.name, 'failed', started, { message: plan.message, hint: plan.hint });
        return false;
      case 'run':
        return this.runOnly(op, plan, started);
      case 'change':
        return this.change(op, plan, rest, started);
    }
  }

  /** A step that runs (a wait, say) but never counts as a change; not run in check mode. */
  private async runOnly(op: Operation, plan: Extract<StepPlan, { kind: 'run' }>, started: number): Promise<boolean> {
    if (this.input.ctx.check) {
      this.report(op.name, 'ok', started, { message: `${plan.summary} (not run in check mode)` });
      return true;
    }
    const r = await this.session.run(plan.script, { phase: 'apply' });
    if (r.code !== 0) {
      this.report(op.name, 'failed', started, { message: errorText(r) });
      return false;
    }
    this.report(op.name, 'ok', started, { message: plan.summary });
    return true;
  }

  private async change(op: Operation, plan: Extract<StepPlan, { kind: 'change' }>, rest: readonly Operation[], started: number): Promise<boolean> {
    if (plan.diff && typeof plan.stdin === 'string' && this.input.holdsSecret(plan.stdin)) plan = { ...plan, diff: hiddenDiff(plan.diff) };
    if (this.input.ctx.check) {
      op.notify.forEach((n) => this.notified.add(n));
      this.report(op.name, 'changed', started, { message: `would ${plan.summary}`, diff: plan.diff });
      return true;
    }
    // Notified handlers are remembered on the host in the same command as the change itself,
    // unless whether it changed is known only after it ran.
    const marker = op.changeKnownAfterRun ? undefined : this.markers(op.notify);
    const script: ShellCommand = marker ? joinCmd([sh`( ${plan.script} )`, marker], ' && ') : plan.script;
    // Later steps plan against the host as it is after the change: read in the same command when they can.
    const next = !op.reconnect && !op.changeKnownAfterRun ? this.nextRead(rest, op.notify) : undefined;
    const r = next ? await this.changeThenRead(script, plan, next) : await this.session.run(script, { stdin: stdinOf(plan.stdin), phase: 'apply' });
    const outcome = op.result ? op.result(r) : r.code === 0 ? { changed: true } : { changed: false, error: errorText(r) };
    if (outcome.error !== undefined || r.code === null) {
      this.report(op.name, 'failed', started, { message: outcome.error ?? `the command ended without an exit status (${r.signal ?? 'connection lost'})` });
      return false;
    }
    if (!outcome.changed) {
      this.report(op.name, 'ok', started, { message: 'ran, reported no change' });
      return true;
    }
    const late = op.changeKnownAfterRun ? this.markers(op.notify) : undefined;
    if (late) await this.session.run(late, { phase: 'apply' });
    op.notify.forEach((n) => this.notified.add(n));
    this.report(op.name, 'changed', started, { message: plan.summary, diff: plan.diff });
    if (op.reconnect) this.session = await this.input.reconnect(op.reconnect.timeoutMs, this.facts.get(BOOT_FACT.key)?.stdout ?? '');
    // Later steps plan against the host as it is now: read with the change, else one more round trip.
    if (rest.length > 0 || this.notified.size > 0) this.facts = next?.facts ?? (await this.gather(rest));
    return true;
  }

  /** The read that follows a change (the later steps' and the handlers' facts), when anything will plan from it. */
  private nextRead(rest: readonly Operation[], notifies: readonly string[]): NextRead | undefined {
    if (rest.length === 0 && this.notified.size === 0 && notifies.length === 0) return undefined;
    const requests = dedupeFacts(playRequests(rest, this.handlerOps.map(([, o]) => o), this.input.ctx));
    return { requests, batch: batchFacts(requests) };
  }

  /**
   * The change, then (when it succeeded) the facts the next steps plan from, in one command: the
   * change's output ends with a nonce line holding its exit code, the read's output follows. A read
   * that did not come back whole is left out (the caller reads again).
   */
  private async changeThenRead(script: ShellCommand, plan: Extract<StepPlan, { kind: 'change' }>, next: NextRead): Promise<ExecResult> {
    const nonce = `@@lbdeploy-then-${randomBytes(8).toString('hex')}`;
    const both = sh`( ${script} ); rc=$?; printf '\\n%s %s\\n' ${nonce} "$rc"; if [ "$rc" -eq 0 ]; then ( ${next.batch.script} ) </dev/null; fi; exit "$rc"`;
    const r = await this.session.run(both, { stdin: stdinOf(plan.stdin), phase: 'apply' });
    const at = r.stdout.indexOf(`\n${nonce} `);
    if (at < 0) return r;
    const after = r.stdout.slice(at + nonce.length + 2);
    const facts = next.batch.parse(after.slice(after.indexOf('\n') + 1));
    if (next.requests.every((q) => facts.has(q.key))) next.facts = facts;
    return { ...r, stdout: r.stdout.slice(0, at) };
  }

  /** A notified handler; its marker goes in the same command. False stops the play (it stays pending). */
  private async handler(name: string, op: Operation): Promise<boolean> {
    const started = Date.now();
    const marker = `${HANDLER_MARKER_DIR}/${handlerMarker(this.input.playbook, name)}`;
    if (this.input.aborted()) {
      this.report(name, 'skipped', started, { handler: true, message: 'interrupted; stays pending for the next run' });
      return true;
    }
    if (this.input.ctx.check) {
      this.report(name, 'changed', started, { handler: true, message: 'would run' });
      return true;
    }
    const plan = op.plan(this.facts, this.input.ctx);
    if (plan.kind === 'fail') {
      this.report(name, 'failed', started, { handler: true, message: plan.message, hint: plan.hint });
      return false;
    }
    const script = plan.kind === 'ok' ? sh`rm -f ${marker}` : joinCmd([sh`( ${plan.script} )`, sh`rm -f ${marker}`], ' && ');
    const r = await this.session.run(script, { stdin: plan.kind === 'change' ? stdinOf(plan.stdin) : undefined, phase: 'handlers' });
    if (r.code !== 0) {
      this.report(name, 'failed', started, { handler: true, message: `${errorText(r)} (stays pending for the next run)` });
      return false;
    }
    this.report(name, plan.kind === 'ok' ? 'ok' : 'changed', started, { handler: true, message: plan.kind === 'ok' ? plan.reason : plan.summary });
    // A reboot handler: wait for the new boot before the next handler (or the next play).
    if (op.reconnect && plan.kind === 'change') this.session = await this.input.reconnect(op.reconnect.timeoutMs, this.facts.get(BOOT_FACT.key)?.stdout ?? '');
    return true;
  }
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
