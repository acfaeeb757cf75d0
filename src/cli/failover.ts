/** `lbdeploy failover-test INVENTORY`: the drill an operator runs before trusting a VIP. */
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out, table } from '../report/console.js';
import { hasHaModel, loadHaContext } from '../verify/ha-context.js';
import { failoverTest, haDrill, type Drill, type FailoverResult, type Scenario } from '../verify/failover.js';
import { loadIpvsContexts, ipvsDrill } from '../verify/ipvs-verify.js';
import { ConnectionPool } from '../connection/pool.js';
import { InventoryError } from '../inventory/errors.js';
import { failure, parse, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runFailover(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, {
      scenario: { type: 'string', default: 'all' }, 'max-move': { type: 'string', default: '5' }, rate: { type: 'string', default: '10' },
      json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, USAGES.failover);
    if (!parsed) return EXIT.ok;
    const v = parsed.values;
    const known: Scenario[] = ['keepalived', 'haproxy', 'keepalived-container'];
    if (v.scenario !== 'all' && !known.includes(v.scenario as Scenario)) throw new UsageError(`--scenario must be ${known.join(', ')} or all, not '${v.scenario}'`);
    const maxMoveS = Number(v['max-move']);
    const rate = Number(v.rate);
    if (!(maxMoveS > 0) || !(rate > 0 && rate <= 50)) throw new UsageError('--max-move must be > 0 seconds and --rate between 1 and 50 requests/s');
    inv = await requireInventory(parsed.positionals, USAGES.failover);
    const pool = new ConnectionPool(inv);
    const results: FailoverResult[] = [];
    try {
      // The drills this inventory's deployments have: systemd keepalived/haproxy (seeds 000/001), the keepalived container (seed 002).
      const drills: Drill[] = [];
      if (hasHaModel(inv)) {
        const ha = await loadHaContext(inv, pool);
        drills.push(haDrill(ha, 'keepalived'), haDrill(ha, 'haproxy'));
      }
      for (const c of await loadIpvsContexts(inv, pool)) if (c.kind === 'keepalived') drills.push(ipvsDrill(c));
      const chosen = drills.filter((d) => v.scenario === 'all' || d.scenario === v.scenario);
      if (chosen.length === 0) {
        throw new InventoryError([{ where: inv.source.shownName, message: drills.length === 0 ? 'this inventory has no VIP held by keepalived to fail over' : `scenario ${v.scenario} does not apply to this inventory`, hint: drills.length === 0 ? 'failover-test works on haproxy-keepalived and ipvs-keepalived inventories' : `try --scenario ${drills.map((d) => d.scenario).join(' or ')}` }]);
      }
      for (const d of chosen) {
        if (!v.json) out.error(`failover-test: stopping ${d.scenario} on the VIP holder...`);
        results.push(await failoverTest(d, { maxMoveS, rate }));
      }
    } finally {
      await pool.closeAll();
    }
    if (v.json) out.line(inv.masker.mask(JSON.stringify(results, null, 2)));
    else {
      const f = (x?: number) => (x === undefined ? '-' : `${x.toFixed(2)} s`);
      out.line(table(['SCENARIO', 'VIP', 'HOLDER', 'NEW HOLDER', 'VIP MOVED', 'SERVING AGAIN', 'FAILED REQUESTS', 'RESTORED', 'RESULT'], results.map((r) => [
        `stop ${r.scenario}`, r.vip, r.holderBefore, r.holderAfter ?? '-', f(r.vipMovedS), f(r.servingS), `${r.failedRequests}/${r.requests}`,
        f(r.restoredS), r.ok ? 'ok' : `FAIL: ${r.problem}`,
      ])));
    }
    return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
  } catch (e) {
    return failure(e, inv);
  }
}
