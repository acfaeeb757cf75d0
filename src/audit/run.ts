/**
 * The audit: read-only. The checks of every kind the inventory deployed (the same as verify's),
 * plus what only the audit reads: every host's reachability, certificates, listed containers,
 * and drift (the planner in check mode over the same connections). One batched probe per host,
 * hosts in parallel, a time limit per host so one dead host never hangs it.
 */
import { ConnectionPool } from '../connection/pool.js';
import { runPlaybooks } from '../execute/run.js';
import type { Inventory } from '../inventory/model.js';
import { containerCheck } from '../checks/ipvs.js';
import { probeError } from '../checks/probe.js';
import { worst, type Check } from '../checks/check.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import { inspect } from '../kinds/inspect.js';
import type { AuditThresholds } from '../kinds/types.js';
import { containerFact } from '../operations/container.js';
import type { Playbook } from '../playbook/define.js';
import { targetsOf } from '../playbook/vars.js';
import type { RunEvent } from '../report/events.js';
import type { AuditReport } from './formats.js';
import { topologyOf, type TopologyCluster } from './topology.js';

export interface AuditOptions extends AuditThresholds {
  hostTimeoutMs: number;
  drift: boolean;
  forks: number;
}

export async function audit(inv: Inventory, opts: AuditOptions): Promise<AuditReport> {
  // Connections give up after the host timeout as well.
  for (const h of inv.hosts) h.connection.connectTimeoutMs = Math.min(h.connection.connectTimeoutMs, opts.hostTimeoutMs);
  const pool = new ConnectionPool(inv, undefined, opts.forks);
  const checks: Check[] = [];
  let topology: TopologyCluster[] = [];
  try {
    const playbooks = await inventoryPlaybooks(inv);
    const deployments = await deploymentsOf(inv, playbooks);
    const targeted = hostsOfPlaybooks(inv, playbooks);
    const containersOf = (name: string) => (targeted.has(name) ? (inv.hosts.find((h) => h.name === name)?.vars.audit_containers as string[] | undefined) ?? [] : []);
    const { checks: found, probes, byDeployment } = await inspect(pool, deployments, {
      timeoutMs: opts.hostTimeoutMs, endToEnd: true, audit: opts,
      extraHosts: inv.hosts.filter((h) => targeted.has(h.name)),
      extraProbes: (h) => containersOf(h.name).map(containerFact),
    });
    for (const h of inv.hosts.filter((x) => probes.has(x.name))) {
      const error = probeError(probes.get(h.name));
      checks.push({ check: 'ssh', topic: 'reachability', target: h.name, severity: error ? 'critical' : 'ok', detail: error ? `unreachable: ${error}` : `${h.connection.user}@${h.address} answered`, value: error ? 0 : 1 });
    }
    checks.push(...found.filter((c) => c.check !== 'node'));
    topology = topologyOf(deployments, probes, byDeployment);
    for (const [name, p] of probes) if (!probeError(p)) checks.push(...containersOf(name).map((c) => containerCheck(name, p!, c)));
    const reachable = [...probes].filter(([, p]) => !probeError(p)).map(([n]) => n);
    if (opts.drift && playbooks.length > 0) checks.push(...(await drift(inv, playbooks, pool, reachable, targeted, opts)));
  } finally {
    await pool.closeAll();
  }
  return { inventory: inv.source.shownName, generatedAt: new Date().toISOString(), status: worst(checks), checks, topology };
}

/** What `up` would change: the planner in check mode, over the audit's own connections. */
async function drift(inv: Inventory, playbooks: Playbook[], pool: ConnectionPool, reachable: string[], targeted: Set<string>, opts: AuditOptions): Promise<Check[]> {
  if (reachable.length === 0) return [];
  const changes = new Map<string, string[]>();
  const refused: string[] = [];
  await runPlaybooks(inv, playbooks, { check: true, diff: false, forks: opts.forks, allowReboot: false, limit: reachable.join(','), pool }, {
    emit: (e: RunEvent) => {
      if (e.type === 'step' && e.status === 'changed' && !e.handler) changes.set(e.host, [...(changes.get(e.host) ?? []), e.step]);
      if (e.type === 'note' && e.text.startsWith('REFUSED')) refused.push(e.text.split('\n')[0]!);
    },
    close: async () => undefined,
  });
  const out: Check[] = [...changes].map(([host, steps]) => ({
    check: 'drift', topic: 'drift', target: host, severity: 'warning' as const, detail: `up would change ${steps.length}: ${steps.join('; ')}`, value: steps.length,
  }));
  for (const host of reachable.filter((h) => !changes.has(h) && targeted.has(h))) {
    out.push({ check: 'drift', topic: 'drift', target: host, severity: 'ok', detail: 'matches the inventory', value: 0 });
  }
  for (const r of refused) out.push({ check: 'drift', topic: 'drift', target: 'prepare', severity: 'warning', detail: r });
  return out;
}

function hostsOfPlaybooks(inv: Inventory, playbooks: Playbook[]): Set<string> {
  return new Set(playbooks.flatMap((pb) => [...targetsOf(inv, pb)]));
}
