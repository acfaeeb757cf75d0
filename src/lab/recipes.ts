/**
 * Image recipes for the lab: what each role's root file system holds.
 * Pure data; the image tag is a hash of the recipe, so a changed recipe means a rebuild
 * and an unchanged one is reused from Docker's image store.
 */
import { createHash } from 'node:crypto';
import { DEBIAN_BASE } from '../image/rootfs.js';
import type { LabRole } from './topology.js';
import { LAB_SUDO_USER, WEB_PORTS } from './topology.js';
import { KUBE_BUILD, type KubeBuild } from './kube-build.js';
import { controlPlaneRecipe } from './control-plane.js';

export interface ImageRecipe {
  role: LabRole;
  suite: string;
  /** Packages every host gets, installed by debootstrap. */
  basePackages: readonly string[];
  /** Packages added for this role with apt-get inside the chroot. */
  rolePackages: readonly string[];
  /** Files written into the root file system (path -> content). */
  files: Readonly<Record<string, string>>;
  /** Shell run in the chroot after the files are written. */
  setup: readonly string[];
  /** systemd units to enable (after setup) and to mask (never start in a container). */
  enable: readonly string[];
  mask: readonly string[];
  /** Kubernetes binaries built from Debian's source package (kube-build.ts), put in /usr/local/bin. */
  kube?: KubeBuild;
}

/** Bump when the build procedure itself (not the data) changes. */
const BUILD_VERSION = 3;


// Units that fail or make no sense inside a container; masked so that
// `systemctl is-system-running` reports "running", not "degraded".
const MASKED_UNITS = [
  'systemd-remount-fs.service', 'sys-kernel-config.mount', 'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount', 'sys-fs-fuse-connections.mount', 'systemd-modules-load.service',
  'systemd-udevd.service', 'systemd-udev-trigger.service', 'getty@tty1.service',
  'console-getty.service', 'systemd-firstboot.service', 'systemd-journald-audit.socket',
  'e2scrub_reap.service', 'apt-daily.timer', 'apt-daily-upgrade.timer',
];

const SSHD_CONFIG = `# lbdeploy lab: key authentication only, host key provided by the lab.
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
MaxStartups 100:30:200
MaxSessions 64
`;

const COMMON_FILES: Record<string, string> = {
  '/etc/ssh/sshd_config.d/lbdeploy-lab.conf': SSHD_CONFIG,
  [`/etc/sudoers.d/${LAB_SUDO_USER}`]: `${LAB_SUDO_USER} ALL=(ALL) NOPASSWD:ALL\n`,
  // Keep the journal small and in memory: ten hosts on one machine.
  '/etc/systemd/journald.conf.d/lbdeploy-lab.conf': '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n',
};

const COMMON_SETUP = [
  `id -u ${LAB_SUDO_USER} >/dev/null 2>&1 || useradd -m -s /bin/bash ${LAB_SUDO_USER}`,
  `chmod 0440 /etc/sudoers.d/${LAB_SUDO_USER}`,
  `install -d -m 0700 /root/.ssh && install -d -m 0700 -o ${LAB_SUDO_USER} -g ${LAB_SUDO_USER} /home/${LAB_SUDO_USER}/.ssh`,
  // Each host gets its own host key from the lab at creation; none is baked into the image.
  'rm -f /etc/ssh/ssh_host_*',
  ': > /etc/machine-id',
];

/** nginx on the web hosts: a page naming the host and the client it saw (seed 000's receiving side). */
export const WEB_NGINX_SITE = `# lbdeploy lab backend: names the host and the client address it saw.
server {
    listen ${WEB_PORTS.plain} default_server;
    listen [::]:${WEB_PORTS.plain} default_server;
    location / {
        default_type text/plain;
        return 200 "host=$hostname port=$server_port client=$remote_addr\\n";
    }
}
server {
    listen ${WEB_PORTS.proxyProtocol} default_server proxy_protocol;
    listen [::]:${WEB_PORTS.proxyProtocol} default_server proxy_protocol;
    location / {
        default_type text/plain;
        return 200 "host=$hostname port=$server_port client=$proxy_protocol_addr peer=$remote_addr\\n";
    }
}
`;

