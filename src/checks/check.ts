/**
 * The one result type of verify, `up`'s readiness wait and audit: a check with a severity.
 * verify and readiness need every check ok; audit grades by the worst severity.
 */
import { table } from '../report/console.js';

export type Severity = 'ok' | 'warning' | 'critical';

export interface Check {
  check: string;
  target: string;
  severity: Severity;
  detail: string;
  /** A number for Prometheus (days left, holders, servers UP...). */
  value?: number;
}

export function worst(checks: readonly Check[]): Severity {
  return checks.some((c) => c.severity === 'critical') ? 'critical' : checks.some((c) => c.severity === 'warning') ? 'warning' : 'ok';
}

export const allOk = (checks: readonly Check[]) => checks.every((c) => c.severity === 'ok');

const MARK: Record<Severity, string> = { ok: 'ok', warning: 'WARNING', critical: 'CRITICAL' };

export function checksTable(checks: readonly Check[]): string {
  const n = (s: Severity) => checks.filter((c) => c.severity === s).length;
  return `${table(['CHECK', 'TARGET', 'STATUS', 'DETAIL'], checks.map((c) => [c.check, c.target, MARK[c.severity], c.detail]))}\n\n` +
    `${n('ok')} ok, ${n('warning')} warning(s), ${n('critical')} critical`;
}

/** One line per check that is not ok, for a readiness wait that gave up. */
export const describeCheck = (c: Check) => `${c.check} ${c.target}: ${c.detail}`;
