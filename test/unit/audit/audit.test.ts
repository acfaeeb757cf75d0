import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { validateObjects } from '../../../src/kube/objects.js';
import { parseYaml } from '../../../src/yaml.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { worst, type Check } from '../../../src/checks/check.js';
import { vipHolderChecks } from '../../../src/checks/vip.js';
import type { NodeProbe } from '../../../src/checks/probe.js';
import { containerCheck, ipvsTableCheck } from '../../../src/checks/ipvs.js';
import { certChecks } from '../../../src/kinds/kubeconfig/checks.js';
import { evaluateHaNodes } from '../../../src/kinds/haproxy-keepalived/checks.js';
import { auditJunit, auditPrometheus, auditTable, type AuditReport } from '../../../src/audit/formats.js';
import { auditHtml } from '../../../src/audit/html.js';
import { cronJob, cronSpec, crontabLine, parseEvery, scheduleNames, systemdUnits } from '../../../src/audit/schedule.js';
import { withPki } from '../../helpers/certs.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('audit: checks', () => {
  it('grades kubeconfig certificates by days left: ok, warning under 30, critical under 7 or expired', async function () {
    this.timeout(30_000);
    const lines = await withPki(async (pki) => {
      const out: string[] = [];
      for (const [name, days] of [['long', 200], ['soon', 20], ['urgent', 3], ['gone', -1]] as const) {
        const [crt] = await pki.adminCert({ notBeforeDays: days < 0 ? -30 : -1, notAfterDays: days });
        out.push(`/etc/keepalived/kubecfg/${name}.conf\t${b64(crt)}`);
      }
      return out.join('\n') + '\n';
    });
    const f = certChecks('lb1', lines + '/etc/x.conf\tbm90IGEgY2VydA==\n', { warnDays: 30, critDays: 7 });
    assert.deepEqual(f.map((x) => `${x.target.split('/').pop()}:${x.severity}`), ['long.conf:ok', 'soon.conf:warning', 'urgent.conf:critical', 'gone.conf:critical', 'x.conf:critical']);
    assert.match(f[3]!.detail, /^expired/);
  });

  const ip = (addrs: string[]) => new Map([['addresses', { stdout: addrs.map((a) => `2: eth0    inet ${a}/24 scope global eth0`).join('\n'), code: 0 }]]);
  it('VIP: one holder ok, none or two critical (split brain)', () => {
    const vips = [{ name: 'VI', address: '198.18.0.100' }];
    assert.equal(vipHolderChecks(vips, new Map([['lb1', ip(['198.18.0.11', '198.18.0.100'])], ['lb2', ip(['198.18.0.12'])]]))[0]!.severity, 'ok');
    const split = vipHolderChecks(vips, new Map<string, NodeProbe>([['lb1', ip(['198.18.0.100'])], ['lb2', ip(['198.18.0.100'])], ['lb3', { error: 'timed out' }]]))[0]!;
    assert.equal(split.severity, 'critical');
    assert.equal(split.detail, 'split brain: held by lb1, lb2');
    assert.equal(vipHolderChecks(vips, new Map([['lb1', ip(['198.18.0.11'])]]))[0]!.detail, 'no node holds the VIP');
  });

  // One table drives verify, the readiness wait and audit: they all read these checks.
  const node = (o: { addrs?: string[]; keepalived?: string; haproxy?: string; stat?: string; vrrp?: string }) => new Map([
    ['addresses', { stdout: (o.addrs ?? ['198.18.0.11']).map((a) => `2: eth0    inet ${a}/24 scope global eth0`).join('\n'), code: 0 }],
    ['keepalived', { stdout: `${o.keepalived ?? 'active'}\n`, code: 0 }], ['haproxy', { stdout: `${o.haproxy ?? 'active'}\n`, code: 0 }],
    ['haproxy-stat', { stdout: o.stat ?? '# pxname,svname,status\nsvc,a,UP\nsvc,b,UP\n', code: 0 }],
    ['vrrp-state', { stdout: o.vrrp ?? '', code: 0 }],
  ]);
  const HA_CASES: { what: string; nodes: [string, ReturnType<typeof node> | { error: string }][]; notOk: string[] }[] = [
    { what: 'healthy: one holder, both units active, backends UP', nodes: [['lb1', node({ addrs: ['198.18.0.11', '198.18.0.100'] })], ['lb2', node({})]], notOk: [] },
    { what: 'keepalived stopped on a backup: a warning', nodes: [['lb1', node({ addrs: ['198.18.0.100'] })], ['lb2', node({ keepalived: 'inactive' })]], notOk: ['keepalived lb2 warning'] },
    { what: 'no holder: critical', nodes: [['lb1', node({})], ['lb2', node({})]], notOk: ['vip holder VI 198.18.0.100 critical'] },
    { what: 'split brain: critical', nodes: [['lb1', node({ addrs: ['198.18.0.100'] })], ['lb2', node({ addrs: ['198.18.0.100'] })]], notOk: ['vip holder VI 198.18.0.100 critical'] },
    { what: 'a backend DOWN: warning; all DOWN: critical', nodes: [['lb1', node({ addrs: ['198.18.0.100'], stat: '# pxname,svname,status\nsvc,a,UP\nsvc,b,DOWN\n' })], ['lb2', node({ stat: '# pxname,svname,status\nsvc,a,DOWN\nsvc,b,DOWN\n' })]], notOk: ['backends lb1 svc warning', 'backends lb2 svc critical'] },
    { what: 'no stats socket yet: a warning', nodes: [['lb1', node({ addrs: ['198.18.0.100'], stat: '' })], ['lb2', node({})]], notOk: ['backends lb1 svc warning'] },
    { what: 'a backup in FAULT (keepalived\'s own record): a warning, it cannot take the VIP over', nodes: [['lb1', node({ addrs: ['198.18.0.100'], vrrp: 'VI MASTER\n' })], ['lb2', node({ vrrp: 'VI FAULT\nVI6 BACKUP\n' })]], notOk: ['keepalived lb2 warning'] },
    { what: 'no record yet (keepalived did not change state since the notify script came): no finding', nodes: [['lb1', node({ addrs: ['198.18.0.100'] })], ['lb2', node({ vrrp: '' })]], notOk: [] },
    { what: 'unreachable node: critical', nodes: [['lb1', node({ addrs: ['198.18.0.100'] })], ['lb2', { error: 'timed out' }]], notOk: ['node lb2 critical'] },
  ];
  for (const c of HA_CASES) {
    it(`haproxy-keepalived checks: ${c.what}`, () => {
      const checks = evaluateHaNodes([{ name: 'VI', address: '198.18.0.100' }], [{ name: 'svc', servers: 2 }], new Map(c.nodes));
      assert.deepEqual(checks.filter((x) => x.severity !== 'ok').map((x) => `${x.check} ${x.target} ${x.severity}`), c.notOk);
    });
  }

  it('the FAULT finding says which instance and what it means', () => {
    const checks = evaluateHaNodes([{ name: 'VI', address: '198.18.0.100' }], [{ name: 'svc', servers: 2 }], new Map([['lb1', node({ addrs: ['198.18.0.100'] })], ['lb2', node({ vrrp: 'VI FAULT\n' })]]));
    assert.equal(checks.find((c) => c.check === 'keepalived' && c.target === 'lb2')!.detail, 'active, FAULT in VI: a tracked check, process or interface failed there, so this node cannot take the VIP over');
  });

  it('a container that must run: running ok, exited or absent critical', () => {
    const p = (out: string) => new Map([['docker-container:keepalived', { stdout: out, code: 0 }]]);
    assert.deepEqual(['running 0', 'exited 0', '@absent'].map((o) => containerCheck('lb1', p(o), 'keepalived').severity), ['ok', 'critical', 'critical']);
  });

  it('the worst finding decides', () => {
    const f = (severity: Check['severity']): Check => ({ check: 'c', target: 't', severity, detail: '' });
    assert.equal(worst([f('ok'), f('ok')]), 'ok');
    assert.equal(worst([f('ok'), f('warning')]), 'warning');
    assert.equal(worst([f('warning'), f('critical'), f('ok')]), 'critical');
  });
});

