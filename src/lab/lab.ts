/** `lbdeploy lab up | down | status`: the local multi-host lab every end-to-end test uses. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connectSsh } from '../connection/ssh.js';
import { sh } from '../connection/shell.js';
import { labPaths, type LabPaths } from './paths.js';
import { assertCanRunLab, dockerAnswers, ensureDockerd, ensurePackages, sleep, stopOwnDockerd, type Log } from './system.js';
import { cleanBuildLeftovers, ensureImages } from './images.js';
import { containerRunning, ensureHost, ensureKeys, ensureNetwork, removeAll, writeKnownHosts } from './hosts.js';
import { LAB_HOSTS, LAB_VMS, containerName, scaleHosts, scalePeers, type LabHost, type LabRole } from './topology.js';
import { raiseKernelLimits, removeBeyond, restoreKernelLimits, scaleDown, scaleState, scaleUp } from './scale.js';
import { mapLimit } from '../util/limit.js';
import { ensureVm, ensureVmImage, stopVms, vmPid } from './vms.js';
import { startAptProxy, stopAptProxy } from './apt-proxy.js';
import { ensureKeepalivedImage } from './keepalived-image.js';
import { LabError } from '../errors.js';
import { CONTROL_PLANE_ENDPOINT, clearFailedComponents, ensureControlPlane } from './control-plane.js';
import { adminKubeconfig, LabPki, type Validity } from './pki.js';
import { $ } from '../shell-local.js';

export interface HostStatus {
  name: string;
  role: LabRole;
  address: string;
  container: string;
  running: boolean;
  ssh: boolean;
  /** `systemctl is-system-running` on the host, when SSH answered. */
  system?: string;
  error?: string;
}

export interface LabUpOptions {
  /** Also start the VM tier (lbvm1, lbvm2): real kernels for IPVS, modules, sysctl. */
  vms?: boolean;
  /** Also the scale profile: this many light LB hosts in clusters of two (scale.ts). */
  scale?: number;
}

export async function labUp(log: Log, paths: LabPaths = labPaths(), options: LabUpOptions = {}): Promise<HostStatus[]> {
  assertCanRunLab();
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  await ensurePackages(log, options.vms ? [{ command: 'qemu-system-x86_64', pkg: 'qemu-system-x86' }, { command: 'mkfs.ext4', pkg: 'e2fsprogs' }] : []);
  await ensureDockerd(paths, log);
  await cleanBuildLeftovers(paths.buildDir);
  const scale = options.scale ?? scaleState(paths);
  if (scale > 0) await raiseKernelLimits(paths, log);
  const roles = [...new Set(LAB_HOSTS.map((h) => h.role)), ...(scale > 0 ? ['light' as const] : [])];
  const images = await ensureImages(roles, paths.buildDir, log);
  await ensureNetwork(log);
  // Scale hosts this lab has no state for (an interrupted run's), before they load the machine.
  if (scale === 0) await removeBeyond(0, log);
  const scaled = scaleHosts(scale);
  await ensureKeys(paths, [...LAB_HOSTS, ...LAB_VMS, ...scaled]);
  await new LabPki(paths.pki).ensureCa();
  // The backends and the client answer on the scale network too, with the same host keys.
  const peers = new Map(scale > 0 ? scalePeers().map((p) => [p.name, [p.scaleAddress, p.scaleAddress6]] as const) : []);
  writeKnownHosts(paths, [...LAB_HOSTS, ...LAB_VMS, ...scaled], peers);
  for (const h of LAB_HOSTS) {
    const did = await ensureHost(paths, h, images.get(h.role)!);
    if (did !== 'running') log(`${h.name} ${h.address}: ${did}`);
  }
  if (scale > 0) await scaleUp(paths, scale, images.get('light')!, log);
  else if (options.scale === 0) await scaleDown(paths, log);
  if (options.vms) {
    await startAptProxy(paths, log);
    const image = await ensureVmImage(paths.buildDir, log);
    const pub = readFileSync(paths.clientKey + '.pub', 'utf8');
    for (const vm of LAB_VMS) await ensureVm(paths, vm, image, `${paths.hostKeys}/${vm.name}_ssh_host_ed25519_key`, pub, log);
    // Seed 002's keepalived container, as an archive for the air-gapped path (upload + docker load).
    await ensureKeepalivedImage(paths, log);
  }
  await clearFailedComponents();
  // VMs boot under software emulation: give them longer.
  const statuses = await waitForHosts(paths, options.vms ? 300_000 : 120_000 + scale * 2000);
  const bad = statuses.filter((s) => !s.ssh || s.system !== 'running');
  if (bad.length > 0) {
    throw new LabError(`lab hosts not ready: ${bad.map((s) => `${s.name} (${s.error ?? s.system})`).join(', ')}`, {
      hint: `inspect with 'docker logs ${containerName(LAB_HOSTS[0]!)}' or 'docker exec -it <container> systemctl --failed'`,
    });
  }
  await ensureControlPlane(log);
  writeFileSync(`${paths.dir}/up`, new Date().toISOString() + '\n');
  return statuses;
}

/**
 * Poll until every host answers SSH and systemd has finished starting (or the time is up). A host
 * that has settled is not asked again: with fifty scale hosts booting on two cores, a handshake
 * more per host per second is load the slow ones wait behind.
 */
