/** Shared CLI plumbing: inventory loading, the reporter for a run, errors as text or JSON. */
import { LbdeployError } from '../errors.js';
import { InventoryError } from '../inventory/errors.js';
import { loadInventory, type LoadOptions } from '../inventory/load.js';
import type { Inventory } from '../inventory/model.js';
import { unmatchedTerms } from '../inventory/select.js';
import { PlaybookError } from '../playbook/load.js';
import { consoleOutput as out, formatError } from '../report/console.js';
import type { Reporter } from '../report/events.js';
import { jsonLines, masking, plainLines } from '../report/render.js';
import { KINDS } from '../kinds/registry.js';
import { EXIT, exitName } from './exit-codes.js';

export class UsageError extends LbdeployError {}

/** What a helper refused (a plain error naming the option: a bad --history, --every, --scale): a usage error. */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** How this process prints errors: set from the command line (-o json) before anything runs. */
export const outputMode = { json: false };

/** The command's INVENTORY operand, loaded (the parser has checked there is exactly one). */
export async function requireInventory(positionals: string[], options: LoadOptions = {}): Promise<Inventory> {
  const file = positionals[0];
  if (!file) throw new UsageError('missing INVENTORY');
  return loadInventory(file, options);
}

/** Hosts worked on at once, and SSH connections open at once, unless --forks says otherwise. */
export const DEFAULT_FORKS = 20;

/** `--forks N` (up, plan, audit, verify, facts, failover-test): a whole number of at least 1. */
export function parseForks(text: string | undefined): number {
  if (text === undefined) return DEFAULT_FORKS;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--forks takes a whole number of at least 1, not '${text}'`);
  return n;
}

/** `--lock-wait SECONDS` (up, failover-test): whole seconds a run waits for another run's lock; 0 refuses at once. */
export function parseLockWait(text: string): number {
  const s = Number(text);
  if (!(s >= 0) || !Number.isFinite(s)) throw new UsageError(`--lock-wait takes a number of seconds (0: refuse at once), not '${text}'`);
  return Math.round(s);
}

export function checkLimit(inv: Inventory, limit: string | undefined): void {
  if (!limit) return;
  const bad = unmatchedTerms(inv, limit);
  if (bad.length > 0) throw new InventoryError([{ where: '--limit', message: `'${bad.join("', '")}' matches no host or group in ${inv.source.shownName}`, hint: `hosts: ${inv.hosts.map((h) => h.name).join(', ')}` }]);
}

export async function runReporter(inv: Inventory, json: boolean): Promise<Reporter> {
  const write = (t: string) => process.stdout.write(t);
  // listr2 only for a terminal, and only loaded then.
  const inner = json ? jsonLines(write) : process.stdout.isTTY ? (await import('../report/listr.js')).listrProgress(write) : plainLines(write);
  return masking(inv.masker, inner);
}

/** An error's exit code. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.usage;
  if (e instanceof InventoryError || e instanceof PlaybookError) return EXIT.invalidInput;
  return EXIT.failed;
}

/** An error as one JSON object: code (the exit code's name), exit, message, where, hint; an inventory's problems each. */
export function errorJson(e: unknown, exit: number): Record<string, unknown> {
  const base = { type: 'error', code: exitName(exit), exit };
  if (e instanceof InventoryError) {
    const [first] = e.issues;
    return { ...base, message: e.issues.length === 1 ? first!.message : `${e.issues.length} problems`, where: first?.where, hint: first?.hint, problems: e.issues };
  }
  if (e instanceof LbdeployError) return { ...base, message: e.message, where: e.where, hint: e.hint };
  return { ...base, message: formatError(e).replace(/^error: /, '') };
}

/** Print an error (masked when an inventory is known), as text on stderr or with -o json as JSON on stdout; its exit code. */
export function failure(e: unknown, inv?: Inventory): number {
  const exit = exitCodeOf(e);
  const mask = (t: string) => (inv ? inv.masker.mask(t) : t);
  if (outputMode.json) out.line(mask(JSON.stringify(errorJson(e, exit))));
  else out.error(mask(formatError(e)));
  return exit;
}

/** The inventory's playbooks deploy nothing this command applies to. */
export function noDeployment(inv: Inventory, command: string): InventoryError {
  return new InventoryError([{
    where: inv.playbookWhere ?? inv.source.shownName,
    message: `${command}: the inventory's playbooks (${inv.playbooks.join(', ') || 'none'}) deploy nothing ${command} applies to`,
    hint: `${command} works on the kinds ${KINDS.filter((k) => k.serves).map((k) => k.name).join(', ')}; an own playbook names its kind with \`kind:\``,
  }]);
}
