/**
 * The HA model of seeds 000 and 001: VIPs held by keepalived across the LB nodes, haproxy in
 * TCP mode in front of backends. Pure: vars of every host in, configs and checks out.
 */
import type { HostInfo } from '../playbook/define.js';
import { revealText, type Secret } from '../inventory/secret.js';
import type { KeepalivedConfig, VrrpInstance } from '../render/keepalived.js';
import type { HaproxyConfig, SendProxy } from '../render/haproxy.js';

export interface HaInstanceVars { name: string; vip: string; virtual_router_id: number; auth_pass?: string | Secret; nopreempt: boolean }
export interface HaServiceVars {
  name: string; port: number; bind: string; verify_http: boolean; backend_group?: string; servers?: { name: string; address: string }[]; backend_port: number;
  send_proxy?: SendProxy; balance: 'roundrobin' | 'leastconn' | 'source' | 'first'; check_inter: string; check_rise: number; check_fall: number;
  maxconn?: number; weight?: number;
}
export interface HaVars {
  lb_group: string;
  keepalived: {
    interface: string; advert_int: number; unicast: boolean; unicast_peers?: string[]; vrrp_strict: boolean;
    check_interval: number; check_fall: number; check_rise: number; check_weight?: number; instances: HaInstanceVars[];
  };
  haproxy: {
    maxconn: number; timeout_connect: string; timeout_client: string; timeout_server: string;
    monitor: { port: number; uri: string };
    stats?: { port: number; bind: string; user: string; password: string | Secret };
    services: HaServiceVars[];
  };
  ingress: { listen: number[]; upstream?: string };
  keepalived_priority?: number;
  verify_from?: string;
  ha_sysctl_nonlocal_bind: 0 | 1;
}

export const CHECK_SCRIPT_PATH = '/etc/keepalived/check_haproxy.sh';
export const CHECK_SCRIPT_NAME = 'chk_haproxy';
export const HAPROXY_SOCKET = '/run/haproxy/admin.sock';

/** The LB nodes, in inventory order. */
export function lbNodes(all: readonly HostInfo[], group: string): HostInfo[] {
  return all.filter((h) => h.groups.includes(group));
}

/** Priority of each LB node: its keepalived_priority, else by position (150, 140, ...). */
export function priorities(nodes: readonly HostInfo[]): Map<string, number> {
  return new Map(nodes.map((h, i) => [h.name, (h.vars.keepalived_priority as number | undefined) ?? 150 - 10 * i]));
}

function vipAddress(vip: string): string {
  return vip.split('/')[0]!;
}

/** Each instance's VIP, without its prefix. */
export function vipsOf(v: HaVars): { name: string; address: string }[] {
  return v.keepalived.instances.map((i) => ({ name: i.name, address: vipAddress(i.vip) }));
}

/** haproxy's check weight: enough that a node with haproxy down ranks below every healthy one. */
export function checkWeight(v: HaVars, prio: Map<string, number>): number {
  if (v.keepalived.check_weight !== undefined) return v.keepalived.check_weight;
  const values = [...prio.values()];
  return -(Math.max(...values) - Math.min(...values) + 10);
}

export function keepalivedFor(host: HostInfo, v: HaVars, all: readonly HostInfo[]): KeepalivedConfig {
  const nodes = lbNodes(all, v.lb_group);
  const prio = priorities(nodes);
  const top = Math.max(...prio.values());
  const k = v.keepalived;
  const peers = k.unicast ? k.unicast_peers ?? nodes.filter((n) => n.name !== host.name).map((n) => n.address) : undefined;
  const instances: VrrpInstance[] = k.instances.map((i) => ({
    name: i.name,
    // With nopreempt every node starts BACKUP (keepalived ignores nopreempt on a MASTER).
    state: !i.nopreempt && prio.get(host.name) === top ? 'MASTER' : 'BACKUP',
    interface: k.interface,
    virtualRouterId: i.virtual_router_id,
    priority: prio.get(host.name)!,
    advertInt: k.advert_int,
    authentication: i.auth_pass !== undefined ? { type: 'PASS', pass: i.auth_pass } : undefined,
    unicastSrcIp: k.unicast ? host.address : undefined,
    unicastPeers: peers,
    virtualAddresses: [{ address: i.vip, dev: k.interface }],
    trackScripts: [CHECK_SCRIPT_NAME],
    nopreempt: i.nopreempt || undefined,
  }));
  return {
    global: { routerId: host.name, scriptUser: 'root', enableScriptSecurity: true, vrrpSkipCheckAdvAddr: true, vrrpStrict: k.vrrp_strict || undefined },
    scripts: [{ name: CHECK_SCRIPT_NAME, script: `${CHECK_SCRIPT_PATH} ${v.haproxy.monitor.port} ${v.haproxy.monitor.uri}`, interval: k.check_interval, timeout: Math.max(1, Math.ceil(k.check_interval)), fall: k.check_fall, rise: k.check_rise, weight: checkWeight(v, prio) }],
    instances,
  };
}

