/** `lbdeploy preflight INVENTORY`: does VRRP pass between the LB nodes, and is any VRID already taken on the segment? */
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out } from '../report/console.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import { ConnectionPool } from '../connection/pool.js';
import { preflight, type PreflightResult } from '../kinds/preflight.js';
import { failure, noDeployment, parseForks, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

/** The pre-flight's problems as located lines: `file:line:col: host: message` and the hint. */
export function preflightLines(results: PreflightResult[], mask: (t: string) => string): string[] {
  return results.flatMap((r) => r.issues.map((i) => mask(`${i.where ? `${i.where}: ` : ''}${i.host}: ${i.message}\n  hint: ${i.hint}`)));
}

export async function runPreflight(positionals: string[], v: ValuesOf<typeof COMMANDS.preflight.options>): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const listenS = Number(v.listen);
    if (!(listenS >= 1 && listenS <= 60)) throw new UsageError('--listen takes 1 to 60 seconds (how long each node listens for VRRP)');
    const forks = parseForks(v.forks);
    inv = await requireInventory(positionals);
    const deployments = (await deploymentsOf(inv, await inventoryPlaybooks(inv))).filter((d) => d.vrrp);
    if (deployments.length === 0) throw noDeployment(inv, 'preflight');
    const pool = new ConnectionPool(inv, undefined, forks);
    let results: PreflightResult[];
    try {
      results = await preflight(pool, deployments, listenS);
    } finally {
      await pool.closeAll();
    }
    const bad = results.some((r) => r.issues.length > 0);
    if (v.json) out.line(inv.masker.mask(JSON.stringify({ ok: !bad, clusters: results }, null, 2)));
    else {
      for (const r of results) out.line(`${r.issues.length === 0 ? 'ok  ' : 'FAIL'} ${r.deployment} (${(r.ms / 1000).toFixed(1)} s)`);
      for (const line of preflightLines(results, (t) => inv!.masker.mask(t))) out.error(line);
    }
    return bad ? EXIT.failed : EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}
