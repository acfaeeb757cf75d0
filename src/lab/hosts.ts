/** Lab hosts as containers: keys, create/start, known_hosts. */
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { $ } from '../shell-local.js';
import { LAB_HOSTS, LAB_LABEL, LAB_NETWORK, LAB_SUDO_USER, containerName, type LabHost, type LabRole } from './topology.js';
import type { LabPaths } from './paths.js';
import { LabError, type Log } from './system.js';
import { LabPki } from './pki.js';

/** Flags that give a container systemd as PID 1 on this sandbox (LAB-NOTES: --privileged fails). */
const SYSTEMD_FLAGS = [
  '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE',
  '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
  // /proc/sys writable, so sysctl deployments can be tested for real.
  '--security-opt', 'systempaths=unconfined',
  '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--tmpfs', '/run', '--tmpfs', '/run/lock',
  // systemd as PID 1 shuts down cleanly on this signal.
  '--stop-signal', 'SIGRTMIN+3',
  // `systemctl reboot` inside ends the container; Docker starts it again, as a machine reboots.
  '--restart', 'unless-stopped',
  // Docker turns IPv6 off inside containers by default; the lab network is dual stack.
  '--sysctl', 'net.ipv6.conf.all.disable_ipv6=0', '--sysctl', 'net.ipv6.conf.default.disable_ipv6=0',
];

export interface LabNetwork {
  name: string;
  subnet: string;
  gateway: string;
  subnet6: string;
  gateway6: string;
}

export async function ensureNetwork(log: Log, net: LabNetwork = LAB_NETWORK): Promise<void> {
  const want = `${net.subnet} ${net.subnet6}`;
  const r = await $`docker network inspect ${net.name} --format ${'{{range .IPAM.Config}}{{.Subnet}} {{end}}'}`.nothrow().quiet();
  if (r.exitCode === 0) {
    const have = r.stdout.trim().split(/\s+/).sort().join(' ');
    if (have !== want.split(' ').sort().join(' ')) {
      throw new LabError(`Docker network ${net.name} exists with subnets ${have || 'none'}, not ${want} (the lab is dual stack)`,
      { hint: `remove it with 'docker network rm ${net.name}' (or 'lbdeploy lab down') and run 'lab up' again` });
    }
    return;
  }
  log(`creating network ${net.name} ${want}`);
  await $`docker network create --ipv6 --subnet ${net.subnet} --gateway ${net.gateway} --subnet ${net.subnet6} --gateway ${net.gateway6} --label ${LAB_LABEL}=1 ${net.name}`.quiet();
}

/** The lab's client key pair and one ed25519 host key per host, generated once. */
export async function ensureKeys(paths: LabPaths, hosts: readonly LabHost[]): Promise<void> {
  mkdirSync(paths.hostKeys, { recursive: true, mode: 0o700 });
  if (!existsSync(paths.clientKey)) {
    await $`ssh-keygen -q -t ed25519 -N ${''} -C ${'lbdeploy-lab'} -f ${paths.clientKey}`.quiet();
  }
  for (const h of hosts) {
    const key = hostKeyPath(paths, h);
    if (!existsSync(key)) await $`ssh-keygen -q -t ed25519 -N ${''} -C ${h.name} -f ${key}`.quiet();
  }
}

function hostKeyPath(paths: LabPaths, h: LabHost): string {
  return join(paths.hostKeys, `${h.name}_ssh_host_ed25519_key`);
}

/**
 * The known_hosts file: written from the keys the lab generated itself, so the very first
 * connection is verified (no trust-on-first-use).
 */
export function writeKnownHosts(paths: LabPaths, hosts: readonly LabHost[], extra: ReadonlyMap<string, readonly string[]> = new Map()): void {
  const lines = hosts.map((h) => {
    const [type, b64] = readFileSync(hostKeyPath(paths, h) + '.pub', 'utf8').trim().split(/\s+/);
    return `${[h.address, h.address6, ...(extra.get(h.name) ?? []), h.name].join(',')} ${type} ${b64}`;
  });
  writeFileSync(paths.knownHosts, lines.join('\n') + '\n');
}

