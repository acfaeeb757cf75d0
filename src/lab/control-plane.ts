/**
 * A real Kubernetes control plane on the lab's masters, in kubeadm's stacked HA shape: etcd as a
 * three-member cluster across master1..3, and kube-apiserver (6443, TLS, client certificates,
 * RBAC), kube-controller-manager and kube-scheduler on each. Everything is made by kubeadm's own
 * phases, with the lab's VIP as the control-plane endpoint:
 *   - `kubeadm init phase certs all` on master1 (the lab's cluster CA is used, not replaced), the
 *     shared keys (sa, front-proxy CA, etcd CA) copied to master2 and master3, then the same phase
 *     there, which makes each master's own serving and client certificates from them;
 *   - `kubeadm init phase kubeconfig all`: admin.conf, controller-manager.conf, scheduler.conf;
 *   - `kubeadm init phase etcd local` and `kubeadm init phase control-plane all`: the static pod
 *     manifests, whose command lines become systemd units (no kubelet runs here). The etcd members'
 *     --initial-cluster lists all three, as `kubeadm join --control-plane` would have grown it.
 * Built once per set of containers; a later `lab up` finds it serving and leaves it alone.
 */
import { parse } from 'yaml';
import { $ } from '../shell-local.js';
import { LAB_HOSTS, LAB_VIP, LAB_VIP6, containerName, type LabHost } from './topology.js';
import { LabError, sleep, type Log } from './system.js';

/** The control-plane endpoint: the lab's VIP, where haproxy on the LB nodes balances the three API servers. */
export const CONTROL_PLANE_ENDPOINT = `${LAB_VIP}:6443`;
export const KUBERNETES_VERSION = 'v1.20.2';
/** Service addresses stay inside the lab's range (nothing routes them: there is no kube-proxy). */
export const SERVICE_SUBNET = '198.18.224.0/20';
export const CLUSTER_NAME = 'lbdeploy-lab';

/** What kubeadm makes on master1 and every other master needs the same of. */
const SHARED = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key'];
/** The static pods kubeadm writes, and the units the lab runs them as (in start order). */
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

/** Where each master keeps its kubeadm configuration (kubeadmConfig). */
const KUBEADM_CONFIG = '/etc/kubernetes/lab/kubeadm.yaml';

export const masters = (): LabHost[] => LAB_HOSTS.filter((h) => h.role === 'master');

/**
 * How systemd runs each component. A stop is bounded as a kubelet bounds a pod's (SIGTERM, then
 * SIGKILL): kube-apiserver otherwise drains its watches for up to a minute.
 */
const SERVICE_OPTIONS = ['Restart=always', 'RestartSec=2', 'TimeoutStopSec=10', 'LimitNOFILE=65536'];

/** What shapes the certificates, flags and units: part of the master image's recipe, so a change makes new masters. */
export function controlPlaneRecipe(all: readonly LabHost[] = masters()): string {
  return JSON.stringify({ endpoint: CONTROL_PLANE_ENDPOINT, version: KUBERNETES_VERSION, serviceSubnet: SERVICE_SUBNET, sans: certSans(all), units: SERVICE_OPTIONS }, null, 2) + '\n';
}

const certSans = (all: readonly LabHost[]) => [LAB_VIP, LAB_VIP6, ...all.flatMap((h) => [h.address, h.name])];

/** kubeadm's configuration for one master (v1beta2: kubeadm 1.20). */
export function kubeadmConfig(m: LabHost, all: readonly LabHost[]): string {
  const sans = certSans(all);
  return `apiVersion: kubeadm.k8s.io/v1beta2
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: ${m.address}
  bindPort: 6443
nodeRegistration:
  name: ${m.name}
---
apiVersion: kubeadm.k8s.io/v1beta2
kind: ClusterConfiguration
kubernetesVersion: ${KUBERNETES_VERSION}
clusterName: ${CLUSTER_NAME}
controlPlaneEndpoint: "${CONTROL_PLANE_ENDPOINT}"
certificatesDir: /etc/kubernetes/pki
networking:
  serviceSubnet: ${SERVICE_SUBNET}
apiServer:
  certSANs: [${sans.map((s) => `"${s}"`).join(', ')}]
etcd:
  local:
    dataDir: /var/lib/etcd
`;
}

