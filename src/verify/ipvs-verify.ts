/**
 * `verify` for the IPVS deployments: seed 002 (keepalived in a container on group `lb`, the `alive`
 * vars) and seed 003 (a DR director on group `ipvs`, the `ipvs_dr` vars). Parses `ipvsadm -ln` on
 * each node and compares it with the inventory, checks VIP ownership and the keepalived container,
 * and sends requests through each VIP from the client host.
 */
import { sh } from '../connection/shell.js';
import { ConnectionPool } from '../connection/pool.js';
import type { Host, Inventory } from '../inventory/model.js';
import { aliveServices, aliveVips } from '../lb/alive.js';
import type { AliveDeployVars } from '../lb/alive-schema.js';
import { drServices, type DrSettings } from '../lb/dr.js';
import type { FactRequest } from '../operations/types.js';
import { playbookHostVars } from '../playbook/vars.js';
import { describeIpvsDifferences, normalAddress, parseIpvsadmList, type VirtualService } from '../render/ipvs.js';
import { ADDRESSES_FACT } from './ha-probe.js';
import { containerFact, parseContainerFact } from '../operations/container.js';
import { curlScript, evaluateCurl, holders, probeHosts, vipHolderChecks, type Check, type NodeProbe } from './ha-verify.js';
import type { Drill } from './failover.js';

export interface IpvsContext {
  /** seed 002 (keepalived holds the VIP, every node has the table) or seed 003 (one director). */
  kind: 'keepalived' | 'dr';
  nodes: Host[];
  services: VirtualService[];
  vips: { name: string; address: string }[];
  /** The keepalived container's name (seed 002). */
  container?: string;
  client?: Host;
  /** Inventory names of real servers by address, for "backends reached". */
  names: Map<string, string>;
  pool: ConnectionPool;
}

export const hasIpvsModel = (inv: Inventory) => inv.hosts.some((h) => h.vars.alive !== undefined || h.vars.ipvs_dr !== undefined);

/** The IPVS models of an inventory, resolved as `up` would (schema defaults). */
export async function loadIpvsContexts(inv: Inventory, pool = new ConnectionPool(inv)): Promise<IpvsContext[]> {
  const out: IpvsContext[] = [];
  const names = new Map(inv.hosts.map((h) => [h.address, h.name]));
  for (const [playbook, key, group] of [['ipvs-keepalived', 'alive', 'lb'], ['ipvs-dr', 'ipvs_dr', 'ipvs']] as const) {
    if (!inv.hosts.some((h) => h.vars[key] !== undefined)) continue;
    const { hosts } = await playbookHostVars(inv, playbook);
    const nodes = inv.hosts.filter((h) => h.groups.includes(group));
    const first = hosts.find((h) => h.name === nodes[0]?.name)?.vars ?? {};
    const verifyFrom = first.verify_from as string | undefined;
    const client = verifyFrom ? inv.hosts.find((h) => h.name === verifyFrom) : inv.hosts.find((h) => h.groups.includes('clients'));
    if (key === 'alive') {
      const a = first.alive as AliveDeployVars;
      out.push({ kind: 'keepalived', nodes, services: aliveServices(a), vips: aliveVips(a), container: a.container.name, client, names, pool });
    } else {
      const d = first.ipvs_dr as DrSettings;
      out.push({ kind: 'dr', nodes, services: drServices(d, hosts), vips: [{ name: 'ipvs-dr', address: d.vip.split('/')[0]! }], client, names, pool });
    }
  }
  return out;
}

export function ipvsProbes(container?: string): FactRequest[] {
  return [
    ADDRESSES_FACT,
    { key: 'ipvs', command: sh`if command -v ipvsadm >/dev/null 2>&1; then ipvsadm -ln; else echo @no-ipvsadm; fi` },
    ...(container ? [{ key: 'container', command: containerFact(container).command }] : []),
  ];
}

export function probeIpvsNodes(ctx: IpvsContext): Promise<Map<string, NodeProbe>> {
  return probeHosts(ctx.pool, ctx.nodes, ipvsProbes(ctx.container));
}

