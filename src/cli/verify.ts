/** `lbdeploy verify INVENTORY`: prove the deployment works (VIP on exactly one node, backends, curl through the VIP). */
import type { Inventory } from '../inventory/model.js';
import { checksTable } from '../report/checks.js';
import { consoleOutput as out } from '../report/console.js';
import { hasHaModel, loadHaContext } from '../verify/ha-context.js';
import { verifyHa, type Check } from '../verify/ha-verify.js';
import { hasIpvsModel, loadIpvsContexts, verifyIpvs } from '../verify/ipvs-verify.js';
import { ConnectionPool } from '../connection/pool.js';
import { InventoryError } from '../inventory/errors.js';
import { failure, parse, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runVerify(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGES.verify);
    if (!parsed) return EXIT.ok;
    inv = await requireInventory(parsed.positionals, USAGES.verify);
    const ha = hasHaModel(inv);
    if (!ha && !hasIpvsModel(inv)) {
      throw new InventoryError([{ where: inv.source.shownName, message: 'this inventory describes no deployment to verify (no `keepalived`, `alive` or `ipvs_dr` vars)', hint: 'verify works on inventories for the haproxy-keepalived, ipvs-keepalived and ipvs-dr playbooks' }]);
    }
    const pool = new ConnectionPool(inv);
    try {
      const checks: Check[] = [];
      if (ha) checks.push(...await verifyHa(await loadHaContext(inv, pool)));
      for (const ctx of await loadIpvsContexts(inv, pool)) checks.push(...await verifyIpvs(ctx));
      out.line(inv.masker.mask(parsed.values.json ? JSON.stringify({ ok: checks.every((c) => c.status !== 'fail'), checks }, null, 2) : checksTable(checks)));
      return checks.some((c) => c.status === 'fail') ? EXIT.failed : EXIT.ok;
    } finally {
      await pool.closeAll();
    }
  } catch (e) {
    return failure(e, inv);
  }
}
