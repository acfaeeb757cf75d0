/**
 * The lab's Kubernetes control plane binaries, built on this machine from Debian 12's own source
 * package `kubernetes` (the full 1.20 tree with its vendor/ folder), by the tree's own make targets
 * and Debian's Go. Only what the lab's masters run is built. The result is kept in the build cache
 * under the recipe's hash, so a machine builds it once and every later `lab up` reuses it.
 *
 * The source comes through a private apt state (its own sources list and lists folder): the
 * machine's apt configuration is never changed, and only the Debian mirror it already uses is asked.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from '../shell-local.js';
import { debianMirror, lastLines } from '../image/rootfs.js';
import { ensurePackages, LabError, type Log } from './system.js';

export interface KubeBuild {
  /** Debian's source package and its exact version (the mirror is a fixed snapshot). */
  source: string;
  version: string;
  suite: string;
  /** make WHAT=...: the commands the lab's masters run. */
  targets: readonly string[];
  /**
   * Vendored Go packages replaced by Debian's own (import path -> the -dev package holding it under
   * /usr/share/gocode/src), where the tree's copy cannot run when built with Debian's Go.
   */
  vendorOverlays: Readonly<Record<string, string>>;
}

/** Bump when the build procedure itself (not the data) changes. */
const KUBE_BUILD_VERSION = 1;

export const KUBE_BUILD: KubeBuild = {
  source: 'kubernetes',
  version: '1.20.5+really1.20.2-1.1+deb12u1',
  suite: 'bookworm',
  // kubelet is left out: the lab runs the control plane as systemd units, not as static pods.
  targets: ['cmd/kube-apiserver', 'cmd/kube-controller-manager', 'cmd/kube-scheduler', 'cmd/kubeadm'],
  // The tree vendors reflect2 1.0.1, which faults in map iteration when built with Go 1.18 or later
  // ("unexpected fault address 0x0" in mapiterinit: modern-go/reflect2 issue 26); 1.0.2 is the fix,
  // and Debian 12 ships it. Without it kubeadm crashes writing the static pod manifests.
  vendorOverlays: { 'github.com/modern-go/reflect2': 'golang-github-modern-go-reflect2-dev' },
};

const GOCODE = '/usr/share/gocode/src';

/** What the build needs on this machine: Go, and what the tree's make and `apt-get source` call. */
const BUILD_TOOLS = [
  { command: 'go', pkg: 'golang-go' },
  { command: 'rsync', pkg: 'rsync' },
  { command: 'dpkg-source', pkg: 'dpkg-dev' },
  { command: 'make', pkg: 'make' },
];

export function kubeBuildHash(build: KubeBuild = KUBE_BUILD): string {
  return createHash('sha256').update(JSON.stringify({ v: KUBE_BUILD_VERSION, ...build })).digest('hex').slice(0, 16);
}

/** The binaries' names (cmd/kubeadm -> kubeadm). */
export function kubeBinaries(build: KubeBuild = KUBE_BUILD): string[] {
  return build.targets.map((t) => t.split('/').pop()!);
}

