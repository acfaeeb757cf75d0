/** Packages through the host's own manager: apt-get, dnf or yum (detected). */
import { LbdeployError } from '../errors.js';
import { sh } from '../connection/shell.js';
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
  return {
    key: `pkg:status:${[...names].sort().join(',')}`,
    command: sh`if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='\${Package} \${db:Status-Abbrev}\\n' ${names} 2>/dev/null;
elif command -v rpm >/dev/null 2>&1; then for p in ${names}; do rpm -q --qf '%{NAME} ii\\n' "$p" 2>/dev/null | grep -v 'not installed'; done; fi; true`,
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

export function packages(o: PackageOptions): Operation {
  const state = o.state ?? 'present';
  const names = [...new Set(o.names)];
  if (names.length === 0) throw new LbdeployError('packages() names no package', { hint: 'leave the step out when the list is empty' });
  return {
    ...common('package', `packages ${state === 'present' ? '+' : '-'}${names.join(' ')}`, o),
    facts: () => [PACKAGE_MANAGER_FACT, statusRequest(names)],
    plan: (facts) => {
      const manager = fact(facts, PACKAGE_MANAGER_FACT.key).stdout.trim();
      const installed = parseInstalled(fact(facts, statusRequest(names).key).stdout);
      const todo = state === 'present' ? names.filter((n) => !installed.has(n)) : names.filter((n) => installed.has(n));
      if (todo.length === 0) return { kind: 'ok', reason: state === 'present' ? 'all installed' : 'none installed' };
      if (manager === 'none') {
        return { kind: 'fail', message: 'no supported package manager (apt-get, dnf, yum) on this host', hint: `install ${todo.join(' ')} by hand or use a Debian/RHEL-family host` };
      }
      const summary = `${state === 'present' ? 'install' : 'remove'} ${todo.join(' ')}`;
      if (manager === 'apt-get') {
        const script = state === 'present'
          ? sh`export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${todo}`
          : sh`export DEBIAN_FRONTEND=noninteractive; apt-get remove -y -qq ${todo}`;
        return { kind: 'change', summary, script };
      }
      return { kind: 'change', summary, script: state === 'present' ? sh`${manager} install -y ${todo}` : sh`${manager} remove -y ${todo}` };
    },
  };
}