/** Evaluate node probes against the inventory: pure, for tests. */
export function evaluateIpvsNodes(ctx: Pick<IpvsContext, 'kind' | 'services' | 'vips' | 'container'>, probes: Map<string, NodeProbe>): Check[] {
  const checks = vipHolderChecks(ctx.vips, probes);
  const realServers = ctx.services.reduce((n, s) => n + s.realServers.length, 0);
  for (const [node, p] of probes) {
    if ('error' in p) {
      checks.push({ check: 'node', target: node, status: 'fail', detail: `unreachable: ${p.error}` });
      continue;
    }
    if (ctx.container) {
      const c = parseContainerFact(p.get('container')?.stdout ?? '');
      const running = c.kind === 'present' && c.status === 'running';
      checks.push({ check: 'keepalived container', target: `${node} ${ctx.container}`, status: running ? 'ok' : 'fail',
        detail: c.kind === 'absent' ? 'no such container' : c.kind === 'no-docker' ? 'docker is not installed'
          : running ? `running${c.restarts !== 0 ? ` (restarted ${c.restarts} time(s))` : ''}` : c.status });
    }
    const text = p.get('ipvs')?.stdout ?? '';
    if (text.includes('@no-ipvsadm')) {
      checks.push({ check: 'ipvs table', target: node, status: 'fail', detail: 'ipvsadm is not installed' });
      continue;
    }
    const diff = describeIpvsDifferences(ctx.services, parseIpvsadmList(text));
    checks.push({
      check: 'ipvs table', target: node, status: diff.length === 0 ? 'ok' : 'fail',
      detail: diff.length === 0 ? `matches the inventory: ${ctx.services.length} virtual service(s), ${realServers} real server(s)` : diff.join('; '),
    });
  }
  return checks;
}

export async function verifyIpvs(ctx: IpvsContext): Promise<Check[]> {
  const checks = evaluateIpvsNodes(ctx, await probeIpvsNodes(ctx));
  if (!ctx.client) {
    checks.push({ check: 'curl via vip', target: '-', status: 'warn', detail: 'no verify_from host and no `clients` group: end-to-end requests not tried' });
    return checks;
  }
  try {
    const s = await ctx.pool.session(ctx.client);
    for (const v of ctx.services.filter((x) => x.protocol === 'tcp')) {
      const target = {
        name: ctx.vips.find((x) => normalAddress(x.address) === normalAddress(v.address))?.name ?? v.protocol.toUpperCase(), vip: v.address.includes(':') ? `[${v.address}]` : v.address, port: v.port,
        servers: v.realServers.map((r) => ({ name: ctx.names.get(r.address) ?? r.address, address: r.address, port: r.port })),
      };
      const count = Math.max(2 * target.servers.length, 2);
      const r = await s.run(curlScript(target, count));
      checks.push(...evaluateCurl(target, r.stdout, count));
    }
  } catch (e) {
    checks.push({ check: 'curl via vip', target: ctx.client.name, status: 'fail', detail: `client unreachable: ${(e as Error).message}` });
  }
  return checks;
}

/** Seed 002's drill: stop the keepalived container on the VIP holder (SIGTERM: it gives up the VIP), then start it again. */
export function ipvsDrill(ctx: IpvsContext): Drill {
  const vip = ctx.vips[0]!;
  const svc = ctx.services.find((s) => s.protocol === 'tcp' && normalAddress(s.address) === normalAddress(vip.address));
  const host = vip.address.includes(':') ? `[${vip.address}]` : vip.address;
  return {
    scenario: 'keepalived-container', vip: vip.address, url: svc ? `http://${host}:${svc.port}/` : undefined,
    nodes: ctx.nodes, client: ctx.client, pool: ctx.pool,
    stop: sh`docker stop -t 10 ${ctx.container ?? 'keepalived'} >/dev/null`, start: sh`docker start ${ctx.container ?? 'keepalived'} >/dev/null`,
    holders: async () => holders(await probeIpvsNodes(ctx), vip.address),
    verify: () => verifyIpvs(ctx),
  };
}
