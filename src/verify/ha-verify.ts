/** `verify` for the haproxy-keepalived deployment: VIP ownership, services, backends, end-to-end curl. */
import { sh, type ShellCommand } from '../connection/shell.js';
import type { ConnectionPool } from '../connection/pool.js';
import { batchFacts } from '../facts/batch.js';
import type { Host } from '../inventory/model.js';
import { serviceTargets, vipsOf, type HaVars, type ServiceTarget } from '../lb/ha.js';
import type { HostInfo } from '../playbook/define.js';
import type { FactRequest, FactResult } from '../operations/types.js';
import { holdsAddress, HA_NODE_PROBES, parsePage, parseShowStat } from './ha-probe.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  check: string;
  target: string;
  status: CheckStatus;
  detail: string;
}

export interface HaContext {
  vars: HaVars;
  hosts: HostInfo[];
  nodes: Host[];
  client?: Host;
  pool: ConnectionPool;
}

export type NodeProbe = Map<string, FactResult> | { error: string };

/** Read-only probes in one round trip per node, nodes in parallel; an unreachable node is an error entry. */
export async function probeHosts(pool: ConnectionPool, nodes: readonly Host[], requests: readonly FactRequest[]): Promise<Map<string, NodeProbe>> {
  const batch = batchFacts(requests);
  const results = await Promise.all(nodes.map(async (n): Promise<[string, NodeProbe]> => {
    try {
      const s = await pool.session(n);
      return [n.name, batch.parse((await s.run(batch.script, { timeoutMs: 15_000 })).stdout)];
    } catch (e) {
      return [n.name, { error: (e as Error).message }];
    }
  }));
  return new Map(results);
}

export function probeNodes(ctx: HaContext): Promise<Map<string, NodeProbe>> {
  return probeHosts(ctx.pool, ctx.nodes, HA_NODE_PROBES);
}

/** Which nodes hold a VIP, from probes. */
export function holders(probes: Map<string, NodeProbe>, vip: string): string[] {
  return [...probes].filter(([, p]) => !('error' in p) && holdsAddress((p as Map<string, FactResult>).get('addresses')?.stdout ?? '', vip)).map(([n]) => n);
}

/** Each VIP held by exactly one node: none, or split brain, fails. */
export function vipHolderChecks(vips: readonly { name: string; address: string }[], probes: Map<string, NodeProbe>): Check[] {
  return vips.map((vip) => {
    const h = holders(probes, vip.address);
    return {
      check: 'vip holder', target: `${vip.name} ${vip.address}`,
      status: h.length === 1 ? 'ok' : 'fail',
      detail: h.length === 1 ? `held by ${h[0]}` : h.length === 0 ? 'no node holds the VIP' : `split brain: held by ${h.join(', ')}`,
    };
  });
}

/** Evaluate node probes: pure, for tests. */
export function evaluateNodes(v: HaVars, probes: Map<string, NodeProbe>, targets: ServiceTarget[]): Check[] {
  const checks: Check[] = vipHolderChecks(vipsOf(v), probes);
  for (const [node, p] of probes) {
    if ('error' in p) {
      checks.push({ check: 'node', target: node, status: 'fail', detail: `unreachable: ${p.error}` });
      continue;
    }
    const ka = p.get('keepalived')?.stdout.trim() ?? '?';
    const state = vipsOf(v).some((vip) => holdsAddress(p.get('addresses')?.stdout ?? '', vip.address)) ? 'MASTER' : 'BACKUP';
    checks.push({ check: 'keepalived', target: node, status: ka === 'active' ? 'ok' : 'fail', detail: ka === 'active' ? state : `keepalived ${ka}` });
    const hp = p.get('haproxy')?.stdout.trim() ?? '?';
    checks.push({ check: 'haproxy', target: node, status: hp === 'active' ? 'ok' : 'fail', detail: `haproxy ${hp}` });
    const servers = parseShowStat(p.get('haproxy-stat')?.stdout ?? '');
    for (const t of targets) {
      const mine = servers.filter((s) => s.proxy === t.name);
      const up = mine.filter((s) => s.status.startsWith('UP'));
      const down = mine.filter((s) => !s.status.startsWith('UP')).map((s) => `${s.server} ${s.status}`);
      checks.push({
        check: 'backends', target: `${node} ${t.name}`,
        status: mine.length === t.servers.length && down.length === 0 ? 'ok' : up.length > 0 ? 'warn' : 'fail',
        detail: mine.length === 0 ? 'no servers in the stats socket' : `${up.length}/${t.servers.length} UP${down.length ? ` (${down.join(', ')})` : ''}`,
      });
    }
  }
  return checks;
}

