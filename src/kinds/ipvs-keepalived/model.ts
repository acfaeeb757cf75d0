/**
 * Seed 002's alive.yaml model (the software datacenter LB): VIP instances held by keepalived,
 * each with IPVS real servers and per-port virtual_server settings and raw health checks, for
 * IPv4 and IPv6. Renders keepalived.conf (virtual_server / real_server blocks) and alive.yaml.
 */
import { stringifyYaml as stringify } from '../../yaml.js';
import type { HostInfo, PlaybookIssue } from '../../playbook/define.js';
import type { Forward, VirtualService } from '../../render/ipvs.js';
import type { KeepalivedConfig, VrrpInstance } from '../../render/keepalived.js';
import { hostAddresses } from '../../util/net.js';
import { advertProblem, vrrpGlobals, type GarpVars, type VrrpVersion } from '../../lb-blocks/vrrp-timers.js';

export interface AlivePort {
  port: number;
  virtual_server_config: string;
  raw_check?: string;
}

export interface AliveInstance {
  vip: {
    vip: string;
    id: number;
    interface: string;
    name: string;
    peer: string[];
  };
  ipvs: { ips: string[]; ports: AlivePort[] };
}

export interface AliveVars {
  instances: AliveInstance[];
  /** IPVS connection sync between the directors (keepalived's lvs_sync_daemon), on by default. */
  sync_daemon?: boolean;
  /** VRRP timing (schema defaults: version 2, 1 s adverts, GARP/NA tuned); absent in the seed's own alive.yaml. */
  vrrp_version?: VrrpVersion;
  advert_int?: number;
  garp?: GarpVars;
}

/** The VIP with the prefix keepalived needs on the interface (/32 or /128 when none is given). */
function vipWithPrefix(vip: string): string {
  return vip.includes('/') ? vip : `${vip}/${vip.includes(':') ? 128 : 32}`;
}

/**
 * keepalived.conf for one LB node. Priorities by the node's position among the instance's own nodes (first
 * highest), all BACKUP + nopreempt as the seed's image does; unicast to the other peers of the
 * same address family.
 */
export function aliveKeepalived(host: HostInfo, alive: AliveVars, nodes: readonly HostInfo[]): KeepalivedConfig {
  const instances: VrrpInstance[] = alive.instances.map((inst) => {
    // The instance's cluster: the LB nodes among its peers.
    const position = Math.max(0, nodes.filter((n) => inst.vip.peer.some((p) => hostAddresses(n).includes(p))).findIndex((n) => n.name === host.name));
    const v6 = inst.vip.vip.includes(':');
    const self = v6 ? inst.vip.peer.find((p) => hostAddresses(host).includes(p)) : host.address;
    return {
      name: inst.vip.name,
      state: 'BACKUP',
      interface: inst.vip.interface,
      virtualRouterId: inst.vip.id,
      priority: 150 - 10 * position,
      advertInt: alive.advert_int ?? 1,
      nopreempt: true,
      unicastSrcIp: self,
      unicastPeers: inst.vip.peer.filter((p) => p !== self),
      virtualAddresses: [{ address: vipWithPrefix(inst.vip.vip), dev: inst.vip.interface }],
    };
  });
  // Connection state follows the first instance's holder: its director sends, the others receive, so an
  // established connection survives the move (the kernel's sync carries IPv4 and IPv6 connections).
  const first = alive.instances[0]?.vip;
  return {
    global: {
      routerId: host.name, scriptUser: 'root', enableScriptSecurity: true,
      ...(alive.garp ? vrrpGlobals(alive.vrrp_version ?? 2, alive.garp) : {}),
      lvsSyncDaemon: alive.sync_daemon !== false && first ? { interface: first.interface, instance: first.name, id: first.id } : undefined,
    },
    scripts: [],
    instances,
    virtualServers: alive.instances.flatMap((inst) => inst.ipvs.ports.map((p) => ({
      address: inst.vip.vip.split('/')[0]!,
      port: p.port,
      config: p.virtual_server_config,
      realServers: inst.ipvs.ips.map((ip) => ({ address: ip, port: p.port, weight: 1, check: p.raw_check })),
    }))),
  };
}

/** alive.yaml, for keepalived images that read it (seed 002 step 5). */
export function renderAliveYaml(alive: AliveVars): string {
  return '# Managed by lbdeploy: changes here are overwritten.\n' + stringify({ instances: alive.instances }, { lineWidth: 0, indentSeq: true });
}

/** The settings lbdeploy reads from a port's `virtual_server_config` (keepalived's own words and their synonyms). */
export interface VirtualServerSettings {
  lbAlgo?: string;
  lbKind?: string;
  protocol?: string;
  persistenceTimeout?: number;
}