interface ContainerState {
  running: boolean;
  image: string;
  keys: string;
}

const KEYS_LABEL = `${LAB_LABEL}.keys`;

async function inspect(name: string): Promise<ContainerState | undefined> {
  const format = `{{.State.Running}} {{.Config.Image}} {{index .Config.Labels "${KEYS_LABEL}"}}`;
  const r = await $`docker inspect ${name} --format ${format}`.nothrow().quiet();
  if (r.exitCode !== 0) return undefined;
  const [running, image, keys] = r.stdout.trim().split(' ');
  return { running: running === 'true', image: image ?? '', keys: keys ?? '' };
}

/**
 * A fingerprint of the keys installed in a host (and of its container flags). Another checkout
 * (another state folder) has other keys: its `lab up` then recreates the hosts instead of failing to log in.
 */
function keysFingerprint(paths: LabPaths, h: LabHost): string {
  const ca = (h.role === 'master' || h.role === 'client') && existsSync(join(paths.pki, 'ca.crt')) ? readFileSync(join(paths.pki, 'ca.crt'), 'utf8') : '';
  const material = readFileSync(paths.clientKey + '.pub', 'utf8') + readFileSync(hostKeyPath(paths, h) + '.pub', 'utf8') + ca + SYSTEMD_FLAGS.join(' ');
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}

/** Create or start one host's container; recreate it when its image or keys changed. Returns what it did. */
export async function ensureHost(paths: LabPaths, h: LabHost, image: string, net: LabNetwork = LAB_NETWORK): Promise<'created' | 'started' | 'running'> {
  const name = containerName(h);
  const state = await inspect(name);
  const keys = keysFingerprint(paths, h);
  if (state && state.image === image && state.keys === keys) {
    if (state.running) return 'running';
    await $`docker start ${name}`.quiet();
    return 'started';
  }
  if (state) await $`docker rm -f ${name}`.quiet();
  const args = [
    ...SYSTEMD_FLAGS, '--name', name, '--hostname', h.name,
    '--label', `${LAB_LABEL}=1`, '--label', `${LAB_LABEL}.role=${h.role}`, '--label', `${KEYS_LABEL}=${keys}`,
    '--network', net.name, '--ip', h.address, '--ip6', h.address6, '--network-alias', h.name,
  ];
  await $`docker create ${args} ${image}`.quiet();
  await installKeys(paths, h, name);
  await $`docker start ${name}`.quiet();
  return 'created';
}

/** Copy the host key, the lab's authorized key and role files into a created (not yet started) container. */
async function installKeys(paths: LabPaths, h: LabHost, name: string): Promise<void> {
  const stage = join(paths.dir, 'stage', h.name);
  rmSync(stage, { recursive: true, force: true });
  const pub = readFileSync(paths.clientKey + '.pub', 'utf8');
  const files: [string, string, number][] = [
    ['etc/ssh/ssh_host_ed25519_key', readFileSync(hostKeyPath(paths, h), 'utf8'), 0o600],
    ['etc/ssh/ssh_host_ed25519_key.pub', readFileSync(hostKeyPath(paths, h) + '.pub', 'utf8'), 0o644],
    ['root/.ssh/authorized_keys', pub, 0o600],
    [`home/${LAB_SUDO_USER}/.ssh/authorized_keys`, pub, 0o644],
    ...(h.role === 'master' ? await masterFiles(paths) : []),
    // The client checks the API servers' certificates through the VIP (verify_tls, kubectl) against the cluster CA.
    ...(h.role === 'client' ? (await masterFiles(paths)).filter(([path]) => path.endsWith('ca.crt')) : []),
  ];
  for (const [rel, content, mode] of files) {
    const target = join(stage, rel);
    mkdirSync(join(target, '..'), { recursive: true });
    writeFileSync(target, content, { mode });
  }
  // docker cp creates files as root: fine for sshd's StrictModes, also for the deploy user.
  await $`docker cp ${stage + '/.'} ${name + ':/'}`.quiet();
  rmSync(stage, { recursive: true, force: true });
}

