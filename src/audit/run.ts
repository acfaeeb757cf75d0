/**
 * The audit: read-only. One batched probe per host, hosts in parallel, a time limit per host so one
 * dead host never hangs it; then drift, by planning the inventory's playbooks in check mode over the
 * same connections.
 */
import { ConnectionPool } from '../connection/pool.js';
import { sh } from '../connection/shell.js';
import { LbdeployError } from '../errors.js';
import { runPlaybooks } from '../execute/run.js';
import { batchFacts } from '../facts/batch.js';
import type { Host, Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { serviceTargets, vipsOf } from '../lb/ha.js';
import type { FactRequest } from '../operations/types.js';
import { loadPlaybook } from '../playbook/load.js';
import type { Playbook } from '../playbook/define.js';
import type { RunEvent } from '../report/events.js';
import { HA_NODE_PROBES } from '../verify/ha-probe.js';
import { hasHaModel, loadHaContext } from '../verify/ha-context.js';
import { ipvsProbes, loadIpvsContexts } from '../verify/ipvs-verify.js';
import { certFindings, ipvsFindings, serviceFindings, vipFindings, worst, type AuditThresholds, type Finding, type Probe } from './checks.js';
import type { AuditReport } from './formats.js';

export interface AuditOptions extends AuditThresholds {
  hostTimeoutMs: number;
  drift: boolean;
  forks: number;
}

function kubeconfigProbe(dir: string): FactRequest {
  // Only the certificate line of each kubeconfig: the key never leaves the host.
  return { key: 'kubeconfig-certs', command: sh`for f in ${dir}/*.conf; do [ -f "$f" ] || continue; printf '%s\\t%s\\n' "$f" "$(sed -n 's/^ *client-certificate-data: *//p' "$f" | head -n 1)"; done` };
}

const CONTAINERS: FactRequest = { key: 'containers', command: sh`docker ps -a --format '{{.Names}}\t{{.State}}' 2>/dev/null` };

async function withTimeout<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new LbdeployError(`no answer within ${ms / 1000} s`, { where: host })), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function audit(inv: Inventory, opts: AuditOptions): Promise<AuditReport> {
  // Connections give up after the host timeout as well.
  for (const h of inv.hosts) h.connection.connectTimeoutMs = Math.min(h.connection.connectTimeoutMs, opts.hostTimeoutMs);
  const pool = new ConnectionPool(inv);
  const findings: Finding[] = [];
  try {
    const ha = hasHaModel(inv) ? await loadHaContext(inv) : undefined;
    await ha?.pool.closeAll();
    const kube = inv.hosts.find((h) => h.vars.kubeconfig !== undefined)?.vars.kubeconfig as { dest_dir?: string; masters?: string } | undefined;
    const kubeDir = kube?.dest_dir ?? '/etc/keepalived/kubecfg';
    const lbGroup = ha?.vars.lb_group ?? 'lb';
    const playbooks: Playbook[] = [];
    for (const ref of inv.playbooks) playbooks.push(await loadPlaybook(ref, inv.dir));
    // Every host a playbook targets, the LB group, and the masters kubeconfigs come from.
    // IPVS nodes (seeds 002/003) and the keepalived container each runs, if any.
    const ipvs = await loadIpvsContexts(inv, pool);
    const ipvsNodes = new Map(ipvs.flatMap((c) => c.nodes.map((n) => [n.name, c.container] as const)));
    const names = new Set([...hostsOfPlaybooks(inv, playbooks), ...selectHosts(inv, lbGroup).map((h) => h.name), ...ipvsNodes.keys(), ...(kube ? selectHosts(inv, kube.masters ?? 'masters').map((h) => h.name) : [])]);
    const audited: Host[] = inv.hosts.filter((h) => names.has(h.name));
    const lbNames = new Set(selectHosts(inv, lbGroup).map((h) => h.name));
    const containers = (inv.hosts.find((h) => h.vars.audit_containers !== undefined)?.vars.audit_containers as string[] | undefined) ?? [];
    const probes = new Map<string, Probe | undefined>();
    const ssh = new Map<string, Finding>();
    await Promise.all(audited.map(async (h) => {
      const requests = [
        ...(lbNames.has(h.name) ? [...HA_NODE_PROBES, kubeconfigProbe(kubeDir), CONTAINERS] : [{ key: 'up', command: sh`true` }]),
        ...(ipvsNodes.has(h.name) ? ipvsProbes(ipvsNodes.get(h.name)) : []),
      ];
      const batch = batchFacts(requests);
      try {
        const result = await withTimeout((async () => (await pool.session(h)).run(batch.script, { timeoutMs: opts.hostTimeoutMs }))(), opts.hostTimeoutMs, h.name);
        probes.set(h.name, batch.parse(result.stdout));
        ssh.set(h.name, { check: 'ssh', target: h.name, severity: 'ok', detail: `${h.connection.user}@${h.address} answered`, value: 1 });
      } catch (e) {
        probes.set(h.name, undefined);
        ssh.set(h.name, { check: 'ssh', target: h.name, severity: 'critical', detail: `unreachable: ${(e as Error).message}`, value: 0 });
      }
    }));
    findings.push(...audited.map((h) => ssh.get(h.name)!));
    const lbProbes = new Map(audited.filter((h) => lbNames.has(h.name)).map((h) => [h.name, probes.get(h.name)]));
    if (ha) {
      findings.push(...vipFindings(vipsOf(ha.vars), lbProbes));
      const services = serviceTargets(ha.vars, ha.hosts).map((t) => ({ name: t.name, servers: t.servers.length }));
      for (const [n, p] of lbProbes) if (p) findings.push(...serviceFindings(n, p, services, containers));
    }
    for (const c of ipvs) {
      findings.push(...vipFindings(c.vips, new Map(c.nodes.map((n) => [n.name, probes.get(n.name)]))));
      for (const n of c.nodes) {
        const p = probes.get(n.name);
        if (p) findings.push(...ipvsFindings(n.name, p, c.services, c.container));
      }
    }
    for (const [n, p] of lbProbes) if (p) findings.push(...certFindings(n, p.get('kubeconfig-certs')?.stdout ?? '', opts));
    if (opts.drift && playbooks.length > 0) findings.push(...(await drift(inv, playbooks, pool, probes, opts)));
  } finally {
    await pool.closeAll();
  }
  return { inventory: inv.source.shownName, generatedAt: new Date().toISOString(), status: worst(findings), findings };
}

/** What `up` would change: the planner in check mode, over the audit's own connections. */
async function drift(inv: Inventory, playbooks: Playbook[], pool: ConnectionPool, probes: Map<string, Probe | undefined>, opts: AuditOptions): Promise<Finding[]> {
  const reachable = [...probes].filter(([, p]) => p).map(([n]) => n);
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
  const out: Finding[] = [...changes].map(([host, steps]) => ({
    check: 'drift', target: host, severity: 'warning' as const, detail: `up would change ${steps.length}: ${steps.join('; ')}`, value: steps.length,
  }));
  const targeted = hostsOfPlaybooks(inv, playbooks);
  for (const host of reachable.filter((h) => !changes.has(h) && targeted.has(h))) {
    out.push({ check: 'drift', target: host, severity: 'ok', detail: 'matches the inventory', value: 0 });
  }
  for (const r of refused) out.push({ check: 'drift', target: 'prepare', severity: 'warning', detail: r });
  return out;
}

function hostsOfPlaybooks(inv: Inventory, playbooks: Playbook[]): Set<string> {
  return new Set(playbooks.flatMap((pb) => pb.plays.flatMap((p) => selectHosts(inv, p.hosts).map((h) => h.name))));
}
