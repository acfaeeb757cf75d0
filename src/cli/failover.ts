/** `lbdeploy failover-test INVENTORY`: the drill an operator runs before trusting a VIP. */
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out, table } from '../report/console.js';
import { loadHaContext } from '../verify/ha-context.js';
import { failoverTest, type FailoverResult, type Scenario } from '../verify/failover.js';
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
    const scenarios: Scenario[] = v.scenario === 'all' ? ['keepalived', 'haproxy'] : v.scenario === 'keepalived' || v.scenario === 'haproxy' ? [v.scenario] : [];
    if (scenarios.length === 0) throw new UsageError(`--scenario must be keepalived, haproxy or all, not '${v.scenario}'`);
    const maxMoveS = Number(v['max-move']);
    const rate = Number(v.rate);
    if (!(maxMoveS > 0) || !(rate > 0 && rate <= 50)) throw new UsageError('--max-move must be > 0 seconds and --rate between 1 and 50 requests/s');
    inv = await requireInventory(parsed.positionals, USAGES.failover);
    const ctx = await loadHaContext(inv);
    const results: FailoverResult[] = [];
    try {
      for (const s of scenarios) {
        if (!v.json) out.error(`failover-test: stopping ${s} on the VIP holder...`);
        results.push(await failoverTest(ctx, s, { maxMoveS, rate }));
      }
    } finally {
      await ctx.pool.closeAll();
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