/** A master's cluster CA: kubeadm's phases (control-plane.ts) make everything else from it. */
async function masterFiles(paths: LabPaths): Promise<[string, string, number][]> {
  const pki = new LabPki(paths.pki);
  await pki.ensureCa();
  return [
    ['etc/kubernetes/pki/ca.crt', pki.read('ca.crt'), 0o644],
    ['etc/kubernetes/pki/ca.key', pki.read('ca.key'), 0o600],
  ];
}

/** Containers and networks carrying the lab label (and the lab network, whoever made it). */
export async function labObjects(): Promise<{ containers: string[]; networks: string[] }> {
  const lines = async (p: Promise<{ stdout: string }>) => (await p).stdout.split('\n').filter(Boolean);
  const containers = await lines($`docker ps -aq --filter label=${LAB_LABEL}`.quiet());
  const networks = await lines($`docker network ls -q --filter label=${LAB_LABEL}`.quiet());
  return { containers, networks };
}

/**
 * Remove networks, retrying for a while: right after `docker rm -f` of many containers the daemon
 * may still be releasing their endpoints ("has active endpoints").
 */
export async function removeNetworks(networks: readonly string[]): Promise<void> {
  let left = [...networks];
  for (let attempt = 0; left.length > 0; attempt++) {
    const failed: string[] = [];
    let last = '';
    for (const n of left) {
      const r = await $`docker network rm ${n}`.nothrow().quiet();
      if (r.exitCode !== 0 && !/not found|No such network/i.test(r.stderr)) {
        failed.push(n);
        last = r.stderr.trim();
      }
    }
    left = failed;
    if (left.length === 0) return;
    if (attempt >= 15) throw new LabError(`could not remove network(s) ${left.join(', ')}: ${last}`, { hint: `look with 'docker network inspect ${left[0]}'` });
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/**
 * `docker rm -f`, retried: on a loaded machine the daemon can give up on a systemd container
 * ("tried to kill container, but did not receive an exit event") and succeed a few seconds later.
 */
export async function removeContainers(containers: readonly string[]): Promise<void> {
  let left = [...containers];
  for (let attempt = 1; ; attempt++) {
    const r = await $`docker rm -f -v ${left}`.nothrow().quiet();
    if (r.exitCode === 0) return;
    left = (await labObjects()).containers.filter((c) => left.some((l) => c.startsWith(l) || l.startsWith(c)));
    if (left.length === 0) return;
    if (attempt >= 5) throw new LabError(`could not remove ${left.length} lab container(s): ${r.stderr.trim().split('\n')[0]}`, { hint: `look with 'docker ps -a --filter label=${LAB_LABEL}'` });
    await new Promise((res) => setTimeout(res, 3000 * attempt));
  }
}

/** Remove every lab container and network, then check that none is left. */
export async function removeAll(log: Log): Promise<void> {
  const { containers, networks } = await labObjects();
  if (containers.length > 0) {
    log(`removing ${containers.length} lab container(s)`);
    await removeContainers(containers);
  }
  if (networks.length > 0) {
    log(`removing the lab's network(s)`);
    await removeNetworks(networks);
  }
  const left = await labObjects();
  if (left.containers.length + left.networks.length > 0) {
    throw new LabError(`lab down left ${left.containers.length} container(s) and ${left.networks.length} network(s) behind`, {
      hint: `look with 'docker ps -a --filter label=${LAB_LABEL}' and remove them by hand`,
    });
  }
}

export function hostsOfRoles(roles?: readonly LabRole[]): readonly LabHost[] {
  return roles ? LAB_HOSTS.filter((h) => roles.includes(h.role)) : LAB_HOSTS;
}

export async function containerRunning(h: LabHost): Promise<boolean> {
  return (await inspect(containerName(h)))?.running ?? false;
}
