/**
 * The one result type of verify, `up`'s readiness wait and audit: a check with a severity.
 * verify and readiness need every check ok; audit grades by the worst severity. It sits with the
 * run's events (report/events.ts carries checks); checks/ produces them.
 */

export type Severity = 'ok' | 'warning' | 'critical';

/**
 * What a check is about, for the outputs that group or measure checks (metrics, the HTML report,
 * the audit's history and topology picture): they read this, never a check's name.
 */
export type CheckTopic = 'vip-holder' | 'vip-request' | 'backends' | 'certificate' | 'drift' | 'reachability';

export interface Check {
  check: string;
  target: string;
  severity: Severity;
  detail: string;
  /** A number for Prometheus (days left, holders, servers UP...). */
  value?: number;
  topic?: CheckTopic;
  /** The VIP address it is about (vip-holder, vip-request), without brackets or port. */
  vip?: string;
}

export function worst(checks: readonly Check[]): Severity {
  return checks.some((c) => c.severity === 'critical') ? 'critical' : checks.some((c) => c.severity === 'warning') ? 'warning' : 'ok';
}

export const allOk = (checks: readonly Check[]) => checks.every((c) => c.severity === 'ok');

/** One line per check that is not ok, for a readiness wait that gave up. */
export const describeCheck = (c: Check) => `${c.check} ${c.target}: ${c.detail}`;