/** The Docker engine inside the LB hosts: vfs storage, bridges outside private ranges. */
export const LB_DOCKER_DAEMON_JSON = JSON.stringify({
  'storage-driver': 'vfs',
  bip: '198.19.200.1/24',
  'default-address-pools': [{ base: '198.19.208.0/20', size: 24 }],
}, null, 2) + '\n';

/** What a role adds to the common image: packages, files, setup, units (ssh.service always). */
interface RoleParts {
  packages: string[];
  mask?: string[];
  kube?: ImageRecipe['kube'];
  files?: Record<string, string>;
  setup?: string[];
  enable?: string[];
}

function roleParts(role: Exclude<LabRole, 'vm'>): RoleParts {
  switch (role) {
    case 'lb':
      // kubectl (Debian's kubernetes-client): the kubeconfig check reads the API through the VIP with
      // it, as on an operator's LB node that has it (without it the check falls back to curl).
      return { packages: ['docker.io', 'kubernetes-client'], files: { '/etc/docker/daemon.json': LB_DOCKER_DAEMON_JSON }, enable: ['docker.service'] };
    case 'web':
      return { packages: ['nginx'], files: { '/etc/nginx/sites-available/default': WEB_NGINX_SITE }, enable: ['nginx.service'] };
    case 'client':
      // h2load (nghttp2-client): the drills' load generator, a fixed rate of requests through the VIPs;
      // kubectl (Debian's kubernetes-client): reads through the VIP with the kubeconfigs lbdeploy distributes.
      return { packages: ['nghttp2-client', 'kubernetes-client'] };
    case 'light':
      // The scale profile's LB hosts: what haproxy-keepalived installs, already there (no apt run on
      // a hundred hosts), and nothing else (no Docker). The playbook enables and configures them.
      return { packages: ['haproxy', 'keepalived', 'socat'] };
    case 'monitor':
      // Debian's prometheus (its unit enabled by the package); the tests write its config and rules.
      return { packages: ['prometheus'], enable: ['prometheus.service'] };
    case 'master':
      // A real control plane (control-plane.ts): etcd and kubectl from Debian, kube-apiserver,
      // controller-manager, scheduler and kubeadm built from Debian's source package. Debian's own
      // etcd unit is masked: the lab runs etcd with the flags kubeadm's manifest gives it.
      return {
        packages: ['etcd-server', 'kubernetes-client'],
        mask: ['etcd.service'],
        kube: KUBE_BUILD,
        files: { '/etc/kubernetes/lab/control-plane.json': controlPlaneRecipe() },
        setup: ['install -d -m 0755 /etc/kubernetes/pki /etc/kubernetes/manifests'],
      };
  }
}

export function recipeFor(role: LabRole): ImageRecipe {
  if (role === 'vm') throw new Error('VM root file systems are built by src/lab/vms.ts, not as container images');
  const r = roleParts(role);
  return {
    role,
    suite: DEBIAN_BASE.suite,
    basePackages: DEBIAN_BASE.basePackages,
    mask: [...MASKED_UNITS, ...(r.mask ?? [])],
    rolePackages: r.packages,
    ...(r.kube ? { kube: r.kube } : {}),
    files: { ...COMMON_FILES, ...r.files },
    setup: [...COMMON_SETUP, ...(r.setup ?? [])],
    enable: ['ssh.service', ...(r.enable ?? [])],
  };
}

/** A stable hash of everything that shapes the image. */
export function recipeHash(recipe: ImageRecipe): string {
  const canonical = JSON.stringify({ v: BUILD_VERSION, ...recipe, files: Object.entries(recipe.files).sort() });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export function labImageTag(recipe: ImageRecipe): string {
  return `lbdeploy-lab-${recipe.role}:${recipeHash(recipe)}`;
}
