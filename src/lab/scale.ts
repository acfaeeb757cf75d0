/**
 * The lab's scale profile (`lab up --scale N`): N light LB hosts in clusters of two on their own
 * network, the backends and the client joined to it, the kernel limits that many systemd
 * containers need (put back at `lab down`), and an inventory for the fleet.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from '../shell-local.js';
import { mapLimit } from '../util/limit.js';
import { LabError } from '../errors.js';
import type { LabPaths } from './paths.js';
import { ensureHost, ensureNetwork, removeContainers, removeNetworks } from './hosts.js';
import type { Log } from './system.js';
import { LAB_LABEL, SCALE_MAX, SCALE_NETWORK, containerName, scaleClusters, scaleHosts, scalePeers } from './topology.js';

/** inotify: past about 12 systemd containers new ones exit at start with the defaults (128 instances). */
const KERNEL_LIMITS: Record<string, number> = { 'fs.inotify.max_user_instances': 8192, 'fs.inotify.max_user_watches': 1048576 };

const savedLimits = (paths: LabPaths) => join(paths.dir, 'sysctl-saved.json');
const stateFile = (paths: LabPaths) => join(paths.dir, 'scale');
export const scaleInventoryPath = (paths: LabPaths) => join(paths.dir, 'scale.yaml');

export function parseScale(text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 0 || n > SCALE_MAX || n % 2 !== 0) {
    throw new LabError(`--scale takes an even number of LB hosts from 2 to ${SCALE_MAX} (clusters of two), or 0 to remove them, not '${text ?? ''}'`);
  }
  return n;
}

/** How many scale hosts the lab runs (0: none). */
export function scaleState(paths: LabPaths): number {
  return existsSync(stateFile(paths)) ? Number(readFileSync(stateFile(paths), 'utf8').trim()) || 0 : 0;
}

/** Raise the limits, keeping the values found the first time so `lab down` puts them back. */
export async function raiseKernelLimits(paths: LabPaths, log: Log): Promise<void> {
  const now: Record<string, number> = {};
  for (const key of Object.keys(KERNEL_LIMITS)) now[key] = Number((await $`sysctl -n ${key}`.quiet()).stdout.trim());
  if (!existsSync(savedLimits(paths))) writeFileSync(savedLimits(paths), JSON.stringify(now) + '\n');
  for (const [key, want] of Object.entries(KERNEL_LIMITS)) {
    if (now[key]! >= want) continue;
    log(`raising ${key} from ${now[key]} to ${want} (put back at lab down)`);
    await $`sysctl -q -w ${`${key}=${want}`}`.quiet();
  }
}

export async function restoreKernelLimits(paths: LabPaths, log: Log): Promise<void> {
  if (!existsSync(savedLimits(paths))) return;
  const saved = JSON.parse(readFileSync(savedLimits(paths), 'utf8')) as Record<string, number>;
  for (const [key, value] of Object.entries(saved)) {
    if (!(key in KERNEL_LIMITS) || !Number.isInteger(value)) continue;
    const now = Number((await $`sysctl -n ${key}`.quiet()).stdout.trim());
    if (now === value) continue;
    log(`putting ${key} back to ${value}`);
    await $`sysctl -q -w ${`${key}=${value}`}`.quiet();
  }
}

/**
 * The scale hosts' haproxy check interval. Fifty LB nodes share the lab's two cores: a check every
 * second on each (a process forked by keepalived) is fifty processes a second, and on a machine that
 * loaded the checks outlast their 1 s timeout, the nodes flap and the flapping loads it more. The
 * profile measures the engine over many hosts, not failover speed (the main lab and the VMs do).
 */
export const SCALE_CHECK_INTERVAL_S = 3;