/**
 * A static pod manifest's container command as a systemd unit: the same binary and flags, run by
 * systemd on the master instead of by a kubelet; `replace` gives flags present in it other values.
 */
export function unitFromManifest(name: string, manifest: string, replace: Readonly<Record<string, string>> = {}): string {
  const pod = parse(manifest) as { spec?: { containers?: { command?: string[] }[] } };
  const command = pod.spec?.containers?.[0]?.command;
  if (!command || command.length === 0) throw new LabError(`the ${name} manifest kubeadm wrote has no command`);
  const [binary, ...flags] = command;
  const absent = Object.keys(replace).filter((k) => !flags.some((f) => f.split('=')[0] === k));
  if (absent.length > 0) throw new LabError(`the ${name} manifest kubeadm wrote has no ${absent.join(', ')} to replace`);
  const args = flags.map((f) => {
    const key = f.split('=')[0]!;
    return key in replace ? `${key}=${replace[key]}` : f;
  });
  const path = binary === 'etcd' ? '/usr/bin/etcd' : `/usr/local/bin/${binary}`;
  const quoted = [path, ...args].map((a) => `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(' ');
  return `[Unit]
Description=${name} (the lab's control plane; flags from kubeadm's static pod manifest)
After=network-online.target${name === 'etcd' ? '' : ' etcd.service'}

[Service]
ExecStart=${quoted}
${SERVICE_OPTIONS.join('\n')}

[Install]
WantedBy=multi-user.target
`;
}

async function exec(m: LabHost, script: string): Promise<string> {
  const r = await $`docker exec ${containerName(m)} /bin/sh -ec ${script}`.nothrow().quiet();
  if (r.exitCode !== 0) throw new LabError(`${m.name}: ${script.split('\n')[0]} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n').slice(-6).join('\n')}`);
  return r.stdout;
}

async function write(m: LabHost, path: string, content: string, mode = '0644'): Promise<void> {
  const r = await $({ input: content })`docker exec -i ${containerName(m)} /bin/sh -ec ${`install -d "$(dirname ${path})" && cat > ${path}.part && chmod ${mode} ${path}.part && mv ${path}.part ${path}`}`.nothrow().quiet();
  if (r.exitCode !== 0) throw new LabError(`${m.name}: writing ${path} failed: ${r.stderr.trim()}`);
}

/** Every API server answers /readyz (anonymous: kubeadm's RBAC lets anyone ask it). */
async function serving(all: readonly LabHost[]): Promise<string[]> {
  const down: string[] = [];
  for (const m of all) {
    const r = await $`curl -sk --max-time 3 https://${m.address}:6443/readyz`.nothrow().quiet();
    if (r.stdout.trim() !== 'ok') down.push(`${m.name}: ${r.stdout.trim().split('\n').slice(-1)[0] || `curl exit ${r.exitCode}`}`);
  }
  return down;
}

/** Bring the control plane up (or leave it alone when every API server is ready). */
export async function ensureControlPlane(log: Log, timeoutMs = 240_000): Promise<void> {
  const all = masters();
  if ((await serving(all)).length === 0) return;
  // Made only when every master finished its bootstrap (the mark is its last step); one cut short
  // (an interrupted lab up, a failed phase) is undone on every master and made again.
  const state = await Promise.all(all.map(async (m) => (await exec(m, `if [ -f ${BOOTSTRAPPED} ]; then echo done; elif [ -e ${KUBEADM_CONFIG} ]; then echo begun; else echo none; fi`)).trim()));
  if (state.every((s) => s === 'done')) {
    for (const m of all) await exec(m, `systemctl start ${COMPONENTS.join(' ')}`);
  } else {
    if (state.some((s) => s !== 'none')) {
      log(`a control-plane bootstrap was cut short (not finished on ${all.filter((_, i) => state[i] !== 'done').map((m) => m.name).join(', ')}): undoing it on every master`);
      await Promise.all(all.map((m) => exec(m, UNDO_BOOTSTRAP)));
    }
    await bootstrap(all, log);
  }
  const started = Date.now();
  await untilServing(all, timeoutMs, 'the control plane did not become ready');
  log(`control plane ready: kube-apiserver ${KUBERNETES_VERSION} on ${all.map((m) => m.name).join(', ')}, etcd cluster of ${all.length} (${Math.round((Date.now() - started) / 1000)} s)`);
}

/**
 * A control-plane unit that failed (killed by a drill, a stop past its 10 s) is ensureControlPlane's
 * to start again, not a reason to call the master not ready: its failed state is cleared first.
 */
export async function clearFailedComponents(): Promise<void> {
  await Promise.all(masters().map((m) => $`docker exec ${containerName(m)} systemctl reset-failed ${COMPONENTS.map((c) => `${c}.service`)}`.nothrow().quiet()));
}

/** Poll until every one of `hosts` serves; else a LabError naming those that do not, after `timeoutMs`. */
async function untilServing(hosts: readonly LabHost[], timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const down = await serving(hosts);
    if (down.length === 0) return;
    if (Date.now() > deadline) {
      throw new LabError(`${what} in ${timeoutMs / 1000} s: ${down.join('; ')}`, {
        hint: `inspect with 'docker exec ${containerName(hosts[0]!)} journalctl -u kube-apiserver -u etcd -n 50'`,
      });
    }
    await sleep(1000);
  }
}

