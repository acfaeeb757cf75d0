/** Audit outputs: table, JSON, JUnit XML, Prometheus textfile, and a self-contained HTML report. */
import { table } from '../report/console.js';
import type { Check, Severity } from '../checks/check.js';
import { auditMetrics } from './metrics.js';

export interface AuditReport {
  inventory: string;
  generatedAt: string;
  status: Severity;
  checks: Check[];
}

const MARK: Record<Severity, string> = { ok: 'ok', warning: 'WARNING', critical: 'CRITICAL' };

export function auditTable(r: AuditReport): string {
  const n = (s: Severity) => r.checks.filter((f) => f.severity === s).length;
  return `${table(['CHECK', 'TARGET', 'STATUS', 'DETAIL'], r.checks.map((f) => [f.check, f.target, MARK[f.severity], f.detail]))}\n\n` +
    `audit ${MARK[r.status]}: ${n('ok')} ok, ${n('warning')} warning(s), ${n('critical')} critical`;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function auditJunit(r: AuditReport): string {
  const failures = r.checks.filter((f) => f.severity !== 'ok').length;
  const cases = r.checks.map((f) => {
    const open = `    <testcase classname="lbdeploy.audit.${xml(f.check.replace(/\s+/g, '_'))}" name="${xml(f.target)}">`;
    if (f.severity === 'ok') return `${open}</testcase>`;
    return `${open}\n      <failure type="${f.severity}" message="${xml(f.detail)}">${xml(`${f.check} ${f.target}: ${f.detail}`)}</failure>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="lbdeploy audit" tests="${r.checks.length}" failures="${failures}">
  <testsuite name="${xml(r.inventory)}" tests="${r.checks.length}" failures="${failures}" timestamp="${r.generatedAt}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

/** node_exporter textfile collector format: the exporter's metrics for one audit. */
export function auditPrometheus(r: AuditReport, durationS = 0): string {
  return auditMetrics(r.inventory, { report: r, up: true, durationS });
}

/** One HTML file, no external resources: the report's data is embedded and rendered by a small script. */
export function auditHtml(r: AuditReport): string {
  const data = JSON.stringify(r).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lbdeploy audit: ${xml(r.inventory)}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
  h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
  .status { display: inline-block; padding: .2em .7em; border-radius: .4em; font-weight: 600; color: #fff; }
  .ok { background: #2e7d32; } .warning { background: #ed6c02; } .critical { background: #c62828; }
  table { border-collapse: collapse; min-width: 40em; }
  th, td { text-align: left; padding: .3em .8em; border-bottom: 1px solid #ddd; }
  td.sev { font-weight: 600; } td.sev.ok { color: #2e7d32; background: none; } td.sev.warning { color: #ed6c02; background: none; } td.sev.critical { color: #c62828; background: none; }
</style>
</head>
<body>
<h1>lbdeploy audit <span id="status" class="status"></span></h1>
<p id="meta"></p>
<h2>VIPs and their holders</h2><table id="vips"><thead><tr><th>VIP</th><th>Status</th><th>Holder</th></tr></thead><tbody></tbody></table>
<h2>Backends</h2><table id="backends"><thead><tr><th>Node / service</th><th>Status</th><th>Servers</th></tr></thead><tbody></tbody></table>
<h2>Certificate expiry</h2><table id="certs"><thead><tr><th>Node / kubeconfig</th><th>Status</th><th>Days left</th><th>Detail</th></tr></thead><tbody></tbody></table>
<h2>All checks</h2><table id="all"><thead><tr><th>Check</th><th>Target</th><th>Status</th><th>Detail</th></tr></thead><tbody></tbody></table>
<script id="data" type="application/json">${data}</script>
<script>
  const r = JSON.parse(document.getElementById('data').textContent);
  const st = document.getElementById('status');
  st.textContent = r.status.toUpperCase(); st.className = 'status ' + r.status;
  document.getElementById('meta').textContent = r.inventory + ', ' + r.generatedAt + ': ' + r.checks.length + ' checks';
  function row(id, cells, sev, sevAt) {
    const tr = document.createElement('tr');
    cells.forEach(function (c, i) {
      const td = document.createElement('td'); td.textContent = String(c);
      if (i === sevAt) td.className = 'sev ' + sev;
      tr.appendChild(td);
    });
    document.querySelector('#' + id + ' tbody').appendChild(tr);
  }
  r.checks.forEach(function (f) {
    if (f.check === 'vip holder') row('vips', [f.target, f.severity, f.detail], f.severity, 1);
    if (f.check === 'haproxy backends') row('backends', [f.target, f.severity, f.detail], f.severity, 1);
    if (f.check === 'kubeconfig certificate') row('certs', [f.target, f.severity, f.value === undefined ? '-' : f.value, f.detail], f.severity, 1);
    row('all', [f.check, f.target, f.severity, f.detail], f.severity, 2);
  });
</script>
</body>
</html>
`;
}