/** From the client: requests through each VIP service, backends reached in turn, client address passed. */
export function curlScript(t: ServiceTarget, count: number): ShellCommand {
  return sh`i=0; while [ $i -lt ${count} ]; do curl -g -sS -m 2 http://${t.vip}:${t.port}/ || echo 'lbdeploy-curl-failed'; echo; i=$((i+1)); done`;
}

export function evaluateCurl(t: ServiceTarget, output: string, count: number, clientAddress?: string): Check[] {
  const bodies = output.split('\n').filter((l) => l.trim() !== '');
  const failed = bodies.filter((b) => b.includes('lbdeploy-curl-failed')).length;
  const pages = bodies.filter((b) => !b.includes('lbdeploy-curl-failed')).map(parsePage);
  const seen = [...new Set(pages.map((p) => p.host).filter((h): h is string => !!h))].sort();
  const expected = t.servers.map((s) => s.name).sort();
  const checks: Check[] = [{
    check: 'curl via vip', target: `${t.name} ${t.vip}:${t.port}`,
    status: failed === 0 && pages.length === count ? 'ok' : 'fail',
    detail: `${count - failed}/${count} answered; backends reached: ${seen.join(', ') || 'none'}`,
  }];
  if (seen.length > 0) {
    const missing = expected.filter((e) => !seen.includes(e));
    checks.push({ check: 'round robin', target: t.name, status: missing.length === 0 ? 'ok' : 'warn', detail: missing.length === 0 ? `all ${expected.length} backends answered` : `not reached: ${missing.join(', ')}` });
  }
  if (t.sendProxy && clientAddress) {
    const wrong = pages.filter((p) => p.client !== clientAddress).map((p) => p.client ?? '?');
    checks.push({
      check: 'client address', target: t.name, status: wrong.length === 0 && pages.length > 0 ? 'ok' : 'fail',
      detail: wrong.length === 0 ? `backends saw ${clientAddress} (PROXY ${t.sendProxy})` : `backends saw ${[...new Set(wrong)].join(', ')}, not ${clientAddress}`,
    });
  }
  return checks;
}

export async function verifyHa(ctx: HaContext): Promise<Check[]> {
  const targets = serviceTargets(ctx.vars, ctx.hosts);
  const probes = await probeNodes(ctx);
  const checks = evaluateNodes(ctx.vars, probes, targets);
  const http = targets.filter((t, i) => ctx.vars.haproxy.services[i]!.verify_http);
  if (!ctx.client) {
    checks.push({ check: 'curl via vip', target: '-', status: 'warn', detail: 'no verify_from host: end-to-end requests not tried' });
    return checks;
  }
  const client = ctx.client;
  try {
    const s = await ctx.pool.session(client);
    for (const t of targets) {
      if (!http.includes(t)) {
        const r = await s.run(sh`timeout 3 bash -c ${`exec 3<>/dev/tcp/${t.vip}/${t.port}`}`);
        checks.push({ check: 'tcp via vip', target: `${t.name} ${t.vip}:${t.port}`, status: r.code === 0 ? 'ok' : 'fail', detail: r.code === 0 ? 'connected' : 'no connection' });
        continue;
      }
      const count = Math.max(2 * t.servers.length, 2);
      const r = await s.run(curlScript(t, count));
      checks.push(...evaluateCurl(t, r.stdout, count, client.address));
    }
  } catch (e) {
    checks.push({ check: 'curl via vip', target: client.name, status: 'fail', detail: `client unreachable: ${(e as Error).message}` });
  }
  return checks;
}
