/** Packages through the host's own manager: apt-get, dnf or yum (detected). */
import { LbdeployError } from '../errors.js';
import { sh, type ShellCommand } from '../connection/shell.js';
import { PLATFORM_FACT, packageCandidates, packagesFor, parsePlatform } from './os-family.js';
import { common, fact, type FactRequest, type Operation, type StepOptions } from './types.js';

export interface PackageOptions extends StepOptions {
  names: string[];
  state?: 'present' | 'absent';
}

export const PACKAGE_MANAGER_FACT: FactRequest = {
  key: 'pkg:manager',
  command: sh`for m in apt-get dnf yum; do if command -v $m >/dev/null 2>&1; then echo $m; exit 0; fi; done; echo none`,
};

function statusRequest(names: readonly string[]): FactRequest {
  // rpm: a name is installed when an installed package provides it (curl-minimal provides curl on EL9).
  return {
    key: `pkg:status:${[...names].sort().join(',')}`,
    command: sh`if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='\${Package} \${db:Status-Abbrev}\\n' ${names} 2>/dev/null;
elif command -v rpm >/dev/null 2>&1; then for p in ${names}; do if rpm -q --whatprovides "$p" >/dev/null 2>&1; then echo "$p ii"; fi; done; fi; true`,
  };
}

/** Installed packages from `dpkg-query` (status `ii`) or the rpm lines shaped like it. */
export function parseInstalled(stdout: string): Set<string> {
  const installed = new Set<string>();
  for (const line of stdout.split('\n')) {
    const [name, status] = line.trim().split(/\s+/);
    if (name && status?.startsWith('ii')) installed.add(name.replace(/:.*$/, ''));
  }
  return installed;
}

/** The install or remove command of a manager (plan shows it as it will run). */
export function packageScript(manager: string, state: 'present' | 'absent', todo: readonly string[]): ShellCommand {
  if (manager === 'apt-get') {
    return state === 'present'
      ? sh`export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${todo}`
      : sh`export DEBIAN_FRONTEND=noninteractive; apt-get remove -y -qq ${todo}`;
  }
  if (manager === 'dnf') return state === 'present' ? sh`dnf install -y -q --setopt=install_weak_deps=False ${todo}` : sh`dnf remove -y -q ${todo}`;
  return state === 'present' ? sh`yum install -y -q ${todo}` : sh`yum remove -y -q ${todo}`;
}

/**
 * Packages by their Debian names (as the seeds write them); on a RHEL-family host each is mapped
 * (iproute2 -> iproute, docker.io -> docker-ce, apparmor -> none) and installed with dnf or yum.
 */
export function packages(o: PackageOptions): Operation {
  const state = o.state ?? 'present';
  const names = [...new Set(o.names)];
  if (names.length === 0) throw new LbdeployError('packages() names no package', { hint: 'leave the step out when the list is empty' });
  const status = statusRequest(packageCandidates(names));
  return {
    ...common('package', `packages ${state === 'present' ? '+' : '-'}${names.join(' ')}`, o),
    facts: () => [PACKAGE_MANAGER_FACT, PLATFORM_FACT, status],
    plan: (facts) => {
      const manager = fact(facts, PACKAGE_MANAGER_FACT.key).stdout.trim();
      const platform = parsePlatform(fact(facts, PLATFORM_FACT.key).stdout);
      const { names: wanted, none } = packagesFor(platform.family, names);
      const installed = parseInstalled(fact(facts, status.key).stdout);
      const todo = state === 'present' ? wanted.filter((n) => !installed.has(n)) : wanted.filter((n) => installed.has(n));
      const noneNote = none.length > 0 ? ` (${none.join(', ')}: no such package on ${platform.id || platform.family})` : '';
      if (todo.length === 0) return { kind: 'ok', reason: `${state === 'present' ? 'all installed' : 'none installed'}${noneNote}` };
      if (manager === 'none') {
        return { kind: 'fail', message: 'no supported package manager (apt-get, dnf, yum) on this host', hint: `install ${todo.join(' ')} by hand or use a Debian/RHEL-family host` };
      }
      const script = packageScript(manager, state, todo);
      return { kind: 'change', summary: `${manager} ${state === 'present' ? 'install' : 'remove'} ${todo.join(' ')}${noneNote}`, script };
    },
  };
}
