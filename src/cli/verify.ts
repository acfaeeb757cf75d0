/** `lbdeploy verify INVENTORY`: prove the deployment works: the checks of every kind the inventory's playbooks declare, and requests through the VIPs. */
import type { Inventory } from '../inventory/model.js';
import { allOk, checksTable } from '../checks/check.js';
import { consoleOutput as out } from '../report/console.js';
import { ConnectionPool } from '../connection/pool.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import { inspect } from '../kinds/inspect.js';
import { failure, noDeployment, parse, parseForks, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runVerify(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, { json: { type: 'boolean' }, 'host-timeout': { type: 'string', default: '15' }, forks: { type: 'string', short: 'f' }, help: { type: 'boolean', short: 'h' } }, USAGES.verify);
    if (!parsed) return EXIT.ok;
    inv = await requireInventory(parsed.positionals, USAGES.verify);
    const deployments = (await deploymentsOf(inv, await inventoryPlaybooks(inv))).filter((d) => d.nodes.length > 0);
    if (deployments.every((d) => d.probes.length === 0 && d.endToEnd.length === 0)) throw noDeployment(inv, 'verify');
    const pool = new ConnectionPool(inv, undefined, parseForks(parsed.values.forks));
    try {
      const { checks } = await inspect(pool, deployments, { timeoutMs: Number(parsed.values['host-timeout']) * 1000, endToEnd: true });
      const ok = allOk(checks);
      out.line(inv.masker.mask(parsed.values.json ? JSON.stringify({ ok, checks }, null, 2) : checksTable(checks)));
      return ok ? EXIT.ok : EXIT.failed;
    } finally {
      await pool.closeAll();
    }
  } catch (e) {
    return failure(e, inv);
  }
}