export interface ServiceTarget { name: string; vip: string; port: number; sendProxy?: SendProxy; servers: { name: string; address: string; port: number }[] }

/** Each haproxy service with its bind address and resolved servers. */
export function serviceTargets(v: HaVars, all: readonly HostInfo[]): ServiceTarget[] {
  const firstVip = vipAddress(v.keepalived.instances[0]!.vip);
  return v.haproxy.services.map((s) => {
    const servers = s.servers ?? (s.backend_group ? all.filter((h) => h.groups.includes(s.backend_group!)).map((h) => ({ name: h.name, address: h.address })) : []);
    const bind = s.bind === 'vip' ? firstVip : s.bind === 'any' ? '*' : s.bind;
    return { name: s.name, vip: bind, port: s.port, sendProxy: s.send_proxy, servers: servers.map((x) => ({ ...x, port: s.backend_port })) };
  });
}

export function haproxyFor(v: HaVars, all: readonly HostInfo[]): HaproxyConfig {
  const h = v.haproxy;
  const targets = serviceTargets(v, all);
  return {
    global: { maxconn: h.maxconn, statsSocket: HAPROXY_SOCKET, user: 'haproxy', group: 'haproxy', chroot: '/var/lib/haproxy', log: '/dev/log local0' },
    defaults: { timeoutConnect: h.timeout_connect, timeoutClient: h.timeout_client, timeoutServer: h.timeout_server, timeoutCheck: '2s', retries: 3 },
    monitor: { bind: `*:${h.monitor.port}`, uri: h.monitor.uri },
    stats: h.stats ? { bind: `${h.stats.bind}:${h.stats.port}`, uri: '/stats', user: h.stats.user, password: h.stats.password, admin: false } : undefined,
    listens: h.services.map((s, i) => ({
      name: s.name,
      binds: [`${targets[i]!.vip.includes(':') ? `[${targets[i]!.vip}]` : targets[i]!.vip}:${s.port}`],
      balance: s.balance,
      servers: targets[i]!.servers.map((x) => ({
        name: x.name, address: x.address, port: x.port, sendProxy: s.send_proxy, weight: s.weight, maxconn: s.maxconn,
        check: { inter: s.check_inter, rise: s.check_rise, fall: s.check_fall },
      })),
    })),
  };
}


export interface HaIssue {
  /** The host whose vars are at fault (for the location), or undefined for the group. */
  host?: string;
  /** Path in the vars, e.g. ['keepalived', 'instances', 0, 'auth_pass']. */
  path: (string | number)[];
  message: string;
  hint?: string;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, p) => (a << 8) + Number(p), 0) >>> 0;
}

function sameSubnet(a: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  if (a.includes(':') || base!.includes(':')) return true; // IPv6: not checked here
  const n = Number(bits);
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (ipToInt(a) & mask) === (ipToInt(base!) & mask);
}

