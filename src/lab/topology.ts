/**
 * The lab's fixed shape: one dual-stack Docker network, 198.18.0.0/24 and 2001:2::/64 (inside the
 * IPv6 benchmarking prefix 2001:2::/48, RFC 5180), and the hosts on it.
 */

export type LabRole = 'lb' | 'web' | 'client' | 'master' | 'monitor' | 'vm' | 'light';

export interface LabHost {
  name: string;
  role: LabRole;
  address: string;
  /** Its IPv6 address: the same last number in 2001:2::/64 (198.18.0.11 -> 2001:2::11). */
  address6: string;
}

export const LAB_NETWORK = {
  name: 'lbdeploy-lab',
  subnet: '198.18.0.0/24',
  gateway: '198.18.0.1',
  subnet6: '2001:2::/64',
  gateway6: '2001:2::1',
} as const;

/** The IPv6 twin of a lab address: 198.18.0.N -> 2001:2::N (N written as is, so it reads the same). */
export function labAddress6(address: string): string {
  return `2001:2::${address.split('.')[3]}`;
}

const host = (name: string, role: LabRole, address: string): LabHost => ({ name, role, address, address6: labAddress6(address) });

/** Label put on every container and network the lab creates, so `lab down` finds exactly those. */
export const LAB_LABEL = 'io.lbdeploy.lab';

/** The outer Docker daemon's own bridges, when the lab has to start one. Outside private ranges. */
export const LAB_DOCKERD_ARGS = [
  '--bip', '198.19.0.1/24',
  '--default-address-pool', 'base=198.19.64.0/18,size=24',
] as const;

export const LAB_HOSTS: readonly LabHost[] = [
  host('lb1', 'lb', '198.18.0.11'),
  host('lb2', 'lb', '198.18.0.12'),
  host('lb3', 'lb', '198.18.0.13'),
  // A fourth LB host: two clusters of two side by side (inventory/lab-fleet.yaml).
  host('lb4', 'lb', '198.18.0.14'),
  host('web1', 'web', '198.18.0.21'),
  host('web2', 'web', '198.18.0.22'),
  host('web3', 'web', '198.18.0.23'),
  host('client', 'client', '198.18.0.30'),
  // Kubernetes control-plane stand-ins: real TLS client-certificate auth on 6443 (see recipes).
  host('master1', 'master', '198.18.0.41'),
  host('master2', 'master', '198.18.0.42'),
  host('master3', 'master', '198.18.0.43'),
  // Monitoring: Debian's prometheus, scraping `lbdeploy audit --serve` on the lab's gateway address.
  host('mon', 'monitor', '198.18.0.60'),
];

/**
 * The VM tier (`lab up --vms`): LB nodes as qemu virtual machines with Debian's own kernel, for what
 * containers sharing this machine's kernel cannot do: IPVS, loadable modules, sysctl, reboot.
 */
export const LAB_VMS: readonly LabHost[] = [
  host('lbvm1', 'vm', '198.18.0.51'),
  host('lbvm2', 'vm', '198.18.0.52'),
];

/** Ports the web hosts serve on: one plain, one that expects a PROXY protocol (v1 or v2) header. */
/** The VIP inventory/lab.yaml gives lb1..lb3: seed 001's control-plane endpoint (VIP:6443) too. */
export const LAB_VIP = '198.18.0.100';
export const LAB_VIP6 = '2001:2::100';

export const WEB_PORTS = { plain: 80, proxyProtocol: 8080 } as const;

/** The unprivileged account on every host, with passwordless sudo, for `become` tests. */
export const LAB_SUDO_USER = 'deploy';

export function containerName(host: LabHost): string {
  return `${LAB_NETWORK.name}-${host.name}`;
}

/**
 * The scale profile (`lab up --scale N`): N light LB hosts (haproxy and keepalived, no Docker) on
 * a network of their own, in clusters of two, each cluster its own VIP and VRID; the usual
 * backends and the client join that network too. 198.18.4.0/22: hosts in .4, peers in .5, VIPs in .6.
 */
export const SCALE_NETWORK = {
  name: 'lbdeploy-scale',
  subnet: '198.18.4.0/22',
  gateway: '198.18.4.1',
  subnet6: '2001:2:0:4::/64',
  gateway6: '2001:2:0:4::1',
} as const;

export const SCALE_MAX = 100;

const scale6 = (address: string) => `2001:2:0:4::${address.split('.').slice(2).join(':')}`;

/** f001..fNNN at 198.18.4.11.. (2001:2:0:4::4:11..). */
export function scaleHosts(n: number): LabHost[] {
  return Array.from({ length: n }, (_, i) => {
    const address = `198.18.4.${11 + i}`;
    return { name: `f${String(i + 1).padStart(3, '0')}`, role: 'light' as const, address, address6: scale6(address) };
  });
}

/** The main lab's hosts that join the scale network (the backends and the client), and their address there. */
export function scalePeers(): (LabHost & { scaleAddress: string; scaleAddress6: string })[] {
  return LAB_HOSTS.filter((h) => h.role === 'web' || h.role === 'client').map((h) => {
    const scaleAddress = `198.18.5.${h.address.split('.')[3]}`;
    return { ...h, scaleAddress, scaleAddress6: scale6(scaleAddress) };
  });
}

/** Cluster k (1-based) of the scale profile: its two hosts, its VIP and VRID. */
export function scaleClusters(n: number): { name: string; hosts: LabHost[]; vip: string; vrid: number }[] {
  const hosts = scaleHosts(n);
  return Array.from({ length: Math.floor(n / 2) }, (_, i) => ({
    name: `c${String(i + 1).padStart(2, '0')}`, hosts: hosts.slice(2 * i, 2 * i + 2), vip: `198.18.6.${i + 1}`, vrid: i + 1,
  }));
}
