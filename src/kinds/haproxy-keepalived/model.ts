/**
 * The HA model of seeds 000 and 001: VIPs held by keepalived across the LB nodes, haproxy in
 * TCP mode in front of backends. Pure: vars of every host in, configs and checks out.
 */
import type { HostInfo } from '../../playbook/define.js';
import { revealText, type Secret } from '../../inventory/secret.js';
import type { KeepalivedConfig, VrrpInstance } from '../../render/keepalived.js';
import type { HaproxyConfig, SendProxy } from '../../render/haproxy.js';
import type { ServiceTarget } from '../../checks/curl.js';
import type { VrrpVersion } from '../../lb-blocks/vrrp-timers.js';
import { advertProblem, vrrpGlobals, type GarpVars } from '../../lb-blocks/vrrp-timers.js';
import { familyAddress, hostAddresses, inSubnet, subnetOf } from '../../util/net.js';

export interface HaInstanceVars { name: string; vip: string; virtual_router_id: number; auth_pass?: string | Secret; nopreempt: boolean }
export interface HaServiceVars {
  name: string; port: number; bind: string; verify_http: boolean; backend_group?: string; servers?: { name: string; address: string }[]; backend_port: number;
  send_proxy?: SendProxy; balance: 'roundrobin' | 'leastconn' | 'source' | 'first'; check_inter: string; check_rise: number; check_fall: number;
  maxconn?: number; weight?: number;
  verify_tls?: { ca_file?: string; server_name?: string }; verify_path: string; verify_body?: string;
  maxqueue?: number; slowstart?: string; downinter?: string; tcp_check?: { send?: string; expect?: string };
  http_check?: { path: string; tls: boolean; expect_status: number }; inspect_delay?: string; extra?: string[];
}
export interface HaVars {
  lb_group: string;
  keepalived: {
    interface: string; advert_int: number; vrrp_version: VrrpVersion; preempt_delay?: number; track_process: boolean;
    garp: GarpVars;
    unicast: boolean; unicast_peers?: string[]; vrrp_strict: boolean;
    check_interval: number; check_fall: number; check_rise: number; check_weight?: number; instances: HaInstanceVars[];
    notify?: { master?: string; backup?: string; fault?: string; stop?: string };
    smtp?: { server: string; from: string; to: string[]; connect_timeout?: number };
    mcast_src_ip: boolean; extra_global_defs?: string[]; extra_instance?: string[];
  };
  haproxy: {
    maxconn: number; timeout_connect: string; timeout_client: string; timeout_server: string;
    monitor: { port: number; uri: string };
    stats?: { port: number; bind: string; user: string; password: string | Secret; uri: string; refresh: string; admin: boolean };
    extra_global?: string[]; extra_defaults?: string[];
    services: HaServiceVars[];
  };
  ingress: { listen: number[]; upstream?: string };
  keepalived_priority?: number;
  verify_from?: string;
  ha_sysctl_nonlocal_bind: 0 | 1;
}

export const CHECK_SCRIPT_PATH = '/etc/keepalived/check_haproxy.sh';
export const CHECK_SCRIPT_NAME = 'chk_haproxy';
/**
 * haproxy's service, as systemd sees it: its unit writes 1 to this file the moment haproxy stops or dies
 * (ExecStopPost) and 0 once it serves again (ExecStartPost). keepalived watches it (track_file, weight 0:
 * non-zero is FAULT), so the holder gives the VIP up at once. Not keepalived's vrrp_track_process: it
 * counts haproxy's master again each time a reload re-executes it (keepalived 2.2.7 on the lab's VMs:
 * 5 counted for 2 running after one reload), and then never sees haproxy gone.
 */
