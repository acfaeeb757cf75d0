/** `lbdeploy up INVENTORY` (and `plan` = up --check --diff): converge hosts to the inventory. */
import { runPlaybooks } from '../execute/run.js';
import type { Host, Inventory } from '../inventory/model.js';
import type { FactRequest } from '../operations/types.js';
import { probeRequests } from '../kinds/inspect.js';
import { loadPlaybook } from '../kinds/registry.js';
import { InventoryError } from '../inventory/errors.js';
import { asUsage, checkLimit, failure, parseForks, parseLockWait, requireInventory, runReporter, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';
import { holderOf } from '../connection/lock.js';
import { ConnectionPool } from '../connection/pool.js';
import { selectHosts } from '../inventory/select.js';
import { deploymentsOf } from '../kinds/deployments.js';
import type { Deployment } from '../kinds/types.js';
import { waitReady } from '../kinds/ready.js';
import { CURRENT_VRIDS_FACT, preflightBeforeChange } from '../kinds/preflight.js';
import type { PhaseTimes, Reporter } from '../report/events.js';
import type { RunResult } from '../execute/run.js';
import type { BeforeChange } from '../execute/run-state.js';
import type { Playbook } from '../playbook/define.js';
import { parseSerial, runRolling, type RollingOptions, type Serial } from '../execute/rolling.js';

/** The command line without its --limit (the resume hint puts its own). */
export function withoutLimit(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--limit' || a === '-l') i++;
    else if (!a.startsWith('--limit=')) out.push(a);
  }
  return out;
}

/** How long `up` waits, by default, for the deployments to serve (VRRP elected, backends risen). */
export const DEFAULT_WAIT_S = 120;

/**
 * After a converge: wait until every check of the deployments on the run's hosts is ok, over the
 * run's own connections. True when ready (or nothing to wait for).
 */
async function waitUntilServing(inv: Inventory, playbooks: Playbook[], result: RunResult, pool: ConnectionPool, limit: string | undefined, timeoutS: number, reporter: Reporter): Promise<boolean> {
  const deployments = await servingDeployments(inv, playbooks, limit, result.vars);
  if (deployments.length === 0) return true;
  reporter.emit({ type: 'wait-start', deployments: deployments.map((d) => `${d.kind}: ${d.name}`), timeoutS });
  const before = new Map(pool.stats.commands);
  const connected = pool.stats.connections;
  const r = await waitReady(pool, deployments, { timeoutMs: timeoutS * 1000, known: result.probed });
  const commands = Object.fromEntries([...pool.stats.commands].map(([h, n]) => [h, n - (before.get(h) ?? 0)]).filter(([, n]) => (n as number) > 0));
  reporter.emit({ type: 'wait-done', ready: r.ready, ms: r.ms, rounds: r.rounds, checks: r.checks.length, failing: r.checks.filter((c) => c.severity !== 'ok'), commands, connections: pool.stats.connections - connected, peakOpen: pool.stats.peakOpen });
  return r.ready;
}

/** The deployments the readiness wait checks: those with probes and a node in scope. */
async function servingDeployments(inv: Inventory, playbooks: Playbook[], limit: string | undefined, vars?: RunResult['vars']): Promise<Deployment[]> {
  const inScope = limit ? new Set(selectHosts(inv, limit).map((h) => h.name)) : undefined;
  return (await deploymentsOf(inv, playbooks, vars)).filter((d) => d.probes.length > 0 && (!inScope || d.nodes.some((n) => inScope.has(n.name))));
}

/** What the wait will ask each host, for a run over --forks to read on the host's last turn. */
function readinessProbes(inv: Inventory, playbooks: Playbook[], limit: string | undefined): () => Promise<(host: Host) => readonly FactRequest[]> {
  return async () => {
    const deployments = await servingDeployments(inv, playbooks, limit);
    return (host) => probeRequests(deployments, host);
  };
}

/**
 * The network pre-flight of the clusters in scope whose VRIDs change, as the run's read before any
 * change: each node's current VRIDs come with the run's first round trip to it.
 */
async function preflightBeforeRun(inv: Inventory, playbooks: Playbook[], pool: ConnectionPool, limit: string | undefined, reporter: Reporter): Promise<BeforeChange> {
  const inScope = limit ? new Set(selectHosts(inv, limit).map((h) => h.name)) : undefined;
  const deployments = (await deploymentsOf(inv, playbooks)).filter((d) => d.vrrp && (!inScope || d.nodes.some((n) => inScope.has(n.name))));
  const nodes = new Set(deployments.flatMap((d) => d.nodes.map((n) => n.name)));
  return {
    requests: (host) => (nodes.has(host.name) ? [CURRENT_VRIDS_FACT] : []),
    decide: async (answers) => {
      const known = new Map([...answers].filter(([, f]) => f.has(CURRENT_VRIDS_FACT.key)).map(([h, f]) => [h, f.get(CURRENT_VRIDS_FACT.key)!.stdout]));
      return (await preflightClusters(deployments, pool, reporter, known)) !== undefined;
    },
  };
}

