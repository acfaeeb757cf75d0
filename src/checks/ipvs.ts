/** The IPVS table against the plan (seeds 002, 003, 004) and a container that must run: probes and checks. */
import { sh } from '../connection/shell.js';
import { containerFact, parseContainerFact } from '../operations/container.js';
import type { FactRequest } from '../operations/types.js';
import { describeIpvsDifferences, normalAddress, parseIpvsadmList, type VirtualService } from '../render/ipvs.js';
import type { EndToEnd } from './curl.js';
import type { Check } from './check.js';
import { probeError, probeOut, type BackendView, type NodeProbe } from './probe.js';
import { hostAddresses } from '../util/net.js';
import { unreachableCheck, vipHolderChecks, type Vip } from './vip.js';

export const IPVS_FACT: FactRequest = { key: 'ipvs', command: sh`if command -v ipvsadm >/dev/null 2>&1; then ipvsadm -ln; else echo @no-ipvsadm; fi` };

/**
 * `ipvsadm -ln` on a node against the planned services: a virtual service missing is critical (its
 * VIP drops traffic there); a real server missing (a health check took it out) or another
 * difference is a warning.
 */
export function ipvsTableCheck(node: string, p: NodeProbe, expected: readonly VirtualService[]): Check {
  const text = probeOut(p, IPVS_FACT.key);
  if (text.includes('@no-ipvsadm')) return { check: 'ipvs table', topic: 'backends', target: node, severity: 'critical', detail: 'ipvsadm is not installed', value: 0 };
  const actual = parseIpvsadmList(text);
  const diff = describeIpvsDifferences(expected, actual);
  const servers = actual.reduce((n, s) => n + s.realServers.length, 0);
  return {
    check: 'ipvs table', topic: 'backends', target: node, value: servers,
    severity: diff.some((d) => / missing$/.test(d)) ? 'critical' : diff.length > 0 ? 'warning' : 'ok',
    detail: diff.length === 0 ? `matches the plan: ${expected.length} virtual service(s), ${servers} real server(s)` : diff.join('; '),
  };
}

/** A container that must be running (seed 002's keepalived): anything else is critical. */
export function containerCheck(node: string, p: NodeProbe, name: string): Check {
  const c = parseContainerFact(probeOut(p, containerFact(name).key));
  const running = c.kind === 'present' && c.status === 'running';
  return {
    check: 'container', target: `${node} ${name}`, severity: running ? 'ok' : 'critical', value: running ? 1 : 0,
    detail: c.kind === 'absent' ? 'no such container' : c.kind === 'no-docker' ? 'docker is not installed'
      : running ? `running${c.restarts !== 0 ? ` (restarted ${c.restarts} time(s))` : ''}` : c.status,
  };
}

/** Hosts by each of their addresses (an IPv6 one from the host's `addresses`), to name real servers. */
export function hostNames(hosts: readonly { name: string; address: string; vars: Readonly<Record<string, unknown>> }[]): Map<string, string> {
  return new Map(hosts.flatMap((h) => hostAddresses(h).map((a) => [normalAddress(a), h.name] as const)));
}

/** The TCP virtual services proven by HTTP requests through their VIP, with the real servers named as in the inventory. */
export function ipvsEndToEnd(services: readonly VirtualService[], vips: readonly { name: string; address: string }[], names: ReadonlyMap<string, string>): EndToEnd[] {
  return services.filter((s) => s.protocol === 'tcp').map((s) => ({
    mode: 'http' as const,
    target: {
      name: vips.find((v) => normalAddress(v.address) === normalAddress(s.address))?.name ?? `${s.address}:${s.port}`,
      vip: s.address.includes(':') ? `[${s.address}]` : s.address, port: s.port, sticky: s.persistent !== undefined,
      servers: s.realServers.map((r) => ({ name: names.get(normalAddress(r.address)) ?? r.address, address: r.address, port: r.port })),
    },
  }));
}

/** keepalived in a container (seeds 002, 004): each VIP held once; on every node the keepalived container running and the IPVS table as planned. */
export function evaluateContainerIpvsNodes(vips: readonly Vip[], services: readonly VirtualService[], container: string, probes: ReadonlyMap<string, NodeProbe>): Check[] {
  return [
    ...vipHolderChecks(vips, probes),
    ...[...probes].flatMap(([node, p]) => {
      const error = probeError(p);
      return error ? [unreachableCheck(node, error)] : [containerCheck(node, p, container), ipvsTableCheck(node, p, services)];
    }),
  ];
}

/**
 * The planned real servers as one node's IPVS table shows them: present with a weight is up,
 * weight 0 (quiesced) is other, absent (a health check took it out) is down.
 */
export function ipvsBackends(expected: readonly VirtualService[], p: NodeProbe, names: ReadonlyMap<string, string>): BackendView[] {
  const text = probeOut(p, IPVS_FACT.key);
  const actual = text.includes('@no-ipvsadm') ? [] : parseIpvsadmList(text);
  const key = (a: string, port: number) => `${normalAddress(a)}:${port}`;
  const hostPort = (a: string, port: number) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  return expected.flatMap((svc) => {
    const live = actual.find((s) => s.protocol === svc.protocol && key(s.address, s.port) === key(svc.address, svc.port));
    return svc.realServers.map((r): BackendView => {
      const found = live?.realServers.find((x) => key(x.address, x.port) === key(r.address, r.port));
      return {
        service: `${svc.protocol.toUpperCase()} ${hostPort(svc.address, svc.port)}`,
        server: names.get(normalAddress(r.address)) ?? hostPort(r.address, r.port),
        state: !found ? 'down' : found.weight > 0 ? 'up' : 'other',
        detail: !live ? 'virtual service not in the IPVS table' : !found ? 'not in the IPVS table' : `weight ${found.weight}`,
      };
    });
  });
}
