/**
 * The audit as Prometheus metrics (text format 0.0.4), for the exporter (`audit --serve`) and the
 * node_exporter textfile alike. Every series carries the inventory, so two inventories' metrics
 * never collide. One gauge per kind of state, with labels: names in base units.
 */
import type { CheckTopic, Severity } from '../checks/check.js';
import type { AuditReport } from './report.js';

const SEV: Record<Severity, number> = { ok: 0, warning: 1, critical: 2 };
const label = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ');

/** The last drill of one VIP, from the history. */
export interface DrillMetric {
  scenario: string;
  vip: string;
  at: string;
  moveS?: number;
  failed: number;
  total: number;
  passed: boolean;
}

export interface AuditMetrics {
  /** The last audit (undefined before the first one finished). */
  report?: AuditReport;
  /** Whether the last audit ran to its end (a crash or a bad inventory: 0). */
  up: boolean;
  durationS: number;
  drills?: DrillMetric[];
}

type Series = [labels: Record<string, string>, value: number];

function family(name: string, help: string, series: Series[]): string[] {
  if (series.length === 0) return [];
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`,
    ...series.map(([l, v]) => `${name}{${Object.entries(l).map(([k, x]) => `${k}="${label(x)}"`).join(',')}} ${Number.isFinite(v) ? v : 'NaN'}`)];
}


export function auditMetrics(inventory: string, m: AuditMetrics): string {
  const inv = { inventory };
  const r = m.report;
  const checks = r?.checks ?? [];
  const of = (topic: CheckTopic) => checks.filter((c) => c.topic === topic && c.value !== undefined);
  const lines = [
    ...family('lbdeploy_audit_up', 'Whether the last audit ran to its end (1) or failed to run (0).', [[inv, m.up ? 1 : 0]]),
    ...family('lbdeploy_audit_duration_seconds', 'How long the last audit took.', [[inv, m.durationS]]),
    ...(r ? [
      ...family('lbdeploy_audit_last_run_timestamp_seconds', 'When the last audit ran.', [[inv, Math.floor(Date.parse(r.generatedAt) / 1000)]]),
      ...family('lbdeploy_audit_status', 'Overall audit result: 0 ok, 1 warning, 2 critical.', [[inv, SEV[r.status]]]),
      ...family('lbdeploy_audit_check_status', 'Each check: 0 ok, 1 warning, 2 critical.', checks.map((c) => [{ ...inv, check: c.check, target: c.target }, SEV[c.severity]])),
      ...family('lbdeploy_audit_check_value', 'The measured value of a check (VIP holders, servers UP, days left...).', checks.filter((c) => c.value !== undefined).map((c) => [{ ...inv, check: c.check, target: c.target }, c.value!])),
      ...family('lbdeploy_vip_holders', 'How many nodes hold the VIP: 1 is healthy, 0 is down, more is split brain.', of('vip-holder').map((c) => [{ ...inv, vip: c.vip ?? '', name: c.target.split(' ')[0]! }, c.value!])),
      ...family('lbdeploy_certificate_expiry_seconds', 'Time left until the client certificate in a kubeconfig expires.', of('certificate').map((c) => [{ ...inv, target: c.target }, c.value! * 86400])),
      ...family('lbdeploy_drift_changes', 'How many steps `up` would change on the host.', of('drift').filter((c) => c.target !== 'prepare').map((c) => [{ ...inv, target: c.target }, c.value!])),
    ] : []),
    ...family('lbdeploy_drill_vip_move_seconds', 'The last drill: seconds until the VIP moved (NaN: it never moved).', (m.drills ?? []).map((d) => [{ ...inv, scenario: d.scenario, vip: d.vip }, d.moveS ?? NaN])),
    ...family('lbdeploy_drill_failed_requests', 'The last drill: requests through the VIP that failed while it moved.', (m.drills ?? []).map((d) => [{ ...inv, scenario: d.scenario, vip: d.vip }, d.failed])),
    ...family('lbdeploy_drill_passed', 'The last drill passed (1) or not (0).', (m.drills ?? []).map((d) => [{ ...inv, scenario: d.scenario, vip: d.vip }, d.passed ? 1 : 0])),
    ...family('lbdeploy_drill_last_run_timestamp_seconds', 'When the last drill of the VIP ran.', (m.drills ?? []).map((d) => [{ ...inv, scenario: d.scenario, vip: d.vip }, Math.floor(Date.parse(d.at) / 1000)])),
  ];
  return lines.join('\n') + '\n';
}