async function bootstrap(all: readonly LabHost[], log: Log): Promise<void> {
  log(`making the control plane with kubeadm's phases on ${all.map((m) => m.name).join(', ')} (endpoint ${CONTROL_PLANE_ENDPOINT})`);
  const [first, ...rest] = all;
  for (const m of all) await write(m, KUBEADM_CONFIG, kubeadmConfig(m, all));
  const kubeadm = (phase: string) => `kubeadm init phase ${phase} --config ${KUBEADM_CONFIG}`;
  await exec(first!, kubeadm('certs all'));
  // The keys every control-plane member shares, as `kubeadm join --control-plane` copies them.
  const shared = await exec(first!, `cd /etc/kubernetes/pki && tar -cf - ${SHARED.join(' ')} | base64 -w0`);
  for (const m of rest) {
    const r = await $({ input: Buffer.from(shared.trim(), 'base64') })`docker exec -i ${containerName(m)} tar -C /etc/kubernetes/pki -xf -`.nothrow().quiet();
    if (r.exitCode !== 0) throw new LabError(`${m.name}: copying the shared keys failed: ${r.stderr.trim()}`);
    await exec(m, kubeadm('certs all'));
  }
  const initialCluster = all.map((m) => `${m.name}=https://${m.address}:2380`).join(',');
  await Promise.all(all.map(async (m) => {
    await exec(m, [kubeadm('kubeconfig all'), kubeadm('etcd local'), kubeadm('control-plane all')].join('\n'));
    // As newer kubeadm writes them: the controller-manager and scheduler talk to their own API server.
    await exec(m, `sed -i 's#server: https://${CONTROL_PLANE_ENDPOINT}#server: https://${m.address}:6443#' /etc/kubernetes/controller-manager.conf /etc/kubernetes/scheduler.conf`);
    for (const c of COMPONENTS) {
      const manifest = await exec(m, `cat /etc/kubernetes/manifests/${c}.yaml`);
      // kubeadm's etcd flags name only this member; all three start together (etcd's default state is new).
      const replace: Record<string, string> = c === 'etcd' ? { '--initial-cluster': initialCluster } : {};
      await write(m, `/etc/systemd/system/${c}.service`, unitFromManifest(c, manifest, replace));
    }
    await exec(m, `systemctl unmask etcd.service >/dev/null 2>&1 || true; systemctl daemon-reload && systemctl enable ${COMPONENTS.join(' ')} >/dev/null 2>&1`);
  }));
  // etcd's members wait for each other: started together.
  await Promise.all(all.map((m) => exec(m, 'systemctl start --no-block etcd')));
  await Promise.all(all.map((m) => exec(m, `systemctl start --no-block ${COMPONENTS.slice(1).join(' ')}`)));
  await Promise.all(all.map((m) => exec(m, `touch ${BOOTSTRAPPED}`)));
}

