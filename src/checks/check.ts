/**
 * The one result type of verify, `up`'s readiness wait and audit: a check with a severity.
 * verify and readiness need every check ok; audit grades by the worst severity.
 */
import { table } from '../report/console.js';
import type { Check, Severity } from '../report/check.js';

export { allOk, describeCheck, worst, type Check, type CheckTopic, type Severity } from '../report/check.js';

/** How a severity reads in a table. */
export const SEVERITY_MARK: Record<Severity, string> = { ok: 'ok', warning: 'WARNING', critical: 'CRITICAL' };

/** The checks as a table, then one summary line (after `heading`, e.g. "audit CRITICAL: "). */
export function checksTable(checks: readonly Check[], heading = ''): string {
  const n = (s: Severity) => checks.filter((c) => c.severity === s).length;
  return `${table(['CHECK', 'TARGET', 'STATUS', 'DETAIL'], checks.map((c) => [c.check, c.target, SEVERITY_MARK[c.severity], c.detail]))}\n\n` +
    `${heading}${n('ok')} ok, ${n('warning')} warning(s), ${n('critical')} critical`;
}
