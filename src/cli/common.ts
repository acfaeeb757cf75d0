/** Shared CLI plumbing: argument parsing, inventory loading, the reporter for a run. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;
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
import { EXIT } from './exit-codes.js';

export class UsageError extends LbdeployError {}

export function parse<T extends Options>(args: string[], options: T, usage: string): Parsed<T> | undefined {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    if ((r.values as { help?: boolean }).help) {
      out.line(usage);
      return undefined;
    }
    return r;
  } catch (e) {
    throw new UsageError((e as Error).message, { hint: usage.split('\n')[0] });
  }
}

export async function requireInventory(positionals: string[], usage: string, options: LoadOptions = {}): Promise<Inventory> {
  const file = positionals[0];
  if (!file) throw new UsageError('missing INVENTORY', { hint: usage.split('\n')[0] });
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, { hint: usage.split('\n')[0] });
  return loadInventory(file, options);
}

/** Hosts worked on at once, and SSH connections open at once, unless --forks says otherwise. */
export const DEFAULT_FORKS = 20;

/** `--forks N` (up, plan, audit, verify, facts, failover-test): a whole number of at least 1. */
export function parseForks(text: string | undefined): number {
  if (text === undefined) return DEFAULT_FORKS;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InventoryError([{ where: '--forks', message: `'${text}' is not a whole number of at least 1` }]);
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

/** Map an error to its exit code, printing it (masked when an inventory is known). */
export function failure(e: unknown, inv?: Inventory): number {
  const text = formatError(e);
  out.error(inv ? inv.masker.mask(text) : text);
  if (e instanceof UsageError) return EXIT.usage;
  if (e instanceof InventoryError || e instanceof PlaybookError) return EXIT.invalidInput;
  return EXIT.failed;
}

/** The inventory's playbooks deploy nothing this command applies to. */
export function noDeployment(inv: Inventory, command: string): InventoryError {
  return new InventoryError([{
    where: inv.playbookWhere ?? inv.source.shownName,
    message: `${command}: the inventory's playbooks (${inv.playbooks.join(', ') || 'none'}) deploy nothing ${command} applies to`,
    hint: `${command} works on the kinds ${KINDS.filter((k) => k.serves).map((k) => k.name).join(', ')}; an own playbook names its kind with \`kind:\``,
  }]);
}
