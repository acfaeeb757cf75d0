/** `lbdeploy verify INVENTORY`: prove the deployment works (VIP on exactly one node, backends, curl through the VIP). */
import type { Inventory } from '../inventory/model.js';
import { checksTable } from '../report/checks.js';
import { consoleOutput as out } from '../report/console.js';
import { loadHaContext } from '../verify/ha-context.js';
import { verifyHa } from '../verify/ha-verify.js';
import { failure, parse, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runVerify(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGES.verify);
    if (!parsed) return EXIT.ok;
    inv = await requireInventory(parsed.positionals, USAGES.verify);
    const ctx = await loadHaContext(inv);
    try {
      const checks = await verifyHa(ctx);
      out.line(inv.masker.mask(parsed.values.json ? JSON.stringify({ ok: checks.every((c) => c.status !== 'fail'), checks }, null, 2) : checksTable(checks)));
      return checks.some((c) => c.status === 'fail') ? EXIT.failed : EXIT.ok;
    } finally {
      await ctx.pool.closeAll();
    }
  } catch (e) {
    return failure(e, inv);
  }
}
