/** Check results (verify, failover-test, audit) as a table or JSON. */
import { table } from './console.js';

export interface CheckRow {
  check: string;
  target: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

export function checksTable(rows: readonly CheckRow[]): string {
  const mark = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;
  const body = table(['CHECK', 'TARGET', 'STATUS', 'DETAIL'], rows.map((r) => [r.check, r.target, mark[r.status], r.detail]));
  const n = (s: CheckRow['status']) => rows.filter((r) => r.status === s).length;
  return `${body}\n\n${n('ok')} ok, ${n('warn')} warning(s), ${n('fail')} failed`;
}