/** The pre-flight over these clusters (those with VRRP), reported; what it found, if anything. */
async function preflightClusters(deployments: readonly Deployment[], pool: ConnectionPool, reporter: Reporter, known?: ReadonlyMap<string, string>): Promise<string | undefined> {
  const vrrp = deployments.filter((d) => d.vrrp);
  if (vrrp.length === 0) return undefined;
  const results = await preflightBeforeChange(pool, vrrp, PREFLIGHT_LISTEN_S, known);
  for (const r of results) reporter.emit({ type: 'preflight', deployment: r.deployment, ok: r.issues.length === 0, ms: r.ms, skipped: r.skipped, issues: r.issues });
  const failed = results.filter((r) => r.issues.length > 0).map((r) => r.deployment);
  return failed.length > 0 ? `the VRRP pre-flight failed for ${failed.join(', ')}` : undefined;
}

/** How long each node listens for VRRP in up's pre-flight. */
const PREFLIGHT_LISTEN_S = 4;

/** up's values; plan's are the same and --detailed-exitcode. */
type UpValues = ValuesOf<typeof COMMANDS.plan.options>;

/** up's options, checked before anything connects. */
interface UpSettings {
  check: boolean;
  diff: boolean;
  forks: number;
  waitS: number;
  lockWaitS: number;
  serial?: Serial;
  maxFail: number;
  tags?: string[];
  skipTags?: string[];
}

function settingsOf(v: UpValues, mode: 'up' | 'plan'): UpSettings {
  const split = (s?: string) => s?.split(',').map((t) => t.trim()).filter(Boolean);
  const check = mode === 'plan' || (v.check ?? false);
  const waitS = v.wait === undefined ? DEFAULT_WAIT_S : Number(v.wait);
  if (!(waitS > 0) || !Number.isFinite(waitS)) throw new UsageError(`--wait takes a number of seconds above 0, not '${v.wait}'`, { hint: 'or --no-wait to return as soon as the hosts converged' });
  let serial: Serial | undefined;
  if (v.serial !== undefined) {
    serial = asUsage(() => parseSerial(v.serial!));
    if (check) throw new UsageError('--serial rolls a change batch by batch; plan and --check show every change at once without it');
    if (v['no-wait']) throw new UsageError('--serial gates each batch on the readiness checks: it cannot go with --no-wait', { hint: '--wait SECONDS sets each gate\'s time limit' });
  }
  const maxFail = v['max-fail'] === undefined ? 0 : Number(v['max-fail']);
  if (v['max-fail'] !== undefined && serial === undefined) throw new UsageError('--max-fail counts failed batches: it goes with --serial');
  if (!Number.isInteger(maxFail) || maxFail < 0) throw new UsageError(`--max-fail takes a whole number of failed batches (0 or more), not '${v['max-fail']}'`);
  return {
    check, diff: mode === 'plan' || (v.diff ?? false), forks: parseForks(v.forks), waitS, lockWaitS: parseLockWait(v['lock-wait']),
    serial, maxFail, tags: split(v.tags), skipTags: split(v['skip-tags']),
  };
}

/** The playbooks to run: --playbook, else the inventory's. */
async function playbooksOf(inv: Inventory, v: UpValues): Promise<Playbook[]> {
  const refs = v.playbook && v.playbook.length > 0 ? v.playbook : inv.playbooks;
  if (refs.length === 0) {
    throw new InventoryError([{ where: inv.source.shownName, message: 'no playbook to run', hint: 'add `playbook: <name>` to the inventory or pass --playbook NAME|FILE' }]);
  }
  const playbooks: Playbook[] = [];
  for (const ref of refs) playbooks.push(await loadPlaybook(ref, inv.dir, v.playbook ? '--playbook' : inv.playbookWhere));
  return playbooks;
}

/**
 * A run's exit code from its recaps: failed before unreachable, then the readiness wait; with
 * `detailed` (plan --detailed-exitcode), 2 when it would change something.
 */