describe('audit: outputs', () => {
  const report: AuditReport = {
    inventory: 'inv.yaml', generatedAt: '2026-11-22T00:00:00.000Z', status: 'critical',
    checks: [
      { check: 'vip holder', topic: 'vip-holder', vip: '198.18.0.100', target: 'VI 198.18.0.100', severity: 'critical', detail: 'split brain: held by lb1, lb2', value: 2 },
      { check: 'kubeconfig certificate', topic: 'certificate', target: 'lb1 /etc/k/kubecfg01.conf', severity: 'warning', detail: '20 days left <soon> & "quoted"', value: 20 },
      { check: 'ssh', topic: 'reachability', target: 'lb1', severity: 'ok', detail: 'answered', value: 1 },
    ],
  };
  it('table', () => assert.match(auditTable(report), /audit CRITICAL: 1 ok, 1 warning\(s\), 1 critical$/));
  it('JUnit XML: a failure per finding that is not ok, escaped', () => {
    const x = auditJunit(report);
    assert.match(x, /<testsuites name="lbdeploy audit" tests="3" failures="2">/);
    assert.match(x, /<failure type="critical" message="split brain: held by lb1, lb2">/);
    assert.match(x, /20 days left &lt;soon&gt; &amp; &quot;quoted&quot;/);
    if (spawnSync('sh', ['-c', 'command -v xmllint']).status === 0) {
      assert.equal(spawnSync('xmllint', ['--noout', '-'], { input: x }).status, 0);
    }
  });
  it('Prometheus textfile: HELP/TYPE once per metric, one sample per line', () => {
    const p = auditPrometheus(report);
    assert.match(p, /^lbdeploy_audit_status\{inventory="inv.yaml"\} 2$/m);
    assert.match(p, /^lbdeploy_audit_check_value\{inventory="inv.yaml",check="kubeconfig certificate",target="lb1 \/etc\/k\/kubecfg01.conf"\} 20$/m);
    assert.match(p, /^lbdeploy_certificate_expiry_seconds\{inventory="inv.yaml",target="lb1 \/etc\/k\/kubecfg01.conf"\} 1728000$/m);
    for (const line of p.trim().split('\n')) assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+\{[^}]*\} -?\d+(\.\d+)?)$/, line);
    assert.equal((p.match(/# TYPE lbdeploy_audit_check_status /g) ?? []).length, 1);
  });
  it('HTML: self-contained, no script, every text escaped', () => {
    const h = auditHtml({ ...report, checks: [...report.checks, { check: 'x', target: '</script><b>', severity: 'ok', detail: '' }] });
    assert.doesNotMatch(h, /(src|href)=["']https?:/);
    assert.doesNotMatch(h, /<script/);
    assert.doesNotMatch(h, /<b>/);
    assert.match(h, /&lt;\/script&gt;&lt;b&gt;/);
  });
});

describe('audit: scheduling', () => {
  const cases: [string, number, string][] = [
    ['15m', 15, '*/15 * * * *'], ['1m', 1, '* * * * *'], ['1h', 60, '0 * * * *'], ['60m', 60, '0 * * * *'], ['5min', 5, '*/5 * * * *'],
    ['6h', 360, '0 */6 * * *'], ['8h', 480, '0 */8 * * *'], ['24h', 1440, '0 0 * * *'],
  ];
  for (const [text, minutes, cron] of cases) {
    it(`--every ${text}`, () => {
      assert.deepEqual(parseEvery(text), { minutes });
      assert.equal(cronSpec(parseEvery(text)), cron);
    });
  }
  it('refuses a period cron cannot keep (its steps restart each hour and day) instead of scheduling another one', () => {
    for (const text of ['7m', '90m', '45m', '5h', '7h']) assert.throws(() => cronSpec(parseEvery(text)), /cron cannot run something every \d+ min/, text);
  });
  it('rejects a bad --every', () => {
    for (const bad of ['15', '0m', '2d', 'soon']) assert.throws(() => parseEvery(bad));
  });
  const target = { argv: [process.execPath, '/opt/lbdeploy/dist/src/cli/main.js', 'audit', '/etc/lbdeploy/inv.yaml', '--output', 'prometheus', '--output-file', '/var/lib/node_exporter/textfile_collector/lbdeploy_audit.prom'], inventory: '/etc/lbdeploy/inv.yaml', textfile: '/x', every: { minutes: 15 },
    names: scheduleNames('/etc/lbdeploy/inv.yaml'), image: 'registry.example/lbdeploy:0.1.0' };
  it('names per inventory: two inventories, two timers, textfiles and CronJobs', () => {
    const a = scheduleNames('/srv/site-a/inventory.yaml');
    const b = scheduleNames('/srv/site-b/inventory.yaml');
    assert.match(a.unit, /^lbdeploy-audit-inventory-[0-9a-f]{8}$/);
    assert.match(a.textfile, /^lbdeploy_audit_inventory_[0-9a-f]{8}\.prom$/);
    for (const k of ['unit', 'textfile', 'cronJob', 'history'] as const) assert.notEqual(a[k], b[k]);
    assert.match(a.history, /^inventory-[0-9a-f]{8}\.jsonl$/);
    assert.deepEqual(scheduleNames('/srv/site-a/inventory.yaml'), a, 'stable');
    assert.match(scheduleNames('/x/Prod Site!.yml').unit, /^lbdeploy-audit-prod-site-[0-9a-f]{8}$/);
    assert.ok(a.cronJob.length <= 52, 'a CronJob name leaves room for the Job suffix');
  });
  it('systemd units that systemd-analyze accepts', function () {
    if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) throw new Error('systemd-analyze is not installed (apt-get install systemd)');
    const dir = mkdtempSync(join(tmpdir(), 'lbd-units-'));
    try {
      const u = systemdUnits(target);
      writeFileSync(join(dir, 'lbdeploy-audit.service'), u.service);
      writeFileSync(join(dir, 'lbdeploy-audit.timer'), u.timer);
      assert.match(u.timer, /OnUnitActiveSec=15min/);
      assert.match(u.service, /SuccessExitStatus=1 2/);
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'lbdeploy-audit.service'), join(dir, 'lbdeploy-audit.timer')], { encoding: 'utf8' });
      const complaints = (r.stderr + r.stdout).split('\n').filter((l) => l.includes('lbdeploy-audit'));
      assert.deepEqual(complaints, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('the crontab line and the CronJob', () => {
    assert.match(crontabLine(target), /^\*\/15 \* \* \* \* root \S+node \/opt\/lbdeploy\/dist\/src\/cli\/main\.js audit \/etc\/lbdeploy\/inv\.yaml --output prometheus --output-file \S+lbdeploy_audit\.prom >\/dev\/null 2>&1$/);
    const cj = cronJob(target);
    assert.match(cj, /kind: CronJob/);
    assert.match(cj, /schedule: "\*\/15 \* \* \* \*"/);
    // A pinned image and nothing fetched at run time: it works air-gapped.
    assert.match(cj, /image: registry\.example\/lbdeploy:0\.1\.0\n/);
    assert.doesNotMatch(cj, /npx|npm|--yes|:latest/);
    // A Job's pod keeps nothing: no history unless --history names a mounted file.
    assert.match(cj, /args: \["audit", "\/etc\/lbdeploy\/inventory\.yaml", "--output", "json", "--history", "none"\]/);
    assert.match(cronJob({ ...target, history: '/var/lib/lbdeploy/h.jsonl' }), /"--history", "\/var\/lib\/lbdeploy\/h\.jsonl"\]/);
    const obj = new CronJob(parseYaml(cj) as never);
    assert.deepEqual(validateObjects([obj]), []);
    assert.equal(obj.metadata?.name, target.names.cronJob);
  });
});

describe('IPVS table and container checks (verify, readiness, audit; seeds 002/003)', () => {
  const expected = [{ protocol: 'tcp' as const, address: '198.18.0.201', port: 80, scheduler: 'rr', realServers: ['21', '22'].map((n) => ({ address: `198.18.0.${n}`, port: 80, forward: 'route' as const, weight: 1 })) }];
  const head = 'TCP  198.18.0.201:80 rr\n';
  const rs = (n: string) => `  -> 198.18.0.${n}:80   Route   1   0   0\n`;
  const p = (ipvs: string, container = 'running 0') => new Map([['ipvs', { stdout: ipvs, code: 0 }], ['docker-container:keepalived', { stdout: container, code: 0 }]]);
  const cases: { what: string; probe: ReturnType<typeof p>; expect: [string, string, RegExp][] }[] = [
    { what: 'as inventoried -> ok', probe: p(head + rs('21') + rs('22')), expect: [['container', 'ok', /running/], ['ipvs table', 'ok', /matches the plan: 1 virtual service\(s\), 2 real server\(s\)/]] },
    { what: 'a real server dropped by its health check -> warning', probe: p(head + rs('21')), expect: [['container', 'ok', /running/], ['ipvs table', 'warning', /real server 198\.18\.0\.22:80 missing/]] },
    { what: 'the service gone, the container exited -> critical', probe: p('', 'exited 0'), expect: [['container', 'critical', /exited/], ['ipvs table', 'critical', /TCP 198\.18\.0\.201:80: missing/]] },
    { what: 'no ipvsadm -> critical', probe: p('@no-ipvsadm\n', '@absent\n'), expect: [['container', 'critical', /no such container/], ['ipvs table', 'critical', /not installed/]] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const f = [containerCheck('lbvm1', c.probe, 'keepalived'), ipvsTableCheck('lbvm1', c.probe, expected)];
      assert.deepEqual(f.map((x) => [x.check, x.severity]), c.expect.map(([check, sev]) => [check, sev]));
      f.forEach((x, i) => assert.match(x.detail, c.expect[i]![2]));
    });
  }
});
