/** `lbdeploy up INVENTORY` (and `plan` = up --check --diff): converge hosts to the inventory. */
import { runPlaybooks } from '../execute/run.js';
import type { Inventory } from '../inventory/model.js';
import { loadPlaybook } from '../playbook/load.js';
import { InventoryError } from '../inventory/errors.js';
import { checkLimit, failure, parse, requireInventory, runReporter } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';


const OPTIONS = {
  playbook: { type: 'string', multiple: true, short: 'p' },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  limit: { type: 'string', short: 'l' },
  tags: { type: 'string', short: 't' },
  'skip-tags': { type: 'string' },
  forks: { type: 'string', short: 'f' },
  'allow-reboot': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runUp(args: string[], mode: 'up' | 'plan'): Promise<number> {
  let inv: Inventory | undefined;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort();
  };
  try {
    const parsed = parse(args, OPTIONS, USAGES.up);
    if (!parsed) return EXIT.ok;
    const v = parsed.values;
    inv = await requireInventory(parsed.positionals, USAGES.up);
    checkLimit(inv, v.limit);
    const refs = v.playbook && v.playbook.length > 0 ? v.playbook : inv.playbooks;
    if (refs.length === 0) {
      throw new InventoryError([{ where: inv.source.shownName, message: 'no playbook to run', hint: 'add `playbook: <name>` to the inventory or pass --playbook NAME|FILE' }]);
    }
    const playbooks = [];
    for (const ref of refs) playbooks.push(await loadPlaybook(ref, inv.dir, v.playbook ? '--playbook' : inv.playbookWhere));
    const forks = v.forks === undefined ? 20 : Number(v.forks);
    if (!Number.isInteger(forks) || forks < 1) throw new InventoryError([{ where: '--forks', message: `'${v.forks}' is not a whole number of at least 1` }]);
    const split = (s?: string) => s?.split(',').map((t) => t.trim()).filter(Boolean);
    const reporter = await runReporter(inv, v.json ?? false);
    process.on('SIGINT', onSigint);
    let result;
    try {
      result = await runPlaybooks(inv, playbooks, {
        check: mode === 'plan' || (v.check ?? false), diff: mode === 'plan' || (v.diff ?? false),
        limit: v.limit, tags: split(v.tags), skipTags: split(v['skip-tags']), forks,
        allowReboot: v['allow-reboot'] ?? false, signal: controller.signal,
      }, reporter);
    } finally {
      await reporter.close();
    }
    if (result.interrupted) return EXIT.interrupted;
    const recaps = Object.values(result.hosts);
    if (recaps.some((r) => r.failed > 0)) return EXIT.failed;
    if (recaps.some((r) => r.unreachable)) return EXIT.unreachable;
    return EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