export const HAPROXY_DOWN_FILE = '/run/lbdeploy-haproxy.down';
export const HAPROXY_DOWN_TRACK = 'haproxy_down';
/** The drop-in's lines that keep HAPROXY_DOWN_FILE in step with haproxy's service. */
export const HAPROXY_DOWN_EXEC = [`ExecStartPost=/bin/sh -c 'echo 0 > ${HAPROXY_DOWN_FILE}'`, `ExecStopPost=/bin/sh -c 'echo 1 > ${HAPROXY_DOWN_FILE}'`];
/** The drain file: 1 drops the node's priority to the floor (lbdeploy drain), 0 puts it back; keepalived reads it on change. */
export const DRAIN_FILE = '/etc/keepalived/lbdeploy-drain';
export const DRAIN_TRACK_NAME = 'lbdeploy_drain';
/** keepalived's notify script: each instance's state in /run/lbdeploy/vrrp/NAME, keepalived's own view. */
export const STATE_SCRIPT_PATH = '/etc/keepalived/vrrp_state.sh';
export const STATE_DIR = '/run/lbdeploy/vrrp';
/** The drain file's weight: 1 x -253 takes any priority down to keepalived's floor of 1, without FAULT (which would drop the VIP before a peer holds it). */
export const DRAIN_WEIGHT = -253;
export const HAPROXY_SOCKET = '/run/haproxy/admin.sock';

/** The LB nodes, in inventory order. */
export function lbNodes(all: readonly HostInfo[], group: string): HostInfo[] {
  return all.filter((h) => h.groups.includes(group));
}

type InstanceId = Pick<HaInstanceVars, 'name' | 'vip' | 'virtual_router_id'>;

/** A VRRP instance's identity: the same name, VRID and VIP on several nodes make one cluster. */
export const instanceKey = (i: InstanceId) => `${i.name}|${i.virtual_router_id}|${i.vip}`;

/** The instances a host carries, from its vars (resolved or as written). */
export function instancesOf(h: HostInfo): InstanceId[] {
  return ((h.vars.keepalived as { instances?: InstanceId[] } | undefined)?.instances ?? []).filter((i) => i && typeof i === 'object');
}

/** The host's LB group: its `lb_group` var, default `lb`. */
export const lbGroupOf = (h: Pick<HostInfo, 'vars'>) => (h.vars.lb_group as string | undefined) ?? 'lb';

/** The LB nodes that carry this instance: its cluster, in inventory order. Peers and priorities are computed among them only. */
export function carriers(all: readonly HostInfo[], instance: InstanceId): HostInfo[] {
  const key = instanceKey(instance);
  return all.filter((h) => h.groups.includes(lbGroupOf(h)) && instancesOf(h).some((i) => instanceKey(i) === key));
}

/** Priority of each node of a cluster: its keepalived_priority, else by position (150, 140, ...). */
export function priorities(nodes: readonly HostInfo[]): Map<string, number> {
  return new Map(nodes.map((h, i) => [h.name, (h.vars.keepalived_priority as number | undefined) ?? 150 - 10 * i]));
}

/** The clusters of an inventory: LB nodes grouped by the set of instances they carry. */
export function clusters(all: readonly HostInfo[]): { key: string; nodes: HostInfo[] }[] {
  const out = new Map<string, HostInfo[]>();
  for (const h of all) {
    if (!h.groups.includes(lbGroupOf(h)) || instancesOf(h).length === 0) continue;
    const key = instancesOf(h).map(instanceKey).sort().join(' + ');
    out.set(key, [...(out.get(key) ?? []), h]);
  }
  return [...out].map(([key, nodes]) => ({ key, nodes }));
}

function vipAddress(vip: string): string {
  return vip.split('/')[0]!;
}

/** Each instance's VIP, without its prefix. */
export function vipsOf(v: HaVars): { name: string; address: string }[] {
  return v.keepalived.instances.map((i) => ({ name: i.name, address: vipAddress(i.vip) }));
}

/**
 * haproxy's check weight on a host: enough that, with haproxy down, it ranks below every healthy
 * node of each cluster it belongs to (the spread of priorities there, plus 10).
 */
