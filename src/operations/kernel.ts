/** Kernel settings that must survive a reboot: sysctl (sysctl.d + apply) and modules (modules-load.d + modprobe). */
import { join, sh, type ShellCommand } from '../connection/shell.js';
import { pathFactRequest } from './path-fact.js';
import { planWrite } from './file.js';
import { common, fact, type FactMap, type FactRequest, type Operation, type PlanContext, type StepOptions, type StepPlan } from './types.js';

export interface SysctlOptions extends StepOptions {
  /** The persisted file, e.g. /etc/sysctl.d/60-lbdeploy.conf */
  file: string;
  values: Record<string, string | number>;
}

/** A key's file under /proc/sys: dots are folders, and a slash stands for a dot in a name (eth0/1 is eth0.1). */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;
}

/** Each key's value with its blanks squeezed to one space by the shell itself (one cat per key, no tr or echo). */
function sysctlRequest(keys: readonly string[]): FactRequest {
  return {
    key: `sysctl:${keys.join(',')}`,
    command: join(keys.map((k) => sh`f=${sysctlPath(k)}; if [ -r "$f" ]; then v=$(cat "$f"); set -f; set -- $v; printf '%s\\t%s\\n' ${k} "$*"; else printf '%s\\t@missing\\n' ${k}; fi`)),
  };
}

export function parseSysctl(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) m.set(line.slice(0, tab), line.slice(tab + 1).trim());
  }
  return m;
}

const norm = (v: string | number) => String(v).trim().split(/\s+/).join(' ');

export function sysctlFileContent(values: Record<string, string | number>): string {
  return '# Managed by lbdeploy: changes here are overwritten.\n' +
    Object.entries(values).map(([k, v]) => `${k} = ${norm(v)}\n`).join('');
}

/** Combine a file write and runtime commands into one step. */
function combine(write: StepPlan, runtime: ShellCommand[], what: string[]): StepPlan {
  if (write.kind === 'fail') return write;
  if (write.kind === 'ok' && runtime.length === 0) return write;
  const scripts = [...(write.kind === 'change' ? [write.script] : []), ...runtime];
  const summary = [...(write.kind === 'change' ? [write.summary] : []), ...what].join('; ');
  // The file part reads stdin; run it in a subshell so the runtime part runs after it.
  return {
    kind: 'change', summary, stdin: write.kind === 'change' ? write.stdin : undefined,
    diff: write.kind === 'change' ? write.diff : undefined,
    script: join(scripts.map((s) => sh`( ${s} )`), ' && '),
  };
}

export function sysctl(o: SysctlOptions): Operation {
  const keys = Object.keys(o.values);
  const content = sysctlFileContent(o.values);
  const fileOpts = { path: o.file, content };
  return {
    ...common('sysctl', `sysctl ${o.file}`, o),
    facts: (ctx) => [pathFactRequest(o.file, ctx.diff), sysctlRequest(keys)],
    plan: (facts: FactMap, ctx: PlanContext) => {
      const live = parseSysctl(fact(facts, sysctlRequest(keys).key).stdout);
      const missing = keys.filter((k) => live.get(k) === '@missing');
      if (missing.length > 0 && ctx.check) {
        // In check mode an earlier step's module load did not happen: say what would be set.
        const w = planWrite(fileOpts, facts, ctx);
        return w.kind === 'fail' ? w : { kind: 'change', summary: `set ${keys.join(', ')} once the modules providing ${missing.join(', ')} load`, script: sh`:`, ...(w.kind === 'change' ? { diff: w.diff } : {}) };
      }
      if (missing.length > 0) {
        return { kind: 'fail', message: `the kernel has no sysctl ${missing.join(', ')} (/proc/sys has no such entry)`, hint: 'load the module that provides it first (e.g. ip_vs for net.ipv4.vs.*), or remove the key' };
      }
      const differ = keys.filter((k) => live.get(k) !== norm(o.values[k]!));
      // sysctl -w fails loudly when the kernel refuses a value or /proc/sys is read-only.
      const runtime = differ.map((k) => sh`sysctl -q -w ${`${k}=${norm(o.values[k]!)}`} || { echo ${`lbdeploy: the kernel refused ${k}=${norm(o.values[k]!)}`} >&2; exit 1; }`);
      return combine(planWrite(fileOpts, facts, ctx), runtime, differ.map((k) => `${k}: ${live.get(k)} -> ${norm(o.values[k]!)}`));
    },
  };
}

