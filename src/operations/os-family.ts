/**
 * OS families: what a host is (from /etc/os-release, SELinux and firewalld), and how lbdeploy's
 * Debian-named packages, paths and services map on the RHEL family (RHEL, Rocky, Alma, CentOS Stream,
 * Oracle Linux, Fedora). The operations read the PLATFORM_FACT with their other facts (same round trip).
 */
import { sh } from '../connection/shell.js';
import type { FactRequest } from './types.js';

export type Family = 'debian' | 'rhel' | 'unknown';

export interface Platform {
  family: Family;
  /** os-release ID and VERSION_ID: rocky 9.4, debian 12. */
  id: string;
  version: string;
  like: string[];
  /** getenforce: enforcing, permissive, disabled; absent without SELinux tools. */
  selinux: 'enforcing' | 'permissive' | 'disabled' | 'absent';
  /** firewalld's unit is active. */
  firewalld: boolean;
}

export const PLATFORM_FACT: FactRequest = {
  key: 'platform',
  command: sh`if [ -r /etc/os-release ]; then . /etc/os-release; fi; echo "id=$ID"; echo "like=$ID_LIKE"; echo "version=$VERSION_ID"; echo "selinux=$(getenforce 2>/dev/null || echo absent)"; echo "firewalld=$(systemctl is-active firewalld 2>/dev/null)"; true`,
};

const DEBIAN_IDS = new Set(['debian', 'ubuntu', 'raspbian', 'linuxmint', 'pop', 'devuan']);
const RHEL_IDS = new Set(['rhel', 'centos', 'fedora', 'rocky', 'almalinux', 'ol', 'amzn', 'circle', 'eurolinux', 'navy']);

/** The family from os-release's ID and ID_LIKE (ID_LIKE="rhel centos fedora" on Rocky). */
export function familyOf(id: string, like: readonly string[]): Family {
  const ids = [id, ...like].map((x) => x.toLowerCase());
  if (ids.some((x) => DEBIAN_IDS.has(x))) return 'debian';
  if (ids.some((x) => RHEL_IDS.has(x))) return 'rhel';
  return 'unknown';
}

/** An os-release file's fields (shell-quoted values unquoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return out;
}

export function parsePlatform(stdout: string): Platform {
  const kv = Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
  const id = kv.id ?? '';
  const like = (kv.like ?? '').split(/\s+/).filter(Boolean);
  const se = (kv.selinux ?? 'absent').toLowerCase();
  return {
    family: familyOf(id, like),
    id, version: kv.version ?? '', like,
    selinux: se === 'enforcing' || se === 'permissive' || se === 'disabled' ? se : 'absent',
    firewalld: kv.firewalld === 'active',
  };
}

/**
 * Package names on the RHEL family for the Debian names lbdeploy's kinds use (null: no such package,
 * nothing to install there). A name not listed is the same on both.
 */
export const RHEL_PACKAGES: Readonly<Record<string, string | null>> = {
  iproute2: 'iproute',
  'docker.io': 'docker-ce', // Docker's own repository (download.docker.com/linux/rhel) must be set up
  apparmor: null, // SELinux instead
  'nginx-light': 'nginx',
  'openssh-client': 'openssh-clients',
  'openssh-server': 'openssh-server',
  dnsutils: 'bind-utils',
  'netcat-openbsd': 'nmap-ncat',
  'kubernetes-client': 'kubernetes-client',
  'ca-certificates': 'ca-certificates',
  procps: 'procps-ng',
};

/** The names to install on a family, and those that have no package there. */
export function packagesFor(family: Family, names: readonly string[]): { names: string[]; none: string[] } {
  if (family !== 'rhel') return { names: [...names], none: [] };
  const mapped: string[] = [];
  const none: string[] = [];
  for (const n of names) {
    const m = n in RHEL_PACKAGES ? RHEL_PACKAGES[n] : n;
    if (m === null) none.push(n);
    else if (!mapped.includes(m!)) mapped.push(m!);
  }
  return { names: mapped, none };
}

/** Every name a status probe must ask about, whichever family the host turns out to be. */
export function packageCandidates(names: readonly string[]): string[] {
  return [...new Set([...names, ...packagesFor('rhel', names).names])];
}

/** Where IPVS rules persist and how they come back at boot. */
export const IPVSADM_PERSISTENCE = {
  debian: {
    rules: '/etc/ipvsadm.rules',
    config: { path: '/etc/default/ipvsadm', content: '# Managed by lbdeploy: restore /etc/ipvsadm.rules at boot.\nAUTO="true"\nDAEMON="none"\n' },
    /** Debian's ipvsadm init script runs from AUTO=true; no unit to enable. */
    service: undefined as string | undefined,
  },
  rhel: {
    rules: '/etc/sysconfig/ipvsadm',
    config: { path: '/etc/sysconfig/ipvsadm-config', content: '# Managed by lbdeploy: ipvsadm.service restores /etc/sysconfig/ipvsadm at boot; never overwrite it.\nIPVS_MODULES_UNLOAD="no"\nIPVS_SAVE_ON_STOP="no"\nIPVS_SAVE_ON_RESTART="no"\nIPVS_STATUS_NUMERIC="yes"\n' },
    service: 'ipvsadm' as string | undefined,
  },
} as const;

/** haproxy's stats socket directory (/run/haproxy): Debian's package makes it (tmpfiles.d), RHEL's does not. */
export const RHEL_HAPROXY_TMPFILES = { path: '/etc/tmpfiles.d/lbdeploy-haproxy.conf', content: '# Managed by lbdeploy: the stats socket directory (Debian\'s package has the same line).\nd /run/haproxy 0750 haproxy haproxy -\n' };

/** What an operator of this host should know before lbdeploy's LB nodes work on it. */
export function platformHints(p: Platform, o: { vrrp: boolean; ports: readonly number[] }): string[] {
  const hints: string[] = [];
  if (p.family === 'unknown') hints.push(`unknown OS family (ID=${p.id || '?'}): Debian's package names and paths are used`);
  if (p.selinux === 'enforcing') {
    hints.push('SELinux is enforcing: for haproxy to reach backends on ports not labelled for it (6443, say): setsebool -P haproxy_connect_any 1; keepalived scripts run as keepalived_t (audit2allow shows any denial)');
  }
  if (p.firewalld) {
    const rules = [
      ...(o.vrrp ? ["firewall-cmd --permanent --add-rich-rule='rule protocol value=\"vrrp\" accept'"] : []),
      ...o.ports.map((port) => `firewall-cmd --permanent --add-port=${port}/tcp`),
    ];
    if (rules.length > 0) hints.push(`firewalld is active: let VRRP and the frontends through: ${[...rules, 'firewall-cmd --reload'].join(' && ')}`);
  }
  return hints;
}
