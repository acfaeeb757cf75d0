/** Host facts for `lbdeploy facts`: what a host is, in one round trip. */
import { sh } from '../connection/shell.js';
import type { FactRequest, FactResult } from '../operations/types.js';
import { PACKAGE_MANAGER_FACT } from '../operations/package.js';
import { PLATFORM_FACT, parsePlatform, type Family, type Platform } from '../operations/os-family.js';

export const HOST_FACTS: FactRequest[] = [
  { key: 'hostname', command: sh`hostname` },
  { key: 'os', command: sh`. /etc/os-release 2>/dev/null; echo "$ID $VERSION_ID"` },
  { key: 'kernel', command: sh`uname -r` },
  { key: 'arch', command: sh`uname -m` },
  { key: 'init', command: sh`ps -p 1 -o comm=` },
  { key: 'systemd', command: sh`systemctl is-system-running 2>/dev/null || true` },
  PACKAGE_MANAGER_FACT,
  PLATFORM_FACT,
  { key: 'addresses', command: sh`ip -o addr show scope global | awk '{print $2, $4}'` },
  { key: 'memory_mb', command: sh`awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo` },
  { key: 'ip_vs', command: sh`if [ -d /sys/module/ip_vs ]; then echo loaded; elif modinfo ip_vs >/dev/null 2>&1; then echo available; else echo missing; fi` },
];

export interface HostFacts {
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  init: string;
  systemd: string;
  package_manager: string;
  family: Family;
  selinux: Platform['selinux'];
  firewalld: boolean;
  addresses: { interface: string; address: string }[];
  memory_mb: number;
  ip_vs: string;
}

export function parseHostFacts(facts: ReadonlyMap<string, FactResult>): HostFacts {
  const get = (k: string) => facts.get(k)?.stdout.trim() ?? '';
  return {
    hostname: get('hostname'),
    os: get('os'),
    kernel: get('kernel'),
    arch: get('arch'),
    init: get('init'),
    systemd: get('systemd'),
    package_manager: get(PACKAGE_MANAGER_FACT.key),
    ...familyFacts(parsePlatform(get(PLATFORM_FACT.key))),
    addresses: get('addresses').split('\n').filter(Boolean).map((l) => {
      const [iface = '', address = ''] = l.split(' ');
      return { interface: iface, address };
    }),
    memory_mb: Number(get('memory_mb')) || 0,
    ip_vs: get('ip_vs'),
  };
}

function familyFacts(p: Platform): Pick<HostFacts, 'family' | 'selinux' | 'firewalld'> {
  return { family: p.family, selinux: p.selinux, firewalld: p.firewalld };
}