export function exitOf(result: Pick<RunResult, 'interrupted' | 'hosts'>, ready: boolean, detailed = false): number {
  if (result.interrupted) return EXIT.interrupted;
  const recaps = Object.values(result.hosts);
  if (recaps.some((r) => r.failed > 0)) return EXIT.failed;
  if (recaps.some((r) => r.unreachable)) return EXIT.unreachable;
  if (!ready) return EXIT.failed;
  return detailed && recaps.some((r) => r.changed > 0) ? EXIT.attention : EXIT.ok;
}

/** Where the run's time went (`--timings`, and always in the JSON events): per host and phase, and summed. */
export function emitTimings(pool: ConnectionPool, reporter: Reporter, started: number): void {
  const hosts: Record<string, PhaseTimes> = {};
  const totals: PhaseTimes = {};
  for (const [host, t] of pool.stats.phases) {
    hosts[host] = Object.fromEntries(Object.entries(t).map(([p, ms]) => [p, Math.round(ms)]));
    for (const [p, ms] of Object.entries(t) as [keyof PhaseTimes, number][]) totals[p] = (totals[p] ?? 0) + ms;
  }
  for (const p of Object.keys(totals) as (keyof PhaseTimes)[]) totals[p] = Math.round(totals[p]!);
  reporter.emit({ type: 'timings', hosts, totals, ms: Date.now() - started });
}

/** `up --serial`: the rollout, asking the pre-flight itself (per batch when its hosts do not all fit under --forks). */
async function rollOut(inv: Inventory, playbooks: Playbook[], o: Omit<RollingOptions, 'deployments' | 'preflight'> & { pool: ConnectionPool }, preflightOn: boolean, reporter: Reporter): Promise<number> {
  const r = await runRolling(inv, playbooks, {
    ...o, deployments: await deploymentsOf(inv, playbooks),
    preflight: preflightOn ? (clusters) => preflightClusters(clusters, o.pool, reporter) : undefined,
  }, reporter);
  if (r.interrupted) return EXIT.interrupted;
  return r.stopped || r.batches.some((b) => !b.ok) ? EXIT.failed : EXIT.ok;
}

/** `command`: how the run names itself to another run that meets its lock (rotate-kubeconfig is up). */
export async function runUp(positionals: string[], v: UpValues, mode: 'up' | 'plan', command: string = mode): Promise<number> {
  let inv: Inventory | undefined;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort();
  };
  try {
    const started = Date.now();
    const o = settingsOf(v, mode);
    inv = await requireInventory(positionals);
    checkLimit(inv, v.limit);
    const playbooks = await playbooksOf(inv, v);
    const reporter = await runReporter(inv, v.json ?? false);
    process.on('SIGINT', onSigint);
    // A run that changes hosts holds each one's run lock; plan (check mode) only reads.
    const pool = new ConnectionPool(inv, o.check ? undefined : {
      holder: holderOf(`${command} ${inv.source.shownName}`),
      waitS: o.lockWaitS,
      onWait: (host, holder, waitS) => reporter.emit({ type: 'lock-wait', host, holder, waitS }),
    }, o.forks);
    try {
      // Before keepalived changes: VRRP must pass between the nodes, and no foreign router may hold a VRID
      // (a rollout asks it itself: per batch when its hosts do not all fit under --forks).
      const preflightOn = !o.check && !v['no-preflight'];
      const run = { check: o.check, diff: o.diff, limit: v.limit, tags: o.tags, skipTags: o.skipTags, forks: o.forks, allowReboot: v['allow-reboot'] ?? false, signal: controller.signal, pool };
      if (o.serial) {
        const resumeCommand = ['lbdeploy', ...withoutLimit(process.argv.slice(2))].join(' ');
        return await rollOut(inv, playbooks, { ...run, serial: o.serial, maxFail: o.maxFail, gateS: o.waitS, resumeCommand }, preflightOn, reporter);
      }
      const waits = !o.check && !v['no-wait'];
      const result = await runPlaybooks(inv, playbooks, {
        ...run,
        beforeChange: preflightOn ? await preflightBeforeRun(inv, playbooks, pool, v.limit, reporter) : undefined,
        readinessProbes: waits ? readinessProbes(inv, playbooks, v.limit) : undefined,
      }, reporter);
      if (result.refused) return EXIT.failed;
      // Only a run that changed what it could: a failed or unreachable host is reported as such.
      const converged = !Object.values(result.hosts).some((r) => r.failed > 0 || r.unreachable);
      const ready = !waits || result.interrupted || !converged || (await waitUntilServing(inv, playbooks, result, pool, v.limit, o.waitS, reporter));
      return exitOf(result, ready, v['detailed-exitcode'] ?? false);
    } finally {
      if (v.json || v.timings) emitTimings(pool, reporter, started);
      await pool.closeAll();
      await reporter.close();
    }
  } catch (e) {
    return failure(e, inv);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
