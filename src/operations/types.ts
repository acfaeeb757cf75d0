/**
 * Operations: desired state + facts -> commands, or an explicit reason for doing nothing.
 * Pure: an operation never touches the network; the executor gathers its facts and runs its script.
 */
import type { ShellCommand } from '../connection/shell.js';
import type { ExecResult } from '../connection/ssh.js';

/** A read-only probe: the command prints what the parser needs. Same key = same probe (deduplicated). */
export interface FactRequest {
  key: string;
  command: ShellCommand;
  /**
   * Requests of one group (same `group.id`) are answered by one command for all of them when a
   * batch holds several: fewer processes on the host (one stat and one sha256sum for every file).
   * Each request still gets the result its own `command` would have printed.
   */
  group?: FactGroup;
}

export interface FactGroup {
  id: string;
  /** This request's argument (a path). */
  arg: string;
  /** One command for every argument of the group, in this order. */
  command(args: readonly string[]): ShellCommand;
  /** Its output (and exit code) cut into each argument's result, in order; or why it cannot be cut. */
  split(stdout: string, args: readonly string[], code: number): FactResult[] | string;
}

export interface FactResult {
  stdout: string;
  code: number;
}

export type FactMap = ReadonlyMap<string, FactResult>;

export interface PlanContext {
  /** Show content diffs (file operations fetch old content for that). */
  diff: boolean;
  /** Check mode: nothing will run; earlier steps' changes did not happen. */
  check: boolean;
  /** `--allow-reboot` was given. */
  allowReboot: boolean;
}

export type StepPlan =
  /** Nothing to do; a hint is shown even when ok steps are not (what the operator should know). */
  | { kind: 'ok'; reason: string; hint?: string }
  | {
      kind: 'change';
      /** One line: what will change. */
      summary: string;
      script: ShellCommand;
      /** Data streamed to the script's standard input: file content, or a local file read as it uploads. */
      stdin?: string | { localFile: string };
      diff?: string;
    }
  /** Runs (e.g. waits for a port) but never counts as a change; not run in check mode. */
  | { kind: 'run'; summary: string; script: ShellCommand }
  | { kind: 'fail'; message: string; hint?: string };

export interface StepOptions {
  /** Shown in progress and recap; a default is derived from the operation. */
  title?: string;
  tags?: string[];
  /** Handler names to run at the end when this step changed something. */
  notify?: string | string[];
  /**
   * Its change interrupts traffic on this host (a service restarted, a package upgraded): in a play with
   * `drain`, a VIP holder is drained before such a change and undrained after.
   */
  disruptive?: boolean;
}

export interface Operation {
  kind: string;
  name: string;
  tags: string[];
  notify: string[];
  /** See StepOptions.disruptive. */
  disruptive?: boolean;
  /** Facts needed to plan; `diff` asks file operations for old content. */
  facts(ctx: PlanContext): FactRequest[];
  plan(facts: FactMap, ctx: PlanContext): StepPlan;
  /**
   * Whether it changed is known only once it ran (a command's changed_when): the handlers it
   * notifies are then remembered after it, not in the same command.
   */
  changeKnownAfterRun?: boolean;
  /** How the script's result reads; default: exit 0 = changed, anything else = failed. */
  result?(r: ExecResult): { changed: boolean; error?: string };
  /** A reboot (or similar) drops the connection on purpose: the executor reconnects and waits. */
  /** The executor then waits until the host answers with a new boot (see BOOT_FACT). */
  reconnect?: { timeoutMs: number };
}

export function notifyList(n: StepOptions['notify']): string[] {
  return n === undefined ? [] : Array.isArray(n) ? n : [n];
}

/** The fields every operation shares, from its options. */
export function common(kind: string, defaultName: string, o: StepOptions): Pick<Operation, 'kind' | 'name' | 'tags' | 'notify' | 'disruptive'> {
  return { kind, name: o.title ?? defaultName, tags: o.tags ?? [], notify: notifyList(o.notify), ...(o.disruptive ? { disruptive: true } : {}) };
}

/** Look up a fact the operation asked for; a missing one is a bug in the operation, not user input. */
export function fact(facts: FactMap, key: string): FactResult {
  const f = facts.get(key);
  if (!f) throw new Error(`internal: fact '${key}' was not gathered`);
  return f;
}
