/**
 * Seed 002's alive.yaml model (the software datacenter LB): VIP instances held by keepalived,
 * each with IPVS real servers and per-port virtual_server settings and raw health checks, for
 * IPv4 and IPv6. Renders keepalived.conf (virtual_server / real_server blocks) and alive.yaml.
 */
import { stringify } from 'yaml';
import type { HostInfo } from '../playbook/define.js';
import type { KeepalivedConfig, VrrpInstance } from '../render/keepalived.js';

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
    check_interval?: number;
    check_timeout?: number;
    name: string;
    peer: string[];
    kube_lock?: { kubecfgs: string[] };
  };
  ipvs: { ips: string[]; ports: AlivePort[] };
}

export interface AliveVars {
  instances: AliveInstance[];
}

/** The VIP with the prefix keepalived needs on the interface (/32 or /128 when none is given). */
function vipWithPrefix(vip: string): string {
  return vip.includes('/') ? vip : `${vip}/${vip.includes(':') ? 128 : 32}`;
}

/**
 * keepalived.conf for one LB node. Priorities by the node's position among the peers (first
 * highest), all BACKUP + nopreempt as the seed's image does; unicast to the other peers of the
 * same address family.
 */
export function aliveKeepalived(host: HostInfo, alive: AliveVars, nodes: readonly HostInfo[]): KeepalivedConfig {
  const position = Math.max(0, nodes.findIndex((n) => n.name === host.name));
  const instances: VrrpInstance[] = alive.instances.map((inst) => {
    const v6 = inst.vip.vip.includes(':');
    const self = v6 ? inst.vip.peer.find((p) => hostAddresses(host).includes(p)) : host.address;
    return {
      name: inst.vip.name,
      state: 'BACKUP',
      interface: inst.vip.interface,
      virtualRouterId: inst.vip.id,
      priority: 150 - 10 * position,
      advertInt: 1,
      nopreempt: true,
      unicastSrcIp: self,
      unicastPeers: inst.vip.peer.filter((p) => p !== self),
      virtualAddresses: [{ address: vipWithPrefix(inst.vip.vip), dev: inst.vip.interface }],
    };
  });
  return {
    global: { routerId: host.name, scriptUser: 'root', enableScriptSecurity: true },
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

function hostAddresses(h: HostInfo): string[] {
  return [h.address, ...(((h.vars.addresses as string[] | undefined) ?? []))];
}

/** alive.yaml, for keepalived images that read it (seed 002 step 5). */
export function renderAliveYaml(alive: AliveVars): string {
  return '# Managed by lbdeploy: changes here are overwritten.\n' + stringify({ instances: alive.instances }, { lineWidth: 0, indentSeq: true });
}
