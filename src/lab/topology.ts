/** The lab's fixed shape: one Docker network in 198.18.0.0/24 and the hosts on it. */

export type LabRole = 'lb' | 'web' | 'client' | 'master' | 'vm';

export interface LabHost {
  name: string;
  role: LabRole;
  address: string;
}

export const LAB_NETWORK = {
  name: 'lbdeploy-lab',
  subnet: '198.18.0.0/24',
  gateway: '198.18.0.1',
} as const;

/** Label put on every container and network the lab creates, so `lab down` finds exactly those. */
export const LAB_LABEL = 'io.lbdeploy.lab';

/** The outer Docker daemon's own bridges, when the lab has to start one. Outside private ranges. */
export const LAB_DOCKERD_ARGS = [
  '--bip', '198.19.0.1/24',
  '--default-address-pool', 'base=198.19.64.0/18,size=24',
] as const;

export const LAB_HOSTS: readonly LabHost[] = [
  { name: 'lb1', role: 'lb', address: '198.18.0.11' },
  { name: 'lb2', role: 'lb', address: '198.18.0.12' },
  { name: 'lb3', role: 'lb', address: '198.18.0.13' },
  // A fourth LB host: two clusters of two side by side (inventory/lab-fleet.yaml).
  { name: 'lb4', role: 'lb', address: '198.18.0.14' },
  { name: 'web1', role: 'web', address: '198.18.0.21' },
  { name: 'web2', role: 'web', address: '198.18.0.22' },
  { name: 'web3', role: 'web', address: '198.18.0.23' },
  { name: 'client', role: 'client', address: '198.18.0.30' },
  // Kubernetes control-plane stand-ins: real TLS client-certificate auth on 6443 (see recipes).
  { name: 'master1', role: 'master', address: '198.18.0.41' },
  { name: 'master2', role: 'master', address: '198.18.0.42' },
  { name: 'master3', role: 'master', address: '198.18.0.43' },
];

/**
 * The VM tier (`lab up --vms`): LB nodes as qemu virtual machines with Debian's own kernel, for what
 * containers sharing this machine's kernel cannot do: IPVS, loadable modules, sysctl, reboot.
 */
export const LAB_VMS: readonly LabHost[] = [
  { name: 'lbvm1', role: 'vm', address: '198.18.0.51' },
  { name: 'lbvm2', role: 'vm', address: '198.18.0.52' },
];

/** Ports the web hosts serve on: one plain, one that expects a PROXY protocol (v1 or v2) header. */
export const WEB_PORTS = { plain: 80, proxyProtocol: 8080 } as const;

/** The unprivileged account on every host, with passwordless sudo, for `become` tests. */
export const LAB_SUDO_USER = 'deploy';

export function containerName(host: LabHost): string {
  return `${LAB_NETWORK.name}-${host.name}`;
}