/** Written on each master once its bootstrap is done: without it on every master, the bootstrap is made again. */
const BOOTSTRAPPED = '/etc/kubernetes/lab/bootstrapped';

/** What a bootstrap made on a master, removed: its units, etcd's data, the files kubeadm wrote. The lab's CA (put there with the container) stays. */
const UNDO_BOOTSTRAP = [
  `systemctl stop ${COMPONENTS.join(' ')} 2>/dev/null || true`,
  `rm -f ${COMPONENTS.map((c) => `/etc/systemd/system/${c}.service`).join(' ')} ${COMPONENTS.map((c) => `/etc/systemd/system/multi-user.target.wants/${c}.service`).join(' ')}`,
  'systemctl daemon-reload',
  `rm -rf /var/lib/etcd/member /etc/kubernetes/manifests/* /etc/kubernetes/*.conf ${KUBEADM_CONFIG} ${BOOTSTRAPPED}`,
  "find /etc/kubernetes/pki -mindepth 1 ! -path /etc/kubernetes/pki/ca.crt ! -path /etc/kubernetes/pki/ca.key -delete",
].join('\n');

/** `kubeadm certs check-expiration`'s table: certificate name -> its EXPIRES and RESIDUAL TIME columns. */
export function parseCheckExpiration(text: string): Map<string, { expires: string; residual: string }> {
  const out = new Map<string, { expires: string; residual: string }>();
  for (const line of text.split('\n')) {
    // admin.conf   Dec 03, 2027 13:30 UTC   364d   ca   no
    const m = /^(\S+)\s+([A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC)\s+(\S+)/.exec(line.trim());
    if (m) out.set(m[1]!, { expires: m[2]!, residual: m[3]! });
  }
  return out;
}

/** One master's certificates as kubeadm reports them. */
export async function checkExpiration(m: LabHost): Promise<Map<string, { expires: string; residual: string }>> {
  return parseCheckExpiration(await exec(m, `kubeadm certs check-expiration --config ${KUBEADM_CONFIG} 2>/dev/null`));
}

/**
 * A cluster's certificate renewal as kubeadm documents it: `kubeadm certs renew all` on a master,
 * then its control plane restarted so every component loads the new certificates; one master at
 * a time, each serving again before the next (the others serve behind the VIP meanwhile).
 * Returns each master's admin.conf expiry as `kubeadm certs check-expiration` reports it.
 */
export async function renewWithKubeadm(log: Log, timeoutMs = 120_000): Promise<Record<string, string>> {
  const renewed: Record<string, string> = {};
  for (const m of masters()) {
    await exec(m, `kubeadm certs renew all --config ${KUBEADM_CONFIG}`);
    await exec(m, `systemctl restart ${COMPONENTS.join(' ')}`);
    await untilServing([m], timeoutMs, `${m.name}: kube-apiserver did not serve again after the renewal`);
    renewed[m.name] = (await checkExpiration(m)).get('admin.conf')?.expires ?? 'unknown';
    log(`${m.name}: kubeadm renewed its certificates; control plane restarted and serving (admin.conf until ${renewed[m.name]})`);
  }
  return renewed;
}