/** The checks of issue 4, before anything connects. */
export function haChecks(all: readonly HostInfo[], varsOf: (h: HostInfo) => HaVars): HaIssue[] {
  const issues: HaIssue[] = [];
  const first = all.find((h) => (h.vars.keepalived as unknown) !== undefined);
  if (!first) return issues;
  const v = varsOf(first);
  const nodes = lbNodes(all, v.lb_group);
  if (nodes.length === 0) {
    return [{ path: ['lb_group'], message: `no host is in the LB group '${v.lb_group}'`, hint: 'put the load balancers in that group, or set lb_group' }];
  }
  const k = v.keepalived;
  const seen = new Map<number, number>();
  k.instances.forEach((inst, i) => {
    const other = seen.get(inst.virtual_router_id);
    if (other !== undefined) {
      issues.push({ path: ['keepalived', 'instances', i, 'virtual_router_id'], message: `virtual_router_id ${inst.virtual_router_id} is used twice on ${k.interface} (also by ${k.instances[other]!.name})`, hint: 'each VRRP instance on a segment needs its own id (1-255)' });
    }
    seen.set(inst.virtual_router_id, i);
    const pass = inst.auth_pass !== undefined ? revealText(inst.auth_pass) : undefined;
    if (pass !== undefined && pass.length > 8) {
      issues.push({ path: ['keepalived', 'instances', i, 'auth_pass'], message: `auth_pass is ${pass.length} characters: keepalived silently uses only the first 8`, hint: 'use at most 8 characters' });
    }
    for (const n of nodes) {
      if (!sameSubnet(n.address, inst.vip)) {
        issues.push({ host: n.name, path: ['keepalived', 'instances', i, 'vip'], message: `VIP ${inst.vip} is outside the subnet of ${n.name} (${n.address}) on ${k.interface}`, hint: 'a VIP must be in the subnet of the interface that carries it' });
      }
    }
    if (k.vrrp_strict && (k.unicast || inst.auth_pass !== undefined)) {
      issues.push({ path: ['keepalived', 'vrrp_strict'], message: `vrrp_strict cannot be combined with ${k.unicast ? 'unicast peers' : 'authentication'} (instance ${inst.name})`, hint: 'turn vrrp_strict off, or use multicast without authentication' });
    }
  });
  const prio = priorities(nodes);
  const byPriority = new Map<number, string[]>();
  for (const [name, p] of prio) byPriority.set(p, [...(byPriority.get(p) ?? []), name]);
  if (k.instances.some((i) => !i.nopreempt)) {
    for (const [p, names] of byPriority) {
      if (names.length > 1) issues.push({ host: names[1], path: ['keepalived_priority'], message: `${names.join(' and ')} have the same priority ${p} and nopreempt is off: the VIP holder is decided by address, and flaps`, hint: 'give each LB node its own keepalived_priority, or set nopreempt' });
    }
  }
  if (k.unicast && k.unicast_peers) {
    for (const n of nodes) {
      const want = nodes.filter((x) => x.name !== n.name).map((x) => x.address).sort();
      const got = k.unicast_peers.filter((p) => p !== n.address).sort();
      if (JSON.stringify(want) !== JSON.stringify(got)) {
        issues.push({ path: ['keepalived', 'unicast_peers'], message: `unicast_peers must be exactly the other LB nodes: for ${n.name} that is ${want.join(', ')}, not ${got.join(', ') || 'nothing'}`, hint: 'leave unicast_peers out: lbdeploy fills in the other LB nodes' });
        break;
      }
    }
  }
  const bindsVip = v.haproxy.services.some((s) => s.bind === 'vip' || k.instances.some((i) => vipAddress(i.vip) === s.bind));
  if (bindsVip && v.ha_sysctl_nonlocal_bind !== 1 && nodes.length > 1) {
    issues.push({ path: ['ha_sysctl_nonlocal_bind'], message: 'haproxy binds the VIP, but backup nodes do not hold it: they need net.ipv4.ip_nonlocal_bind=1', hint: 'leave ha_sysctl_nonlocal_bind at 1, or bind services to `any`' });
  }
  v.haproxy.services.forEach((s, i) => {
    if (!s.servers && !s.backend_group) issues.push({ path: ['haproxy', 'services', i], message: `service ${s.name} has no servers`, hint: 'give backend_group (an inventory group) or servers' });
    if (s.backend_group && !all.some((h) => h.groups.includes(s.backend_group!))) {
      issues.push({ path: ['haproxy', 'services', i, 'backend_group'], message: `backend_group '${s.backend_group}' has no hosts` });
    }
  });
  if (v.verify_from && !all.some((h) => h.name === v.verify_from)) {
    issues.push({ path: ['verify_from'], message: `verify_from '${v.verify_from}' is not an inventory host` });
  }
  return issues;
}
