/** `lbdeploy verify INVENTORY`: prove the deployment works: the checks of every kind the inventory's playbooks declare, and requests through the VIPs. */
import type { Inventory } from '../inventory/model.js';
import { allOk, checksTable } from '../checks/check.js';
import { consoleOutput as out } from '../report/console.js';
import { ConnectionPool } from '../connection/pool.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import { inspect } from '../kinds/inspect.js';
import { failure, noDeployment, parseForks, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

export async function runVerify(positionals: string[], v: ValuesOf<typeof COMMANDS.verify.options>): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const hostTimeoutS = Number(v['host-timeout']);
    if (!(hostTimeoutS > 0 && hostTimeoutS <= 600)) throw new UsageError(`--host-timeout takes seconds (more than 0, at most 600), not '${v['host-timeout']}'`);
    const forks = parseForks(v.forks);
    inv = await requireInventory(positionals);
    const deployments = (await deploymentsOf(inv, await inventoryPlaybooks(inv))).filter((d) => d.nodes.length > 0);
    if (deployments.every((d) => d.probes.length === 0 && d.endToEnd.length === 0)) throw noDeployment(inv, 'verify');
    const pool = new ConnectionPool(inv, undefined, forks);
    try {
      const { checks } = await inspect(pool, deployments, { timeoutMs: hostTimeoutS * 1000, endToEnd: true });
      const ok = allOk(checks);
      out.line(inv.masker.mask(v.json ? JSON.stringify({ ok, checks }, null, 2) : checksTable(checks)));
      return ok ? EXIT.ok : EXIT.failed;
    } finally {
      await pool.closeAll();
    }
  } catch (e) {
    return failure(e, inv);
  }
}