export function checkWeight(v: HaVars, host: HostInfo, all: readonly HostInfo[]): number {
  if (v.keepalived.check_weight !== undefined) return v.keepalived.check_weight;
  const spreads = v.keepalived.instances.map((i) => {
    const values = [...priorities(carriers(all, i)).values()];
    return values.length > 0 ? Math.max(...values) - Math.min(...values) : 0;
  });
  return -(Math.max(0, ...spreads) + 10);
}

export function keepalivedFor(host: HostInfo, v: HaVars, all: readonly HostInfo[]): KeepalivedConfig {
  const k = v.keepalived;
  const tracksService = k.track_process;
  const instances: VrrpInstance[] = k.instances.map((i) => {
    const nodes = carriers(all, i);
    const prio = priorities(nodes);
    const top = Math.max(...prio.values());
    // Unicast VRRP runs in the VIP's address family: an IPv6 VIP between the nodes' IPv6 addresses.
    const v6 = vipAddress(i.vip).includes(':');
    const own = (n: HostInfo) => familyAddress(n, v6);
    const peers = k.unicast ? k.unicast_peers?.filter((p) => p.includes(':') === v6) ?? nodes.filter((n) => n.name !== host.name).map((n) => own(n) ?? n.address) : undefined;
    return {
    name: i.name,
    // With nopreempt or preempt_delay every node starts BACKUP (keepalived ignores both on a MASTER).
    state: !i.nopreempt && k.preempt_delay === undefined && prio.get(host.name) === top ? 'MASTER' : 'BACKUP',
    interface: k.interface,
    virtualRouterId: i.virtual_router_id,
    priority: prio.get(host.name) ?? 150,
    advertInt: k.advert_int,
    authentication: i.auth_pass !== undefined ? { type: 'PASS', pass: i.auth_pass } : undefined,
    unicastSrcIp: k.unicast ? own(host) ?? host.address : undefined,
    unicastPeers: peers,
    virtualAddresses: [{ address: i.vip, dev: k.interface }],
    trackScripts: [CHECK_SCRIPT_NAME],
    trackFiles: tracksService ? [DRAIN_TRACK_NAME, HAPROXY_DOWN_TRACK] : [DRAIN_TRACK_NAME],
    nopreempt: i.nopreempt || undefined,
    preemptDelay: i.nopreempt ? undefined : k.preempt_delay,
    notify: STATE_SCRIPT_PATH,
    notifyOn: k.notify,
    smtpAlert: k.smtp ? true : undefined,
    mcastSrcIp: !k.unicast && k.mcast_src_ip ? own(host) ?? host.address : undefined,
    extra: k.extra_instance,
    };
  });
  return {
    global: {
      routerId: host.name, scriptUser: 'root', enableScriptSecurity: true, vrrpSkipCheckAdvAddr: true, vrrpStrict: k.vrrp_strict || undefined,
      ...vrrpGlobals(k.vrrp_version, k.garp),
      smtp: k.smtp ? { server: k.smtp.server, from: k.smtp.from, to: k.smtp.to, connectTimeout: k.smtp.connect_timeout } : undefined,
      extra: k.extra_global_defs,
    },
    // No init value for haproxy_down: a missing file is read as 0 (haproxy's unit writes it at its next start or stop).
    trackFiles: [{ name: DRAIN_TRACK_NAME, file: DRAIN_FILE, weight: DRAIN_WEIGHT, initValue: 0 }, ...(tracksService ? [{ name: HAPROXY_DOWN_TRACK, file: HAPROXY_DOWN_FILE, weight: 0 }] : [])],
    scripts: [{ name: CHECK_SCRIPT_NAME, script: `${CHECK_SCRIPT_PATH} ${v.haproxy.monitor.port} ${v.haproxy.monitor.uri}`, interval: k.check_interval, timeout: Math.max(1, Math.ceil(k.check_interval)), fall: k.check_fall, rise: k.check_rise, weight: checkWeight(v, host, all) }],
    instances,
  };
}

