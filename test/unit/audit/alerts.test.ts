/** The alert rules shipped in files/prometheus: valid for Prometheus, and each fires when it should (promtool's own rule tests). */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { auditMetrics } from '../../../src/audit/metrics.js';
import { parseYaml } from '../../../src/yaml.js';

const DIR = 'files/prometheus';

function promtool(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed (apt-get install prometheus): ${r.error.message}`);
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('alert rules (promtool)', () => {
  it('promtool check rules accepts them', () => {
    const r = promtool('check', 'rules', 'lbdeploy-alerts.yml');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 7 rules found/);
  });
  it('promtool test rules: every alert fires when it should, and not before', () => {
    const r = promtool('test', 'rules', 'lbdeploy-alerts.test.yml');
    assert.equal(r.code, 0, r.out);
  });
  it('every alert has a test, and every rule reads a metric the exporter writes', () => {
    const rules = (parseYaml(readFileSync(`${DIR}/lbdeploy-alerts.yml`, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups[0]!.rules;
    const tests = readFileSync(`${DIR}/lbdeploy-alerts.test.yml`, 'utf8');
    const written = auditMetrics('inv.yaml', {
      up: true, durationS: 1,
      report: { inventory: 'inv.yaml', generatedAt: new Date().toISOString(), status: 'ok', checks: [
        { check: 'vip holder', topic: 'vip-holder', vip: '198.18.0.100', target: 'VI 198.18.0.100', severity: 'ok', detail: '', value: 1 },
        { check: 'kubeconfig certificate', topic: 'certificate', target: 'lb1 /k', severity: 'ok', detail: '', value: 300 },
        { check: 'drift', topic: 'drift', target: 'lb1', severity: 'ok', detail: '', value: 0 },
        { check: 'haproxy backends', target: 'lb1 web', severity: 'ok', detail: '', value: 3 },
      ] },
    });
    for (const r of rules) {
      assert.match(tests, new RegExp(`alertname: ${r.alert}\\n`), `${r.alert} is tested`);
      for (const metric of r.expr.match(/lbdeploy_[a-z_]+/g) ?? []) assert.match(written, new RegExp(`^${metric}\\{`, 'm'), `${r.alert} reads ${metric}`);
    }
  });
});