/** The fleet inventory for N scale hosts: haproxy-keepalived, one group (VIP, VRID) per cluster. */
export function scaleInventory(n: number, paths: Pick<LabPaths, 'clientKey' | 'knownHosts'>): string {
  const hosts = scaleHosts(n);
  const peers = scalePeers();
  const lines = [
    `# The lab's scale profile: ${n} light LB hosts in ${n / 2} clusters of two (lbdeploy lab up --scale ${n}).`,
    `# haproxy is checked every ${SCALE_CHECK_INTERVAL_S} s, not every second: ${n} nodes share the machine's cores.`,
    '# Each cluster holds its own VIP (198.18.6.K) with its own VRID K; the backends and the client',
    '# are the lab\'s web1..web3 and client, on the scale network (198.18.5.x). Written by lab up.',
    'playbook: haproxy-keepalived',
    'vars:',
    '  haproxy:',
    '    services:',
    '      - { name: web, port: 80, backend_group: web, backend_port: 80, verify_http: true }',
    '  verify_from: client',
    // Absolute paths: a copy of this file (a test's, the bench's) works from anywhere.
    `connection: { user: root, private_key: ${JSON.stringify(paths.clientKey)}, known_hosts: ${JSON.stringify(paths.knownHosts)}, host_key_checking: strict }`,
    'groups:',
    '  lb:',
    '    hosts:',
    ...hosts.map((h) => `      ${h.name}: { address: ${h.address} }`),
    ...scaleClusters(n).flatMap((c) => [
      `  ${c.name}:`,
      `    vars: { keepalived: { interface: eth0, check_interval: ${SCALE_CHECK_INTERVAL_S}, instances: [{ name: VI_${c.name}, vip: ${c.vip}/22, virtual_router_id: ${c.vrid}, auth_pass: !secret fleet${c.vrid} }] } }`,
      `    hosts: { ${c.hosts.map((h) => `${h.name}:`).join(', ')} }`,
    ]),
    '  web:',
    '    hosts:',
    ...peers.filter((p) => p.role === 'web').map((p) => `      ${p.name}: { address: ${p.scaleAddress} }`),
    '  clients:',
    '    hosts:',
    ...peers.filter((p) => p.role === 'client').map((p) => `      ${p.name}: { address: ${p.scaleAddress} }`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * Start (or keep) N scale hosts, remove any beyond N, join the peers to the scale network and
 * write the fleet inventory. The images and keys exist already (lab up made them).
 */
export async function scaleUp(paths: LabPaths, n: number, image: string, log: Log): Promise<void> {
  await ensureNetwork(log, SCALE_NETWORK);
  await removeBeyond(n, log);
  for (const p of scalePeers()) {
    const nets = (await $`docker inspect ${containerName(p)} --format ${'{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}'}`.quiet()).stdout;
    if (!nets.split(/\s+/).includes(SCALE_NETWORK.name)) {
      await $`docker network connect --ip ${p.scaleAddress} --ip6 ${p.scaleAddress6} ${SCALE_NETWORK.name} ${containerName(p)}`.quiet();
    }
  }
  const t0 = Date.now();
  let created = 0;
  // A few at a time: each is a docker create, a copy of its keys and a start.
  await mapLimit(scaleHosts(n), 6, async (h) => {
    if ((await ensureHost(paths, h, image, SCALE_NETWORK)) !== 'running') created++;
  });
  if (created > 0) log(`${created} scale host(s) started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  writeFileSync(stateFile(paths), `${n}\n`);
  writeFileSync(scaleInventoryPath(paths), scaleInventory(n, paths));
  log(`the fleet's inventory: ${scaleInventoryPath(paths)}`);
}

/** `lab up --scale 0`: the scale hosts, the peers' second address and the scale network gone; the main lab stays. */
export async function scaleDown(paths: LabPaths, log: Log): Promise<void> {
  await removeBeyond(0, log);
  for (const p of scalePeers()) await $`docker network disconnect ${SCALE_NETWORK.name} ${containerName(p)}`.nothrow().quiet();
  const exists = (await $`docker network inspect ${SCALE_NETWORK.name}`.nothrow().quiet()).exitCode === 0;
  if (exists) {
    try {
      await removeNetworks([SCALE_NETWORK.name]);
    } catch (e) {
      // Docker's stale-endpoint bug: harmless here (an empty network); `lab down` clears it.
      log(`${(e as Error).message}: left for lab down`);
    }
  }
  rmSync(stateFile(paths), { force: true });
  rmSync(scaleInventoryPath(paths), { force: true });
}

/**
 * Remove the scale hosts beyond the first n. `lab up` without a scale state calls it with 0: an
 * interrupted run can leave scale hosts in Docker's own store, and with `--restart unless-stopped`
 * they start again with the daemon, fifty systemd hosts loading the machine the lab comes up on.
 */
export async function removeBeyond(n: number, log: Log): Promise<void> {
  const wanted = new Set(scaleHosts(n).map(containerName));
  const existing = (await $`docker ps -a --filter ${`label=${LAB_LABEL}.role=light`} --format ${'{{.Names}}'}`.quiet()).stdout.split('\n').filter(Boolean);
  const extra = existing.filter((c) => !wanted.has(c));
  if (extra.length > 0) {
    log(`removing ${extra.length} scale host(s) beyond ${n}`);
    await removeContainers(extra);
  }
}
