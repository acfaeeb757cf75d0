/** Audit outputs: table, JSON, JUnit XML, Prometheus textfile (the HTML report is html.ts). */
import { checksTable, SEVERITY_MARK } from '../checks/check.js';
import { auditMetrics, type DrillMetric } from './metrics.js';
import type { AuditReport } from './report.js';

export type { AuditReport };
import { esc } from './svg.js';


export function auditTable(r: AuditReport): string {
  return checksTable(r.checks, `audit ${SEVERITY_MARK[r.status]}: `);
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