/** Read `key value` lines of a virtual_server block; `#` and `!` start comments, as in keepalived. */
export function parseVirtualServerConfig(text: string): VirtualServerSettings {
  const out: VirtualServerSettings = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.replace(/[#!].*$/, '').trim().split(/\s+/);
    if (!key || value === undefined) continue;
    if (key === 'lb_algo' || key === 'lvs_sched') out.lbAlgo = value;
    else if (key === 'lb_kind' || key === 'lvs_method') out.lbKind = value.toUpperCase();
    else if (key === 'protocol') out.protocol = value.toUpperCase();
    else if (key === 'persistence_timeout') out.persistenceTimeout = Number(value);
  }
  return out;
}

const FORWARD_OF_KIND: Record<string, Forward> = { NAT: 'masq', DR: 'route', TUN: 'tunnel' };

/**
 * The IPVS table keepalived programs from the model, once every real server passes its health
 * check: what `ipvsadm -ln` should show on every LB node.
 */
export function aliveServices(alive: AliveVars): VirtualService[] {
  return alive.instances.flatMap((inst) => inst.ipvs.ports.map((p) => {
    const s = parseVirtualServerConfig(p.virtual_server_config);
    return {
      protocol: s.protocol === 'UDP' ? 'udp' as const : 'tcp' as const,
      address: inst.vip.vip.split('/')[0]!,
      port: p.port,
      scheduler: s.lbAlgo ?? 'wlc',
      ...(s.persistenceTimeout ? { persistent: s.persistenceTimeout } : {}),
      realServers: inst.ipvs.ips.map((ip) => ({ address: ip, port: p.port, forward: FORWARD_OF_KIND[s.lbKind ?? 'NAT'] ?? 'masq', weight: 1 })),
    };
  }));
}

/** The VIPs of the model, with the instance names. */
export function aliveVips(alive: AliveVars): { name: string; address: string }[] {
  return alive.instances.map((i) => ({ name: i.vip.name, address: i.vip.vip.split('/')[0]! }));
}

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];

/** What the schema cannot see: settings inside the raw blocks, families, uniqueness, peers versus the LB nodes. */
export function aliveChecks(alive: AliveVars, nodes: readonly HostInfo[]): PlaybookIssue[] {
  const issues: PlaybookIssue[] = [];
  const advert = advertProblem(alive.advert_int ?? 1, alive.vrrp_version ?? 2);
  if (advert) issues.push({ path: ['alive', 'advert_int'], message: advert, hint: (alive.vrrp_version ?? 2) === 2 ? 'use a whole number of seconds, or set vrrp_version: 3 for sub-second adverts' : 'use 0.01 to 40.95 in steps of 0.01' });
  const seen = { vip: new Map<string, number>(), id: new Map<number, number>(), name: new Map<string, number>() };
  alive.instances.forEach((inst, i) => {
    const at = (...rest: (string | number)[]) => ['alive', 'instances', i, ...rest];
    const vip = inst.vip.vip.split('/')[0]!;
    const v6 = vip.includes(':');
    for (const [kind, value] of [['vip', vip], ['id', inst.vip.id], ['name', inst.vip.name]] as const) {
      const map = seen[kind] as Map<unknown, number>;
      if (map.has(value)) issues.push({ path: at('vip', kind), message: `${kind} ${value} is already used by instance ${map.get(value)! + 1}`, hint: `each instance needs its own ${kind}` });
      else map.set(value, i);
    }
    inst.ipvs.ips.forEach((ip, j) => {
      if (ip.includes(':') !== v6) issues.push({ path: at('ipvs', 'ips', j), message: `real server ${ip} is IPv${v6 ? 4 : 6} but the VIP ${vip} is IPv${v6 ? 6 : 4}`, hint: 'a dual-stack service is two instances, one per family' });
    });
    inst.vip.peer.forEach((p, j) => {
      if (p.includes(':') !== v6) issues.push({ path: at('vip', 'peer', j), message: `peer ${p} is not of the VIP's address family`, hint: `VRRP for ${vip} runs between IPv${v6 ? 6 : 4} addresses` });
    });
    for (const n of nodes) {
      const mine = hostAddresses(n);
      if (!inst.vip.peer.some((p) => mine.includes(p))) {
        issues.push({ host: n.name, path: at('vip', 'peer'), message: `LB node ${n.name} (${mine.join(', ')}) is not among the peers of ${inst.vip.name}`, hint: v6 ? 'list its IPv6 address in peer, and in the host\'s `addresses` var' : 'list every LB node\'s address in peer' });
      }
    }
    inst.ipvs.ports.forEach((p, j) => {
      const s = parseVirtualServerConfig(p.virtual_server_config);
      const where = at('ipvs', 'ports', j, 'virtual_server_config');
      if (!s.lbAlgo) issues.push({ path: where, message: 'no lb_algo: say which scheduler (keepalived would pick one silently)', hint: 'add a line such as `lb_algo rr`' });
      else if (!SCHEDULERS.includes(s.lbAlgo)) issues.push({ path: where, message: `lb_algo ${s.lbAlgo} is not an IPVS scheduler`, hint: `one of ${SCHEDULERS.join(', ')}` });
      if (!s.lbKind) issues.push({ path: where, message: 'no lb_kind: say how packets reach the real servers', hint: 'add `lb_kind NAT` (real servers route back through the LB) or `lb_kind DR` (real servers hold the VIP on lo)' });
      else if (!(s.lbKind in FORWARD_OF_KIND)) issues.push({ path: where, message: `lb_kind ${s.lbKind} is not NAT, DR or TUN` });
      if (s.protocol && !['TCP', 'UDP'].includes(s.protocol)) issues.push({ path: where, message: `protocol ${s.protocol}: lbdeploy manages TCP and UDP services` });
    });
  });
  return issues;
}
