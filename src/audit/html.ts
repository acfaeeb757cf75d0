/**
 * The audit's HTML report: one self-contained file (no script, no external resource) with the
 * topology picture, the trends over the history, and the checks as tables.
 */
import type { Check, CheckTopic, Severity } from '../checks/check.js';
import type { AuditReport } from './formats.js';
import type { AuditRecord, DrillRecord, HistoryRecord } from './history.js';
import { esc, statusStrip, topologySvg, trendSvg, type Trend } from './svg.js';

export interface Trends {
  certs: Trend;
  drills: Trend;
  drift: Trend;
  status: { t: number; status: Severity }[];
}

/** "lb1 /etc/keepalived/kubecfg/kubecfg01.conf" -> "lb1 kubecfg01.conf", unless two would read the same. */
export function shortNames(targets: readonly string[]): Map<string, string> {
  const short = (t: string) => t.replace(/ \S*\/([^/\s]+)$/, ' $1');
  const count = new Map<string, number>();
  for (const x of targets) count.set(short(x), (count.get(short(x)) ?? 0) + 1);
  return new Map(targets.map((x) => [x, count.get(short(x)) === 1 ? short(x) : x]));
}

/** The history as chart series: certificate days left per kubeconfig, each drill's VIP move, drift per audit. */
export function trendsOf(records: readonly HistoryRecord[]): Trends {
  const audits = records.filter((r): r is AuditRecord => r.type === 'audit');
  const drills = records.filter((r): r is DrillRecord => r.type === 'drill');
  const t = (r: HistoryRecord) => Date.parse(r.at);
  const group = <T>(items: readonly T[], key: (x: T) => string) => {
    const m = new Map<string, T[]>();
    for (const x of items) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
    return m;
  };
  const certs = group(audits.flatMap((a) => a.certs.map((c) => ({ ...c, t: t(a) }))), (c) => c.target);
  const last = audits[audits.length - 1];
  const short = shortNames([...certs.keys()]);
  const worstMove = Math.max(1, ...drills.map((d) => d.moveS ?? 0));
  return {
    certs: {
      id: 'certs', unit: 'days',
      series: [...certs].map(([name, pts]) => ({ name: short.get(name)!, points: pts.map((p) => ({ t: p.t, y: p.daysLeft })) })),
      thresholds: last && last.certs.length > 0 ? [
        { value: last.warnDays, severity: 'warning', label: `warning under ${last.warnDays} days` },
        { value: last.critDays, severity: 'critical', label: `critical under ${last.critDays} days` },
      ] : [],
    },
    drills: {
      id: 'drills', unit: 's',
      // A drill whose VIP never moved is drawn at the top of the chart's scale, in red.
      series: [...group(drills, (d) => `${d.scenario} ${d.vip}`)].map(([name, ds]) => ({
        name, points: ds.map((d) => ({ t: t(d), y: d.moveS ?? worstMove, severity: d.passed ? 'ok' as const : 'critical' as const })),
      })),
    },
    drift: {
      id: 'drift', unit: 'steps',
      series: [
        { name: 'steps up would change', points: audits.filter((a) => a.drift).map((a) => ({ t: t(a), y: a.drift!.steps })) },
        { name: 'hosts that drifted', points: audits.filter((a) => a.drift).map((a) => ({ t: t(a), y: a.drift!.hosts })) },
      ],
    },
    status: audits.map((a) => ({ t: t(a), status: a.status })),
  };
}

const MARK: Record<Severity, string> = { ok: 'ok', warning: 'warning', critical: 'critical' };

function rows(checks: readonly Check[], cells: (c: Check) => string[], sevAt: number): string {
  if (checks.length === 0) return '<tr><td colspan="4" class="none">none</td></tr>';
  return checks.map((c) => `<tr>${cells(c).map((x, i) => (i === sevAt ? `<td class="sev ${c.severity}">${esc(x)}</td>` : `<td>${esc(x)}</td>`)).join('')}</tr>`).join('\n');
}

export function auditHtml(r: AuditReport, history: readonly HistoryRecord[] = []): string {
  const tr = trendsOf(history);
  const audits = history.filter((x) => x.type === 'audit').length;
  const drills = history.filter((x) => x.type === 'drill').length;
  const by = (topic: CheckTopic) => r.checks.filter((c) => c.topic === topic);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lbdeploy audit: ${esc(r.inventory)}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
  h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
  .status { display: inline-block; padding: .2em .7em; border-radius: .4em; font-weight: 600; color: #fff; }
  .ok { background: #2e7d32; } .warning { background: #ed6c02; } .critical { background: #c62828; }
  table { border-collapse: collapse; min-width: 40em; }
  th, td { text-align: left; padding: .3em .8em; border-bottom: 1px solid #ddd; }
  td.sev { font-weight: 600; background: none; } td.sev.ok { color: #2e7d32; } td.sev.warning { color: #ed6c02; } td.sev.critical { color: #c62828; }
  td.none, p.empty { color: #777; }
  svg { display: block; margin: .4em 0; }
</style>
</head>
<body>
<h1>lbdeploy audit <span id="status" class="status ${r.status}">${MARK[r.status].toUpperCase()}</span></h1>
<p id="meta">${esc(`${r.inventory}, ${r.generatedAt}: ${r.checks.length} checks; history: ${audits} audit(s), ${drills} drill(s)`)}</p>
<h2>Topology</h2>
${topologySvg(r.topology ?? [])}
<h2>Trends</h2>
<h3>Audit results</h3>
${statusStrip(tr.status)}
<h3>Certificate days left</h3>
${trendSvg(tr.certs)}
<h3>Drills: seconds until the VIP moved</h3>
${trendSvg(tr.drills)}
<h3>Drift: what up would change</h3>
${trendSvg(tr.drift)}
<h2>VIPs and their holders</h2><table id="vips"><thead><tr><th>VIP</th><th>Status</th><th>Holder</th></tr></thead><tbody>
${rows(by('vip-holder'), (c) => [c.target, c.severity, c.detail], 1)}
</tbody></table>
<h2>Backends</h2><table id="backends"><thead><tr><th>Node / service</th><th>Status</th><th>Servers</th></tr></thead><tbody>
${rows(by('backends'), (c) => [c.target, c.severity, c.detail], 1)}
</tbody></table>
<h2>Certificate expiry</h2><table id="certs"><thead><tr><th>Node / kubeconfig</th><th>Status</th><th>Days left</th><th>Detail</th></tr></thead><tbody>
${rows(by('certificate'), (c) => [c.target, c.severity, c.value === undefined ? '-' : String(c.value), c.detail], 1)}
</tbody></table>
<h2>All checks</h2><table id="all"><thead><tr><th>Check</th><th>Target</th><th>Status</th><th>Detail</th></tr></thead><tbody>
${rows(r.checks, (c) => [c.check, c.target, c.severity, c.detail], 2)}
</tbody></table>
</body>
</html>
`;
}