/**
 * Modules that later kernels merged into others: asked for by older recipes (seed 002 lists
 * nf_conntrack_ipv4), they no longer exist. Missing on the host and listed here, they are skipped
 * with a note instead of failing the run.
 */
export const MERGED_MODULES: Readonly<Record<string, { into: string; since: string }>> = {
  nf_conntrack_ipv4: { into: 'nf_conntrack', since: '4.19' },
  nf_conntrack_ipv6: { into: 'nf_conntrack', since: '4.19' },
  nf_nat_ipv4: { into: 'nf_nat', since: '5.1' },
  nf_nat_ipv6: { into: 'nf_nat', since: '5.1' },
  nf_nat_masquerade_ipv4: { into: 'nf_nat', since: '5.2' },
  nf_nat_masquerade_ipv6: { into: 'nf_nat', since: '5.2' },
};

export interface ModulesOptions extends StepOptions {
  /** The persisted file, e.g. /etc/modules-load.d/lbdeploy.conf */
  file: string;
  modules: string[];
}

function modulesRequest(mods: readonly string[]): FactRequest {
  return {
    key: `modules:${mods.join(',')}`,
    // An alias (ip6t_MASQUERADE is xt_MASQUERADE since 5.x) counts as loaded when what it resolves to is;
    // a module built into the kernel is always loaded.
    command: sh`b=/lib/modules/$(uname -r)/modules.builtin
loaded() { for r in $(modprobe -R "$1" 2>/dev/null | tr - _); do [ -d "/sys/module/$r" ] || grep -q "/$r.ko" "$b" 2>/dev/null || return 1; done; [ -n "$(modprobe -R "$1" 2>/dev/null)" ]; }
for m in ${mods}; do s=$(echo "$m" | tr - _); if [ -d "/sys/module/$s" ] || loaded "$m"; then echo "$m loaded"; elif modinfo "$m" >/dev/null 2>&1; then echo "$m available"; else echo "$m missing"; fi; done; echo "@kernel $(uname -r)"`,
  };
}

export function parseModules(stdout: string): { state: Map<string, string>; kernel: string } {
  const state = new Map<string, string>();
  let kernel = '';
  for (const line of stdout.split('\n')) {
    const [a, b] = line.trim().split(/\s+/);
    if (a === '@kernel') kernel = b ?? '';
    else if (a && b) state.set(a, b);
  }
  return { state, kernel };
}

export function kernelModules(o: ModulesOptions): Operation {
  return {
    ...common('modules', `kernel modules ${o.file}`, o),
    facts: (ctx) => [pathFactRequest(o.file, ctx.diff), modulesRequest(o.modules)],
    plan: (facts, ctx) => {
      const { state, kernel } = parseModules(fact(facts, modulesRequest(o.modules).key).stdout);
      const merged = o.modules.filter((m) => state.get(m) === 'missing' && MERGED_MODULES[m]);
      const note = merged.map((m) => `skipped ${m} (merged into ${MERGED_MODULES[m]!.into} in Linux ${MERGED_MODULES[m]!.since}; kernel ${kernel})`);
      const wanted = o.modules.filter((m) => !merged.includes(m));
      const missing = wanted.filter((m) => state.get(m) === 'missing');
      if (missing.length > 0) {
        return { kind: 'fail', message: `kernel module ${missing.join(', ')} cannot be loaded: not built into kernel ${kernel} and not found by modinfo`, hint: 'on a container host the modules come from the host kernel; otherwise install the matching linux-modules package or drop the module' };
      }
      const load = wanted.filter((m) => state.get(m) === 'available');
      const runtime = load.map((m) => sh`modprobe ${m} || { echo ${`lbdeploy: modprobe ${m} failed on kernel ${kernel}`} >&2; exit 1; }`);
      // The persisted list holds only modules this kernel has: modules-load would fail at boot on the others.
      const content = '# Managed by lbdeploy: changes here are overwritten.\n' + wanted.map((m) => `${m}\n`).join('');
      const planned = combine(planWrite({ path: o.file, content }, facts, ctx), runtime, load.map((m) => `load ${m}`));
      if (note.length === 0) return planned;
      return planned.kind === 'ok' ? { kind: 'ok', reason: `${planned.reason}; ${note.join('; ')}` }
        : planned.kind === 'change' ? { ...planned, summary: `${planned.summary}; ${note.join('; ')}` } : planned;
    },
  };
}