async function waitForHosts(paths: LabPaths, timeoutMs: number): Promise<HostStatus[]> {
  const deadline = Date.now() + timeoutMs;
  const settled = (s: HostStatus) => s.ssh && s.system !== 'starting' && s.system !== 'initializing';
  const done = new Map<string, HostStatus>();
  for (;;) {
    const all = labHosts(paths);
    // Patient handshakes here: a host still booting among fifty answers slowly, not never.
    const asked = await mapLimit(all.filter((h) => !done.has(h.name)), 20, (h) => hostStatus(paths, h, 15_000));
    for (const s of asked) if (settled(s) || Date.now() > deadline) done.set(s.name, s);
    if (done.size === all.length) return all.map((h) => done.get(h.name)!);
    await sleep(1000);
  }
}

/** Every lab host: the containers, the VMs that were started, the scale hosts. */
function labHosts(paths: LabPaths): LabHost[] {
  const vms = LAB_VMS.filter((v) => existsSync(`${paths.vms}/${v.name}.pid`));
  return [...LAB_HOSTS, ...vms, ...scaleHosts(scaleState(paths))];
}

/** The containers, and the VMs that were started. */
export async function labStatus(paths: LabPaths = labPaths()): Promise<HostStatus[]> {
  // At most 20 SSH handshakes at once: the scale profile has up to a hundred more hosts.
  return mapLimit(labHosts(paths), 20, (h) => hostStatus(paths, h));
}

async function hostStatus(paths: LabPaths, h: LabHost, connectTimeoutMs = 5000): Promise<HostStatus> {
  const base = { name: h.name, role: h.role, address: h.address, container: h.role === 'vm' ? `qemu ${vmPid(paths, h) ?? '-'}` : containerName(h) };
  const running = h.role === 'vm' ? vmPid(paths, h) !== undefined : await containerRunning(h).catch(() => false);
  if (!running) return { ...base, running, ssh: false, error: 'container not running' };
  try {
    const conn = await connectSsh({
      name: h.name, address: h.address, user: 'root', privateKeyPath: paths.clientKey,
      knownHostsPath: paths.knownHosts, hostKeyPolicy: 'strict', connectTimeoutMs,
    });
    try {
      const r = await conn.exec(sh`systemctl is-system-running`, { timeoutMs: 10_000 });
      return { ...base, running, ssh: true, system: r.stdout.trim() };
    } finally {
      await conn.close();
    }
  } catch (e) {
    return { ...base, running, ssh: false, error: (e as Error).message };
  }
}

export async function labDown(log: Log, paths: LabPaths = labPaths()): Promise<void> {
  assertCanRunLab();
  await stopVms(paths, LAB_VMS, log);
  await stopAptProxy(paths, log);
  if (await dockerAnswers()) {
    try {
      await removeAll(log);
    } catch (e) {
      // A known Docker bug: after many containers go at once, a network may keep an endpoint of a
      // container that no longer exists ("has active endpoints"). Restarting the daemon clears it;
      // only a daemon the lab started is restarted.
      if (!(e instanceof LabError) || !/active endpoints/.test(e.message) || !existsSync(paths.dockerdPid)) throw e;
      log('a network kept an endpoint of a removed container (a Docker bug): restarting the lab\'s dockerd to clear it');
      await stopOwnDockerd(paths, log);
      await ensureDockerd(paths, log);
      await removeAll(log);
    }
  }
  await stopOwnDockerd(paths, log);
  await restoreKernelLimits(paths, log);
  if (existsSync(paths.dir)) rmSync(paths.dir, { recursive: true, force: true });
}

/**
 * Re-issue the admin client certificate (a cluster's certificate renewal) and write the new
 * /etc/kubernetes/admin.conf on every master. Returns the new certificate's notAfter.
 */
export async function labRenewCerts(v: Validity, log: Log, paths: LabPaths = labPaths()): Promise<string> {
  assertCanRunLab();
  const pki = new LabPki(paths.pki);
  const [crt, key] = await pki.adminCert(v);
  const masters = LAB_HOSTS.filter((h) => h.role === 'master');
  for (const m of masters) {
    const stage = `${paths.dir}/stage-${m.name}-admin.conf`;
    // As kubeadm writes it: the server is the control-plane endpoint (the VIP).
    writeFileSync(stage, adminKubeconfig(`https://${CONTROL_PLANE_ENDPOINT}`, pki.read('ca.crt'), crt, key), { mode: 0o600 });
    try {
      await $`docker cp ${stage} ${containerName(m) + ':/etc/kubernetes/admin.conf'}`.quiet();
      await $`docker exec ${containerName(m)} chmod 0600 /etc/kubernetes/admin.conf`.quiet();
    } finally {
      rmSync(stage, { force: true });
    }
  }
  const notAfter = /notAfter=(.*)/.exec((await $({ cwd: paths.pki })`openssl x509 -noout -enddate -in admin.crt`.quiet()).stdout)?.[1] ?? '?';
  log(`admin client certificate re-issued (valid until ${notAfter}) and written to ${masters.map((m) => m.name).join(', ')}`);
  return notAfter;
}
