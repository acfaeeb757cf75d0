/** Audit checks: probes in, findings with a severity out (pure). */
import { certInfo } from '../kube/cert.js';
import type { FactResult } from '../operations/types.js';
import { holdsAddress, parseShowStat } from '../verify/ha-probe.js';
import { describeIpvsDifferences, parseIpvsadmList, type VirtualService } from '../render/ipvs.js';
import { parseContainerFact } from '../operations/container.js';

export type Severity = 'ok' | 'warning' | 'critical';

export interface Finding {
  check: string;
  target: string;
  severity: Severity;
  detail: string;
  /** A number for Prometheus (days left, holders, UP servers...). */
  value?: number;
}

export interface AuditThresholds {
  warnDays: number;
  critDays: number;
}

export type Probe = ReadonlyMap<string, FactResult>;

/** One cert per line: `FILE<TAB>base64 client-certificate-data` (never the key). */
export function parseCertLines(stdout: string): { file: string; certData: string }[] {
  return stdout.split('\n').map((l) => l.split('\t')).filter((p) => p.length === 2 && p[0] && p[1]).map(([file, certData]) => ({ file: file!, certData: certData! }));
}

export function certFindings(host: string, stdout: string, t: AuditThresholds, now = Date.now()): Finding[] {
  return parseCertLines(stdout).map(({ file, certData }) => {
    try {
      const c = certInfo(Buffer.from(certData, 'base64').toString('utf8'), now);
      const severity: Severity = c.state !== 'valid' || c.daysLeft < t.critDays ? 'critical' : c.daysLeft < t.warnDays ? 'warning' : 'ok';
      const detail = c.state === 'valid' ? `${c.daysLeft} days left (until ${c.notAfter}), ${c.subject}` : `${c.state} (notAfter ${c.notAfter})`;
      return { check: 'kubeconfig certificate', target: `${host} ${file}`, severity, detail, value: c.daysLeft };
    } catch (e) {
      return { check: 'kubeconfig certificate', target: `${host} ${file}`, severity: 'critical' as Severity, detail: `unreadable certificate: ${(e as Error).message}` };
    }
  });
}

export function vipFindings(vips: { name: string; address: string }[], probes: ReadonlyMap<string, Probe | undefined>): Finding[] {
  return vips.map((vip) => {
    const holders = [...probes].filter(([, p]) => p && holdsAddress(p.get('addresses')?.stdout ?? '', vip.address)).map(([h]) => h);
    const severity: Severity = holders.length === 1 ? 'ok' : 'critical';
    const detail = holders.length === 1 ? `held by ${holders[0]}` : holders.length === 0 ? 'no node holds the VIP' : `split brain: held by ${holders.join(', ')}`;
    return { check: 'vip holder', target: `${vip.name} ${vip.address}`, severity, detail, value: holders.length };
  });
}

export function serviceFindings(host: string, p: Probe, services: { name: string; servers: number }[], containers: string[]): Finding[] {
  const out: Finding[] = [];
  for (const unit of ['keepalived', 'haproxy']) {
    const state = p.get(unit)?.stdout.trim() ?? 'unknown';
    out.push({ check: `${unit} running`, target: host, severity: state === 'active' ? 'ok' : 'warning', detail: `${unit} ${state}`, value: state === 'active' ? 1 : 0 });
  }
  const servers = parseShowStat(p.get('haproxy-stat')?.stdout ?? '');
  for (const s of services) {
    const mine = servers.filter((x) => x.proxy === s.name);
    const up = mine.filter((x) => x.status.startsWith('UP'));
    const severity: Severity = mine.length === 0 ? 'warning' : up.length === 0 ? 'critical' : up.length < s.servers ? 'warning' : 'ok';
    const down = mine.filter((x) => !x.status.startsWith('UP')).map((x) => `${x.server} ${x.status}`);
    out.push({ check: 'haproxy backends', target: `${host} ${s.name}`, severity, detail: mine.length === 0 ? 'no state from the stats socket' : `${up.length}/${s.servers} UP${down.length ? ` (${down.join(', ')})` : ''}`, value: up.length });
  }
  const running = new Map((p.get('containers')?.stdout ?? '').split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
  for (const c of containers) {
    const state = running.get(c) ?? 'absent';
    out.push({ check: 'container running', target: `${host} ${c}`, severity: state === 'running' ? 'ok' : 'critical', detail: `container ${state}`, value: state === 'running' ? 1 : 0 });
  }
  return out;
}

export function worst(findings: readonly Finding[]): Severity {
  return findings.some((f) => f.severity === 'critical') ? 'critical' : findings.some((f) => f.severity === 'warning') ? 'warning' : 'ok';
}

/**
 * IPVS rules against the inventory on one node (seeds 002/003): a virtual service missing is
 * critical (its VIP drops traffic there), a real server missing or other differences a warning.
 */
export function ipvsFindings(host: string, p: Probe, expected: readonly VirtualService[], container?: string): Finding[] {
  const out: Finding[] = [];
  if (container) {
    const c = parseContainerFact(p.get('container')?.stdout ?? '');
    const running = c.kind === 'present' && c.status === 'running';
    const state = c.kind === 'present' ? c.status : c.kind === 'absent' ? 'absent' : 'absent (no docker)';
    out.push({ check: 'keepalived container', target: `${host} ${container}`, severity: running ? 'ok' : 'critical', detail: running ? 'running' : `container ${state}`, value: running ? 1 : 0 });
  }
  const text = p.get('ipvs')?.stdout ?? '';
  if (text.includes('@no-ipvsadm')) {
    out.push({ check: 'ipvs rules', target: host, severity: 'critical', detail: 'ipvsadm is not installed', value: 0 });
    return out;
  }
  const actual = parseIpvsadmList(text);
  const diff = describeIpvsDifferences(expected, actual);
  const servers = actual.reduce((n, s) => n + s.realServers.length, 0);
  const severity: Severity = diff.some((d) => / missing$/.test(d)) ? 'critical' : diff.length > 0 ? 'warning' : 'ok';
  out.push({ check: 'ipvs rules', target: host, severity, detail: diff.length === 0 ? `match the inventory (${expected.length} service(s), ${servers} real server(s))` : diff.join('; '), value: servers });
  return out;
}