const bracket = (a: string) => (a.includes(':') ? `[${a}]` : a);

/** Does the deployment carry an IPv6 VIP? */
export const hasIpv6Vip = (v: HaVars) => v.keepalived.instances.some((i) => vipAddress(i.vip).includes(':'));

/**
 * haproxy's bind lines for a service: every VIP (`vip`), every address (`any`: `*`, and `[::]` v6only
 * beside it when a VIP is IPv6, since `*` is IPv4 only), or the address given.
 */
function bindLines(v: HaVars, s: HaServiceVars): string[] {
  if (s.bind === 'vip') return v.keepalived.instances.map((i) => `${bracket(vipAddress(i.vip))}:${s.port}`);
  if (s.bind === 'any') return [`*:${s.port}`, ...(hasIpv6Vip(v) ? [`[::]:${s.port} v6only`] : [])];
  return [`${bracket(s.bind)}:${s.port}`];
}

/** A service's backend servers: its `servers`, else the hosts of its backend group. */
export function serversOf(s: HaServiceVars, all: readonly HostInfo[]): { name: string; address: string }[] {
  return s.servers ?? (s.backend_group ? all.filter((h) => h.groups.includes(s.backend_group!)).map((h) => ({ name: h.name, address: h.address })) : []);
}

/**
 * Each haproxy service as a client reaches it, once per VIP it listens on (every VIP for `vip` and
 * `any`, else the address it binds), with its resolved servers.
 */
export function serviceTargets(v: HaVars, all: readonly HostInfo[]): ServiceTarget[] {
  return v.haproxy.services.flatMap((s) => {
    const servers = serversOf(s, all);
    const connect = s.bind === 'vip' || s.bind === 'any' ? v.keepalived.instances.map((i) => vipAddress(i.vip)) : [s.bind];
    return connect.map((c) => ({ name: s.name, vip: bracket(c), port: s.port, sendProxy: s.send_proxy, servers: servers.map((x) => ({ ...x, port: s.backend_port })) }));
  });
}

export function haproxyFor(v: HaVars, all: readonly HostInfo[]): HaproxyConfig {
  const h = v.haproxy;
  return {
    global: { maxconn: h.maxconn, statsSocket: HAPROXY_SOCKET, user: 'haproxy', group: 'haproxy', chroot: '/var/lib/haproxy', log: '/dev/log local0', extra: h.extra_global },
    defaults: { timeoutConnect: h.timeout_connect, timeoutClient: h.timeout_client, timeoutServer: h.timeout_server, timeoutCheck: '2s', retries: 3, redispatch: true, extra: h.extra_defaults },
    monitor: { bind: `*:${h.monitor.port}`, uri: h.monitor.uri },
    stats: h.stats ? { bind: `${h.stats.bind}:${h.stats.port}`, uri: h.stats.uri, refresh: h.stats.refresh, user: h.stats.user, password: h.stats.password, admin: h.stats.admin } : undefined,
    listens: h.services.map((s) => ({
      name: s.name,
      binds: bindLines(v, s),
      balance: s.balance,
      tcpCheck: s.tcp_check,
      httpCheck: s.http_check && { path: s.http_check.path, expectStatus: s.http_check.expect_status },
      inspectDelay: s.inspect_delay,
      options: s.extra,
      servers: serversOf(s, all).map((x) => ({
        name: x.name, address: x.address, port: s.backend_port, sendProxy: s.send_proxy, weight: s.weight, maxconn: s.maxconn,
        maxqueue: s.maxqueue, slowstart: s.slowstart,
        check: { inter: s.check_inter, rise: s.check_rise, fall: s.check_fall, downinter: s.downinter, ssl: s.http_check?.tls },
      })),
    })),
  };
}


