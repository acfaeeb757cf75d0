/** Audit outputs: table, JSON, JUnit XML, Prometheus textfile (the HTML report is html.ts). */
import { table } from '../report/console.js';
import type { Check, Severity } from '../checks/check.js';
import { auditMetrics, type DrillMetric } from './metrics.js';
import type { TopologyCluster } from './topology.js';
import { esc } from './svg.js';

export interface AuditReport {
  inventory: string;
  generatedAt: string;
  status: Severity;
  checks: Check[];
  /** Each VRRP cluster: VIPs, holder and backups, backends, coloured by state (the HTML report's picture). */
  topology?: TopologyCluster[];
}

const MARK: Record<Severity, string> = { ok: 'ok', warning: 'WARNING', critical: 'CRITICAL' };

export function auditTable(r: AuditReport): string {
  const n = (s: Severity) => r.checks.filter((f) => f.severity === s).length;
  return `${table(['CHECK', 'TARGET', 'STATUS', 'DETAIL'], r.checks.map((f) => [f.check, f.target, MARK[f.severity], f.detail]))}\n\n` +
    `audit ${MARK[r.status]}: ${n('ok')} ok, ${n('warning')} warning(s), ${n('critical')} critical`;
}


export function auditJunit(r: AuditReport): string {
  const failures = r.checks.filter((f) => f.severity !== 'ok').length;
  const cases = r.checks.map((f) => {
    const open = `    <testcase classname="lbdeploy.audit.${esc(f.check.replace(/\s+/g, '_'))}" name="${esc(f.target)}">`;
    if (f.severity === 'ok') return `${open}</testcase>`;
    return `${open}\n      <failure type="${f.severity}" message="${esc(f.detail)}">${esc(`${f.check} ${f.target}: ${f.detail}`)}</failure>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="lbdeploy audit" tests="${r.checks.length}" failures="${failures}">
  <testsuite name="${esc(r.inventory)}" tests="${r.checks.length}" failures="${failures}" timestamp="${r.generatedAt}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

/** node_exporter textfile collector format: the exporter's metrics for one audit. */
export function auditPrometheus(r: AuditReport, durationS = 0, drills: DrillMetric[] = []): string {
  return auditMetrics(r.inventory, { report: r, up: true, durationS, drills });
}