/** The folder holding the built binaries, building them first when this recipe was never built here. */
export async function ensureKubeBinaries(buildDir: string, log: Log, build: KubeBuild = KUBE_BUILD): Promise<string> {
  const dir = join(buildDir, `kube-${kubeBuildHash(build)}`);
  if (kubeBinaries(build).every((b) => existsSync(join(dir, b)))) return dir;
  await ensurePackages(log, [...BUILD_TOOLS, ...Object.entries(build.vendorOverlays).map(([path, pkg]) => ({ command: join(GOCODE, path), pkg }))]);
  const work = join(buildDir, `kube-src-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const started = Date.now();
  try {
    const tree = await fetchSource(work, build, log);
    log(`building ${build.targets.join(', ')} from ${build.source} ${build.version} (go ${await goVersion()}; about 5 to 15 minutes on two cores, once per machine)`);
    const env = {
      ...process.env, GOPATH: join(tree, '.go'), CGO_ENABLED: '0', GOFLAGS: '-mod=vendor', HOME: join(work, 'home'),
      // Go's build cache is keyed by content: kept beside the binaries, a changed recipe rebuilds only what changed.
      GOCACHE: join(buildDir, 'kube-gocache'), KUBE_VERBOSE: '0',
    };
    for (const path of Object.keys(build.vendorOverlays)) {
      rmSync(join(tree, 'vendor', path), { recursive: true, force: true });
      await $`cp -rL ${join(GOCODE, path)} ${join(tree, 'vendor', path)}`.quiet();
      log(`vendor/${path} replaced by Debian's ${build.vendorOverlays[path]}`);
    }
    mkdirSync(join(tree, '.go/src/k8s.io'), { recursive: true });
    symlinkSync('../../..', join(tree, '.go/src/k8s.io/kubernetes'));
    const made = await $({ cwd: tree, env })`make ${`WHAT=${build.targets.join(' ')}`}`.nothrow().quiet();
    if (made.exitCode !== 0) throw new LabError(`building Kubernetes failed (exit ${made.exitCode}): ${lastLines(made.stdout + made.stderr, 12)}`);
    const part = `${dir}.part-${process.pid}`;
    rmSync(part, { recursive: true, force: true });
    mkdirSync(part, { recursive: true });
    for (const b of kubeBinaries(build)) {
      copyFileSync(join(tree, '_output/bin', b), join(part, b));
      chmodSync(join(part, b), 0o755);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(part, dir);
    log(`built ${kubeBinaries(build).join(', ')} in ${Math.round((Date.now() - started) / 1000)} s (kept in ${dir})`);
    return dir;
  } catch (e) {
    if (e instanceof LabError) throw e;
    throw new LabError(`building Kubernetes failed: ${(e as Error).message}`, { hint: 'check that the Debian mirror answers (apt-get update) and ~6 GB are free; `lab up` starts the build again cleanly' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `apt-get source` through a private apt state; returns the unpacked tree. */
async function fetchSource(work: string, build: KubeBuild, log: Log): Promise<string> {
  const state = join(work, 'apt');
  mkdirSync(join(state, 'lists/partial'), { recursive: true });
  mkdirSync(join(state, 'cache/archives/partial'), { recursive: true });
  writeFileSync(join(state, 'sources.list'), `deb-src ${debianMirror()} ${build.suite} main\n`);
  const opts = [
    `-oDir::Etc::SourceList=${join(state, 'sources.list')}`, '-oDir::Etc::SourceParts=/dev/null',
    `-oDir::State::Lists=${join(state, 'lists')}`, `-oDir::Cache=${join(state, 'cache')}`, '-oAPT::Sandbox::User=root',
  ];
  log(`fetching the ${build.source} ${build.version} source package from ${debianMirror()}`);
  const update = await $`apt-get ${opts} update -qq`.nothrow().quiet();
  if (update.exitCode !== 0) throw new LabError(`apt-get update (deb-src) failed: ${lastLines(update.stdout + update.stderr)}`, { hint: 'check that the Debian mirror answers' });
  const src = await $({ cwd: work })`apt-get ${opts} source -qq ${`${build.source}=${build.version}`}`.nothrow().quiet();
  if (src.exitCode !== 0) throw new LabError(`apt-get source ${build.source}=${build.version} failed: ${lastLines(src.stdout + src.stderr)}`, { hint: 'the mirror must carry this exact version (a Debian snapshot does)' });
  const upstream = build.version.replace(/-[^-]+$/, '');
  const tree = readdirSync(work).find((n) => n === `${build.source}-${upstream}`);
  if (!tree) throw new LabError(`apt-get source left no ${build.source}-${upstream} folder in ${work}`);
  return join(work, tree);
}

async function goVersion(): Promise<string> {
  return (await $`go version`.nothrow().quiet()).stdout.trim().split(' ')[2] ?? 'unknown';
}
