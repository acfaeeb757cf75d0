/** `lbdeploy failover-test INVENTORY`: the drill an operator runs before trusting a VIP. */
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out, table } from '../report/console.js';
import { failoverTest, type FailoverResult } from '../kinds/drill.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import type { Deployment, DrillSpec } from '../kinds/types.js';
import { holderOf } from '../connection/lock.js';
import { ConnectionPool } from '../connection/pool.js';
import { drillRecord, historyFile, recordHistory } from '../audit/history.js';
import { failure, noDeployment, parse, parseLockWait, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runFailover(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, {
      scenario: { type: 'string', default: 'all' }, 'max-move': { type: 'string', default: '5' }, rate: { type: 'string', default: '10' },
      json: { type: 'boolean' }, 'lock-wait': { type: 'string', default: '0' }, history: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    }, USAGES.failover);
    if (!parsed) return EXIT.ok;
    const v = parsed.values;
    const maxMoveS = Number(v['max-move']);
    const rate = Number(v.rate);
    if (!(maxMoveS > 0) || !(rate > 0 && rate <= 50)) throw new UsageError('--max-move must be > 0 seconds and --rate between 1 and 50 requests/s');
    inv = await requireInventory(parsed.positionals, USAGES.failover);
    // The drills of every kind the inventory deployed, one deployment (VRRP cluster) at a time.
    const drills: [Deployment, DrillSpec][] = (await deploymentsOf(inv, await inventoryPlaybooks(inv))).flatMap((d) => d.drills.map((x) => [d, x] as [Deployment, DrillSpec]));
    if (drills.length === 0) throw noDeployment(inv, 'failover-test');
    const chosen = drills.filter(([, x]) => v.scenario === 'all' || x.scenario === v.scenario);
    if (chosen.length === 0) {
      throw new UsageError(`scenario ${v.scenario} does not apply to this inventory`, { hint: `its scenarios: ${[...new Set(drills.map(([, x]) => x.scenario))].join(', ')}, or all` });
    }
    const lockWaitS = parseLockWait(v['lock-wait']);
    let history: string | undefined;
    try {
      history = historyFile(v.history, inv.file);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // The drill stops services: it holds the run lock of every host it touches, as up does.
    const pool = new ConnectionPool(inv, {
      holder: holderOf(`failover-test ${inv.source.shownName}`), waitS: lockWaitS,
      onWait: (host, holder) => { if (!v.json) out.error(`failover-test: ${host} is held by another lbdeploy run (${holder}); waiting up to ${lockWaitS} s`); },
    });
    const results: FailoverResult[] = [];
    try {
      for (const [d, spec] of chosen) {
        if (!v.json) out.error(`failover-test: stopping ${spec.scenario} on the holder of ${d.vips.map((x) => x.address).join(' and ') || '?'} (${d.kind}: ${d.name})...`);
        const at = new Date();
        const done = await failoverTest(pool, d, spec, { maxMoveS, rate });
        results.push(...done);
        // Each drill goes to the history as it ends: an interrupted run keeps the drills it finished.
        const warning = recordHistory(history, done.map((r) => drillRecord(inv!.source.shownName, r, at)), (t) => inv!.masker.mask(t));
        if (warning) out.error(`failover-test: ${inv.masker.mask(warning)}`);
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
