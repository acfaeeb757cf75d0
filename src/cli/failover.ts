/** `lbdeploy failover-test INVENTORY`: the drills an operator runs before trusting a VIP. */
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out, table } from '../report/console.js';
import { failoverTest, type FailoverResult } from '../kinds/drill.js';
import { powerOff } from '../kinds/scenarios.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import type { Deployment, DrillSpec } from '../kinds/types.js';
import { holderOf } from '../connection/lock.js';
import { ConnectionPool } from '../connection/pool.js';
import { quote, raw, type ShellCommand } from '../connection/shell.js';
import { $ } from '../shell-local.js';
import { drillRecord, historyFile, recordHistory } from '../audit/history.js';
import { ticks } from '../checks/load.js';
import { asUsage, failure, noDeployment, parseForks, parseLockWait, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

/** The operator's power command for one host: {host} and {address} replaced, quoted. */
const powerCommand = (template: string) => (h: { name: string; address: string }): ShellCommand => raw(template.replaceAll('{host}', quote(h.name)).replaceAll('{address}', quote(h.address)));

async function runLocal(cmd: ShellCommand): Promise<{ code: number; stderr: string }> {
  const r = await $({ nothrow: true, quiet: true })`sh -c ${cmd.text}`;
  return { code: r.exitCode ?? 1, stderr: r.stderr };
}

/** The drills chosen: by default the everyday faults; `all` the whole matrix; else the names given. */
function choose(drills: [Deployment, DrillSpec][], wanted: string): [Deployment, DrillSpec][] {
  if (wanted === 'default') return drills.filter(([, x]) => !x.matrix);
  if (wanted === 'all') return drills;
  const names = wanted.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set(drills.map(([, x]) => x.scenario));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`scenario ${unknown.join(', ') || wanted} does not apply to this inventory`, { hint: `its scenarios: ${[...known].join(', ')}, default or all${known.has('power-off') ? '' : ' (power-off needs --power-off and --power-on)'}` });
  }
  return names.flatMap((n) => drills.filter(([, x]) => x.scenario === n));
}

const f = (x?: number) => (x === undefined ? '-' : `${x.toFixed(2)} s`);
const ms = (x?: number) => (x === undefined ? '-' : `${x.toFixed(1)} ms`);

export function failoverTable(results: FailoverResult[]): string {
  return table(['SCENARIO', 'VIP', 'HOLDER', 'NEW HOLDER', 'VIP MOVED', 'SERVING AGAIN', 'LOST', 'FAILED', 'P50', 'P99', 'RESULT'], results.map((r) => [
    r.scenario, r.vip, r.holderBefore, r.holderAfter ?? '-', r.vipMovedS === undefined ? 'stayed' : f(r.vipMovedS), f(r.servingS), f(r.outageS),
    `${r.failedRequests}/${r.requests}`, ms(r.p50Ms), ms(r.p99Ms),
    `${r.ok ? 'ok' : `FAIL: ${r.problem}`}${r.splitBrain ? ` (split brain: ${r.splitBrain.join(' and ')} held it at once)` : ''}`,
  ]));
}

export async function runFailover(positionals: string[], v: ValuesOf<typeof COMMANDS['failover-test']['options']>): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const maxMoveS = Number(v['max-move']);
    const rate = Number(v.rate);
    const timeoutS = Number(v.timeout);
    if (!(maxMoveS > 0) || !(maxMoveS <= 60)) throw new UsageError('--max-move must be more than 0 and at most 60 seconds');
    try {
      ticks(rate);
    } catch (e) {
      throw new UsageError(`--rate: ${(e as Error).message}`);
    }
    if (!(timeoutS >= 0.1 && timeoutS <= 10)) throw new UsageError('--timeout must be 0.1 to 10 seconds (a request not answered by then failed)');
    if (!!v['power-off'] !== !!v['power-on']) throw new UsageError('--power-off and --power-on go together: a node powered off needs the way back', { hint: "e.g. --power-off 'ipmitool -H {host}-bmc power off' --power-on 'ipmitool -H {host}-bmc power on'" });
    const forks = parseForks(v.forks);
    inv = await requireInventory(positionals);
    // The drills of every kind the inventory deployed, one deployment (VRRP cluster) at a time.
    const deployments = await deploymentsOf(inv, await inventoryPlaybooks(inv));
    const power = v['power-off'] && v['power-on'] ? powerOff((h) => ({ stop: powerCommand(v['power-off']!)(h), start: powerCommand(v['power-on']!)(h) })) : undefined;
    const drills: [Deployment, DrillSpec][] = deployments.flatMap((d) => [...d.drills, ...(power && d.drills.length > 0 ? [power] : [])].map((x) => [d, x] as [Deployment, DrillSpec]));
    if (drills.length === 0) throw noDeployment(inv, 'failover-test');
    const chosen = choose(drills, v.scenario!);
    const lockWaitS = parseLockWait(v['lock-wait']);
    const history = asUsage(() => historyFile(v.history, inv!.file));
    // The drill stops services: it holds the run lock of every host it touches, as up does.
    const pool = new ConnectionPool(inv, {
      holder: holderOf(`failover-test ${inv.source.shownName}`), waitS: lockWaitS,
      onWait: (host, holder, waitS) => { if (!v.json) out.error(`failover-test: ${host} is held by another lbdeploy run (${holder}); waiting up to ${waitS} s`); },
    }, forks);
    const results: FailoverResult[] = [];
    try {
      for (const [d, spec] of chosen) {
        if (!v.json) out.error(`failover-test: ${spec.scenario} (${spec.title ?? spec.scenario}) on the holder of ${d.vips.map((x) => x.address).join(' and ') || '?'}, ${rate} requests/s through each VIP (${d.kind}: ${d.name})...`);
        const at = new Date();
        const done = await failoverTest(pool, d, spec, { maxMoveS, rate, timeoutS, runLocal });
        results.push(...done);
        // Each drill goes to the history as it ends: an interrupted run keeps the drills it finished.
        const warning = recordHistory(history, done.map((r) => drillRecord(inv!.source.shownName, r, at)), (t) => inv!.masker.mask(t));
        if (warning) out.error(`failover-test: ${inv.masker.mask(warning)}`);
      }
    } finally {
      await pool.closeAll();
    }
    if (v.json) out.line(inv.masker.mask(JSON.stringify(results, null, 2)));
    else out.line(failoverTable(results));
    return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
  } catch (e) {
    return failure(e, inv);
  }
}