export interface HaIssue {
  /** The host whose vars are at fault (for the location), or undefined for the first one. */
  host?: string;
  /** Path in the vars, e.g. ['keepalived', 'instances', 0, 'auth_pass']. */
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** What keepalived accepts: it refuses a config outside these ranges. */
export const KEEPALIVED_LIMITS = { priority: [1, 254], weight: [-253, 253], vrid: [1, 255] } as const;

/**
 * The checks a schema cannot make, before anything connects, cluster by cluster: VRIDs unique among
 * the clusters on a segment, priorities and weights inside keepalived's ranges, VIPs in the nodes'
 * subnet, peers, ports.
 */
export function haChecks(all: readonly HostInfo[], varsOf: (h: HostInfo) => HaVars): HaIssue[] {
  const issues: HaIssue[] = [];
  const lbs = all.filter((h) => h.vars.keepalived !== undefined && h.groups.includes(lbGroupOf(h)));
  const withVars = all.filter((h) => h.vars.keepalived !== undefined);
  if (withVars.length === 0) return issues;
  if (lbs.length === 0) {
    const v = varsOf(withVars[0]!);
    return [{ path: ['lb_group'], message: `no host is in the LB group '${v.lb_group}'`, hint: 'put the load balancers in that group, or set lb_group' }];
  }
  for (const h of lbs) issues.push(...nodeIssues(h, all, varsOf));
  issues.push(...clusterIssues(all, lbs, varsOf));
  for (const h of lbs) issues.push(...serviceIssues(h, all, varsOf));
  return issues;
}

const count = (text: string, ch: string) => text.split(ch).length - 1;

/** haproxy's section keywords: a raw line starting with one would open a new section whatever its indent. */
const HAPROXY_SECTIONS = ['global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'resolvers', 'userlist', 'program', 'cache', 'mailers', 'http-errors', 'ring', 'log-forward', 'crt-store', 'traces'];

/** Raw haproxy lines that would leave their section. */
function haproxyExtraIssues(h: HostInfo, v: HaVars): HaIssue[] {
  const lists: [(string | number)[], string[] | undefined][] = [
    [['haproxy', 'extra_global'], v.haproxy.extra_global], [['haproxy', 'extra_defaults'], v.haproxy.extra_defaults],
    ...v.haproxy.services.map((s, i): [(string | number)[], string[] | undefined] => [['haproxy', 'services', i, 'extra'], s.extra]),
  ];
  return lists.flatMap(([path, lines]) => (lines ?? []).flatMap((line, i) => {
    const word = line.trim().split(/\s+/)[0]!;
    return HAPROXY_SECTIONS.includes(word) ? [{ host: h.name, path: [...path, i], message: `'${line}' starts a new haproxy section (${word}): the lines after it would leave theirs`, hint: 'extra lines go inside their section; a section of your own is not supported here' }] : [];
  }));
}

/** One node's own settings: its instances, its VRRP timers, its check weight, its ports. */
function nodeIssues(h: HostInfo, all: readonly HostInfo[], varsOf: (h: HostInfo) => HaVars): HaIssue[] {
  const issues: HaIssue[] = [];
  const k = varsOf(h).keepalived;
  const seen = new Map<number, number>();
  k.instances.forEach((inst, i) => {
    const other = seen.get(inst.virtual_router_id);
    if (other !== undefined) issues.push({ host: h.name, path: ['keepalived', 'instances', i, 'virtual_router_id'], message: `virtual_router_id ${inst.virtual_router_id} is used twice on ${k.interface} (also by ${k.instances[other]!.name})`, hint: 'each VRRP instance on a segment needs its own id (1-255)' });
    seen.set(inst.virtual_router_id, i);
    const pass = inst.auth_pass !== undefined ? revealText(inst.auth_pass) : undefined;
    if (pass !== undefined && vipAddress(inst.vip).includes(':')) issues.push({ host: h.name, path: ['keepalived', 'instances', i, 'auth_pass'], message: `${inst.name} has an IPv6 VIP: VRRP for IPv6 is version 3, which has no authentication (keepalived -t refuses auth_pass there)`, hint: 'remove auth_pass from the IPv6 instance' });
    else if (pass !== undefined && pass.length > 8) issues.push({ host: h.name, path: ['keepalived', 'instances', i, 'auth_pass'], message: `auth_pass is ${pass.length} characters: keepalived silently uses only the first 8`, hint: 'use at most 8 characters' });
    if (!inSubnet(h.address, inst.vip) && !hostAddresses(h).some((a) => inSubnet(a, inst.vip))) {
      issues.push({ host: h.name, path: ['keepalived', 'instances', i, 'vip'], message: `VIP ${inst.vip} is outside the subnet of ${h.name} (${hostAddresses(h).join(', ')}) on ${k.interface}`, hint: vipAddress(inst.vip).includes(':') ? `a VIP must be in the subnet of the interface that carries it: list ${h.name}'s IPv6 address in its \`addresses\` var` : 'a VIP must be in the subnet of the interface that carries it' });
    }
    if (k.vrrp_strict && (k.unicast || inst.auth_pass !== undefined)) {
      issues.push({ host: h.name, path: ['keepalived', 'vrrp_strict'], message: `vrrp_strict cannot be combined with ${k.unicast ? 'unicast peers' : 'authentication'} (instance ${inst.name})`, hint: 'turn vrrp_strict off, or use multicast without authentication' });
    }
  });
  if (k.mcast_src_ip && k.unicast) issues.push({ host: h.name, path: ['keepalived', 'mcast_src_ip'], message: 'mcast_src_ip does nothing with unicast VRRP (unicast_src_ip is set from the node\'s address already)', hint: 'set unicast: false for multicast VRRP, or drop mcast_src_ip' });
  for (const key of ['extra_global_defs', 'extra_instance'] as const) {
    (k[key] ?? []).forEach((line, i) => {
      if (count(line, '{') !== count(line, '}')) issues.push({ host: h.name, path: ['keepalived', key, i], message: `'${line}' opens or closes a block it does not end: it would move the lines after it into another section`, hint: 'write a block on one line ({ ... }), or use the typed settings' });
    });
  }
  const advert = advertProblem(k.advert_int, k.vrrp_version);
  if (advert) issues.push({ host: h.name, path: ['keepalived', 'advert_int'], message: advert, hint: k.vrrp_version === 2 ? 'use a whole number of seconds, or set vrrp_version: 3 for sub-second adverts' : 'use 0.01 to 40.95 in steps of 0.01' });
  if (k.vrrp_version === 3) k.instances.forEach((inst, i) => {
    if (inst.auth_pass !== undefined && !vipAddress(inst.vip).includes(':')) issues.push({ host: h.name, path: ['keepalived', 'instances', i, 'auth_pass'], message: `${inst.name}: VRRP version 3 has no authentication (keepalived -t refuses auth_pass with vrrp_version 3)`, hint: 'remove auth_pass, or keep vrrp_version 2' });
  });
  if (k.preempt_delay !== undefined) k.instances.forEach((inst, i) => {
    if (inst.nopreempt) issues.push({ host: h.name, path: ['keepalived', 'instances', i, 'nopreempt'], message: `${inst.name} sets nopreempt, so keepalived.preempt_delay would do nothing for it`, hint: 'drop preempt_delay, or nopreempt' });
  });
  const w = checkWeight(varsOf(h), h, all);
  const [wmin, wmax] = KEEPALIVED_LIMITS.weight;
  if (w < wmin || w > wmax) {
    issues.push({ host: h.name, path: ['keepalived', 'check_weight'], message: `the haproxy check weight on ${h.name} is ${w}: keepalived accepts ${wmin} to ${wmax}`, hint: 'narrow the priorities of the cluster (keepalived_priority), or set keepalived.check_weight' });
  }
  const v = varsOf(h);
  issues.push(...haproxyExtraIssues(h, v));
  const ports = new Map<string, string>();
  for (const [name, port, bind] of [...v.haproxy.services.map((s) => [s.name, s.port, s.bind] as const), ['monitor', v.haproxy.monitor.port, 'any'] as const, ...(v.haproxy.stats ? [['stats', v.haproxy.stats.port, v.haproxy.stats.bind] as const] : [])]) {
    const key = `${bind === 'any' || bind === '*' ? '*' : bind}:${port}`;
    const clash = ports.get(`*:${port}`) ?? (bind === 'any' ? [...ports].find(([p]) => p.endsWith(`:${port}`))?.[1] : ports.get(key));
    if (clash) issues.push({ host: h.name, path: ['haproxy'], message: `${name} and ${clash} both listen on port ${port}: haproxy cannot bind it twice`, hint: 'give each service, the monitor and the stats page their own port' });
    ports.set(key, name);
  }
  return issues;
}

/** Per cluster (the nodes that carry an instance): VRIDs on a segment, timers, priorities, peers, preemption. */
function clusterIssues(all: readonly HostInfo[], lbs: readonly HostInfo[], varsOf: (h: HostInfo) => HaVars): HaIssue[] {
  const issues: HaIssue[] = [];
  const byKey = new Map<string, { instance: HaInstanceVars; index: number; owner: HostInfo; iface: string }>();
  for (const h of lbs) varsOf(h).keepalived.instances.forEach((inst, index) => {
    if (!byKey.has(instanceKey(inst))) byKey.set(instanceKey(inst), { instance: inst, index, owner: h, iface: varsOf(h).keepalived.interface });
  });
  const segments = new Map<string, { name: string; nodes: string }>();
  for (const { instance, index, owner } of byKey.values()) {
    const nodes = carriers(all, instance);
    const names = nodes.map((n) => n.name).join(', ');
    const segment = `${subnetOf(instance.vip)}#${instance.virtual_router_id}`;
    const other = segments.get(segment);
    if (other && other.nodes !== names) {
      issues.push({ host: owner.name, path: ['keepalived', 'instances', index, 'virtual_router_id'], message: `virtual_router_id ${instance.virtual_router_id} of ${instance.name} (${names}) is also used by ${other.name} (${other.nodes}) on the same segment ${instance.vip.split('/')[0]}/${instance.vip.split('/')[1]}: their VRRP adverts would mix`, hint: 'give each cluster on a segment its own virtual_router_id (1-255)' });
    }
    if (!other) segments.set(segment, { name: instance.name, nodes: names });
    // Every node of a cluster must speak the same VRRP: a version or interval mismatch makes each discard the other's adverts.
    const timers = new Map(nodes.map((n) => [n.name, `version ${varsOf(n).keepalived.vrrp_version}, advert_int ${varsOf(n).keepalived.advert_int}`]));
    const odd = nodes.find((n) => timers.get(n.name) !== timers.get(nodes[0]!.name));
    if (odd) issues.push({ host: odd.name, path: ['keepalived', 'advert_int'], message: `the nodes of ${instance.name} disagree on VRRP: ${nodes[0]!.name} has ${timers.get(nodes[0]!.name)}, ${odd.name} has ${timers.get(odd.name)}`, hint: 'set vrrp_version and advert_int once for the whole cluster (group vars), not per host' });
    const prio = priorities(nodes);
    const [pmin, pmax] = KEEPALIVED_LIMITS.priority;
    for (const [name, p] of prio) {
      if (p < pmin || p > pmax) issues.push({ host: name, path: ['keepalived_priority'], message: `${name} would get priority ${p} in ${instance.name}: keepalived accepts ${pmin} to ${pmax}`, hint: nodes.length > 15 ? `${nodes.length} nodes carry ${instance.name}: set keepalived_priority on each, or split the cluster` : `set keepalived_priority between ${pmin} and ${pmax}` });
    }
    if (!instance.nopreempt) {
      const byPriority = new Map<number, string[]>();
      for (const [name, p] of prio) byPriority.set(p, [...(byPriority.get(p) ?? []), name]);
      for (const [p, same] of byPriority) {
        if (same.length > 1) issues.push({ host: same[1], path: ['keepalived_priority'], message: `${same.join(' and ')} have the same priority ${p} in ${instance.name} and nopreempt is off: the VIP holder is decided by address, and flaps`, hint: 'give each LB node of the cluster its own keepalived_priority, or set nopreempt' });
      }
    }
    for (const n of nodes) {
      const k = varsOf(n).keepalived;
      if (!k.unicast || !k.unicast_peers) continue;
      const v6 = vipAddress(instance.vip).includes(':');
      const want = nodes.filter((x) => x.name !== n.name).map((x) => familyAddress(x, v6) ?? x.address).sort();
      const got = k.unicast_peers.filter((p) => p.includes(':') === v6 && !hostAddresses(n).includes(p)).sort();
      if (JSON.stringify(want) !== JSON.stringify(got)) {
        issues.push({ host: n.name, path: ['keepalived', 'unicast_peers'], message: `unicast_peers must be exactly the other nodes of ${instance.name}: for ${n.name} that is ${want.join(', ') || 'nothing'}, not ${got.join(', ') || 'nothing'}`, hint: 'leave unicast_peers out: lbdeploy fills in the other nodes of the cluster' });
        break;
      }
    }
  }
  return issues;
}

/** A node's services: the VIP bind needs nonlocal_bind on the backups; servers and groups exist. */
function serviceIssues(h: HostInfo, all: readonly HostInfo[], varsOf: (h: HostInfo) => HaVars): HaIssue[] {
  const issues: HaIssue[] = [];
  const v = varsOf(h);
  const k = v.keepalived;
  const bindsVip = v.haproxy.services.some((s) => s.bind === 'vip' || k.instances.some((i) => vipAddress(i.vip) === s.bind));
  const clusterSize = Math.max(...k.instances.map((i) => carriers(all, i).length));
  if (bindsVip && v.ha_sysctl_nonlocal_bind !== 1 && clusterSize > 1) {
    issues.push({ host: h.name, path: ['ha_sysctl_nonlocal_bind'], message: `haproxy binds the VIP, but backup nodes do not hold it: they need net.ipv4.ip_nonlocal_bind=1${hasIpv6Vip(v) ? ' (and net.ipv6.ip_nonlocal_bind=1)' : ''}`, hint: 'leave ha_sysctl_nonlocal_bind at 1, or bind services to `any`' });
  }
  v.haproxy.services.forEach((s, i) => {
    if (!s.servers && !s.backend_group) issues.push({ host: h.name, path: ['haproxy', 'services', i], message: `service ${s.name} has no servers`, hint: 'give backend_group (an inventory group) or servers' });
    // What verify asks goes with a request to ask it in: an option that would do nothing is refused.
    for (const [key, given] of [['verify_body', s.verify_body !== undefined], ['verify_path', s.verify_path !== '/']] as const) {
      if (given && !s.verify_http && !s.verify_tls) issues.push({ host: h.name, path: ['haproxy', 'services', i, key], message: `${key} of ${s.name} does nothing: verify opens a TCP connection to this service`, hint: 'add verify_http: true (or verify_tls) to send requests' });
    }
    if (s.tcp_check && s.http_check) issues.push({ host: h.name, path: ['haproxy', 'services', i, 'http_check'], message: `service ${s.name} has both tcp_check and http_check: haproxy would use only the last of the two`, hint: 'keep one of them' });
    if (s.backend_group && !all.some((x) => x.groups.includes(s.backend_group!))) {
      issues.push({ host: h.name, path: ['haproxy', 'services', i, 'backend_group'], message: `backend_group '${s.backend_group}' has no hosts` });
    }
  });
  if (v.verify_from && !all.some((x) => x.name === v.verify_from)) issues.push({ host: h.name, path: ['verify_from'], message: `verify_from '${v.verify_from}' is not an inventory host` });
  return issues;
}

