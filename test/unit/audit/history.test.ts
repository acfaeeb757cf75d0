/** The audit's history (JSON lines), its topology and its pictures: pure code, tables of cases, a temp folder. */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeProbe } from '../../../src/checks/probe.js';
import { ipvsBackends } from '../../../src/checks/ipvs.js';
import { haBackends, evaluateHaNodes } from '../../../src/kinds/haproxy-keepalived/checks.js';
import type { Deployment } from '../../../src/kinds/types.js';
import type { FailoverResult } from '../../../src/kinds/drill.js';
import type { AuditReport } from '../../../src/audit/formats.js';
import { auditHtml, trendsOf } from '../../../src/audit/html.js';
import {
  appendHistory, auditRecord, compactHistory, defaultHistoryPath, drillRecord, historyFile, lastDrills, parseHistory, readHistory, recordHistory,
  type AuditRecord, type HistoryRecord,
} from '../../../src/audit/history.js';
import { auditMetrics } from '../../../src/audit/metrics.js';
import { COLOUR, statusStrip, topologySvg, trendSvg } from '../../../src/audit/svg.js';
import { clusterTopology, topologyOf } from '../../../src/audit/topology.js';

const audit = (at: string, o: Partial<AuditRecord> = {}): AuditRecord => ({
  v: 1, type: 'audit', at, inventory: 'lab.yaml', status: 'ok', durationS: 1, checks: { ok: 3, warning: 0, critical: 0 },
  vips: [], certs: [], warnDays: 30, critDays: 7, backends: { up: 0, total: 0 }, ...o,
});
const drill = (at: string, scenario: string, moveS: number | undefined, passed = true): HistoryRecord => ({
  v: 1, type: 'drill', at, inventory: 'lab.yaml', scenario, vip: '198.18.0.100', holderBefore: 'lb1', ...(moveS === undefined ? {} : { moveS }), failed: 0, total: 40, passed,
});

describe('history: where it lives', () => {
  const cases: [string, NodeJS.ProcessEnv, number, RegExp][] = [
    ['root: /var/lib/lbdeploy (where the installed timer writes)', {}, 0, /^\/var\/lib\/lbdeploy\/history\/lab-[0-9a-f]{8}\.jsonl$/],
    ['a user: ~/.local/state', {}, 1000, /^\/home\/op\/\.local\/state\/lbdeploy\/history\/lab-[0-9a-f]{8}\.jsonl$/],
    ['a user with XDG_STATE_HOME', { XDG_STATE_HOME: '/srv/state' }, 1000, /^\/srv\/state\/lbdeploy\/history\/lab-[0-9a-f]{8}\.jsonl$/],
    ['root with XDG_STATE_HOME set: that', { XDG_STATE_HOME: '/srv/state' }, 0, /^\/srv\/state\/lbdeploy\/history\//],
    ['a relative XDG_STATE_HOME is ignored (the spec says absolute)', { XDG_STATE_HOME: 'state' }, 1000, /^\/home\/op\/\.local\/state\//],
  ];
  for (const [what, env, uid, want] of cases) it(what, () => assert.match(defaultHistoryPath('/srv/site/lab.yaml', env, uid, '/home/op'), want));
  it('two inventories, two histories; --history none, a file, or empty (refused)', () => {
    assert.notEqual(defaultHistoryPath('/a/lab.yaml', {}, 0), defaultHistoryPath('/b/lab.yaml', {}, 0));
    assert.equal(historyFile('none', '/a/lab.yaml'), undefined);
    assert.equal(historyFile('/tmp/h.jsonl', '/a/lab.yaml'), '/tmp/h.jsonl');
    assert.throws(() => historyFile('', '/a/lab.yaml'), /--history takes a file, or none/);
  });
});

describe('history: records', () => {
  const report: AuditReport = {
    inventory: 'lab.yaml', generatedAt: '2026-11-23T10:00:00.000Z', status: 'warning',
    checks: [
      { check: 'kubeconfig certificate', topic: 'certificate', target: 'lb1 /etc/k/a.conf', severity: 'ok', detail: '300 days left', value: 300 },
      { check: 'drift', topic: 'drift', target: 'lb1', severity: 'warning', detail: 'up would change 2', value: 2 },
      { check: 'drift', topic: 'drift', target: 'lb2', severity: 'ok', detail: 'matches', value: 0 },
      { check: 'drift', topic: 'drift', target: 'prepare', severity: 'warning', detail: 'REFUSED' },
    ],
    topology: [{
      kind: 'haproxy-keepalived', name: 'c', nodes: [],
      vips: [{ name: 'VI', address: '198.18.0.100', holders: ['lb1'], severity: 'ok', detail: '' }],
      backends: [{ service: 's', server: 'web1', state: 'up', detail: 'UP', severity: 'ok', seenFrom: 'lb1' }, { service: 's', server: 'web2', state: 'down', detail: 'DOWN', severity: 'critical', seenFrom: 'lb1' }],
    }],
  };
  it('an audit: counts, VIP holders, certificates, drift summed over hosts, backends', () => {
    const r = auditRecord(report, { durationS: 1.23456, warnDays: 30, critDays: 7 });
    assert.deepEqual(r.checks, { ok: 2, warning: 2, critical: 0 });
    assert.deepEqual(r.vips, [{ name: 'VI', address: '198.18.0.100', holders: ['lb1'] }]);
    assert.deepEqual(r.certs, [{ target: 'lb1 /etc/k/a.conf', daysLeft: 300 }]);
    assert.deepEqual(r.drift, { steps: 2, hosts: 1 });
    assert.deepEqual(r.backends, { up: 1, total: 2 });
    assert.equal(r.durationS, 1.235);
    assert.equal(auditRecord({ ...report, checks: [] }, { durationS: 0, warnDays: 30, critDays: 7 }).drift, undefined, 'no drift audited: no drift figure, not 0');
  });
  it('a drill: what moved, how fast, what failed', () => {
    const f: FailoverResult = { scenario: 'keepalived', title: 'systemctl stop keepalived', planned: false, vip: '198.18.0.100', holderBefore: 'lb1', holderAfter: 'lb2', vipMovedS: 1.5, servingS: 1.7, requests: 40, failedRequests: 2, restoredS: 3, verify: [], ok: false, problem: 'requests failed' };
    assert.deepEqual(drillRecord('lab.yaml', f, new Date('2026-11-23T10:00:00Z')), {
      v: 1, type: 'drill', at: '2026-11-23T10:00:00.000Z', inventory: 'lab.yaml', scenario: 'keepalived', vip: '198.18.0.100', holderBefore: 'lb1', holderAfter: 'lb2',
      moveS: 1.5, servingS: 1.7, failed: 2, total: 40, passed: false, problem: 'requests failed',
    });
  });
  it('parsing: a torn line and a foreign line are skipped and named with file:line', () => {
    const text = `${JSON.stringify(audit('2026-11-23T10:00:00Z'))}\n{"v":1,"type":"audit","at":"2026-11-\n${JSON.stringify({ v: 2, type: 'audit', at: '2026-11-23T10:00:00Z' })}\n\n${JSON.stringify(drill('2026-11-23T11:00:00Z', 'haproxy', 1))}\n`;
    const { records, skipped } = parseHistory(text, 'h.jsonl');
    assert.deepEqual(records.map((r) => r.type), ['audit', 'drill']);
    assert.deepEqual(skipped, ['h.jsonl:2: not JSON (a write cut short?), skipped', 'h.jsonl:3: not an lbdeploy history record (v 1, type audit or drill, at), skipped']);
  });
  it('the last drill of each scenario and VIP feeds the drill gauges', () => {
    const recs = [drill('2026-11-20T00:00:00Z', 'keepalived', 3), drill('2026-11-21T00:00:00Z', 'keepalived', 1.2), drill('2026-11-21T00:00:00Z', 'haproxy', undefined, false)];
    const d = lastDrills(recs);
    assert.deepEqual(d.map((x) => [x.scenario, x.moveS, x.passed]), [['keepalived', 1.2, true], ['haproxy', undefined, false]]);
    const m = auditMetrics('lab.yaml', { up: true, durationS: 1, drills: d });
    assert.match(m, /^lbdeploy_drill_vip_move_seconds\{inventory="lab.yaml",scenario="keepalived",vip="198.18.0.100"\} 1.2$/m);
    assert.match(m, /^lbdeploy_drill_vip_move_seconds\{inventory="lab.yaml",scenario="haproxy",vip="198.18.0.100"\} NaN$/m);
    assert.match(m, /^lbdeploy_drill_passed\{inventory="lab.yaml",scenario="haproxy",vip="198.18.0.100"\} 0$/m);
  });
});

describe('history: compaction', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  const h = (iso: string) => audit(iso);
  const cases: { what: string; records: HistoryRecord[]; budget: number; kept: string[] }[] = [
    { what: 'the last two days kept whole', records: [h('2026-11-22T12:00:10Z'), h('2026-11-22T12:00:20Z'), h('2026-11-23T11:59:00Z')], budget: 1e9, kept: ['2026-11-22T12:00:10Z', '2026-11-22T12:00:20Z', '2026-11-23T11:59:00Z'] },
    { what: 'older audits: the last of each hour', records: [h('2026-11-01T10:05:00Z'), h('2026-11-01T10:55:00Z'), h('2026-11-01T11:05:00Z')], budget: 1e9, kept: ['2026-11-01T10:55:00Z', '2026-11-01T11:05:00Z'] },
    { what: 'older drills kept whole', records: [drill('2026-11-01T10:05:00Z', 'a', 1), drill('2026-11-01T10:06:00Z', 'a', 1)], budget: 1e9, kept: ['2026-11-01T10:05:00Z', '2026-11-01T10:06:00Z'] },
    { what: 'nothing over 400 days', records: [drill('2025-10-01T00:00:00Z', 'a', 1), h('2025-10-01T00:00:00Z'), h('2026-11-23T00:00:00Z')], budget: 1e9, kept: ['2026-11-23T00:00:00Z'] },
    { what: 'over the budget: oldest audits first, drills last', records: [h('2026-11-23T01:00:00Z'), drill('2026-11-23T02:00:00Z', 'a', 1), h('2026-11-23T03:00:00Z'), h('2026-11-23T04:00:00Z')], budget: 2 * (JSON.stringify(h('2026-11-23T01:00:00Z')).length + 1) + 2, kept: ['2026-11-23T02:00:00Z', '2026-11-23T04:00:00Z'] },
  ];
  for (const c of cases) {
    it(c.what, () => assert.deepEqual(compactHistory(c.records, now, c.budget).map((r) => r.at.replace('.000', '')), c.kept));
  }
});

describe('history: the file', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'lbd-history-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one line per record, 0600, in a folder it creates; secrets masked', () => {
    const file = join(dir, 'deep', 'h.jsonl');
    appendHistory(file, [audit('2026-11-23T10:00:00Z', { inventory: 'hunter2' })], { mask: (l) => l.replace(/hunter2/g, '***') });
    appendHistory(file, [drill('2026-11-23T10:01:00Z', 'keepalived', 1)]);
    const text = readFileSync(file, 'utf8');
    assert.equal(text.split('\n').length, 3);
    assert.doesNotMatch(text, /hunter2/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readHistory(file).records.length, 2);
    assert.ok(!existsSync(`${file}.lock`), 'the lock is released');
  });
  it('a torn last line (a crash mid-write) does not swallow the next record', () => {
    const file = join(dir, 'h.jsonl');
    writeFileSync(file, `${JSON.stringify(audit('2026-11-23T10:00:00Z'))}\n{"v":1,"type":"au`);
    appendHistory(file, [audit('2026-11-23T10:05:00Z')]);
    const { records, skipped } = readHistory(file);
    assert.deepEqual(records.map((r) => r.at), ['2026-11-23T10:00:00Z', '2026-11-23T10:05:00Z']);
    assert.equal(skipped.length, 1);
  });
  it('waits for a held lock, takes over one left by a crash (older than 30 s)', () => {
    const file = join(dir, 'h.jsonl');
    writeFileSync(`${file}.lock`, '');
    const t0 = Date.now();
    assert.throws(() => appendHistory(file, [audit('2026-11-23T10:00:00Z')]), /h\.jsonl\.lock is held by another lbdeploy writing this history/);
    assert.ok(Date.now() - t0 >= 1500, 'it waited before giving up');
    assert.match(recordHistory(file, [audit('2026-11-23T10:00:00Z')], (l) => l) ?? '', /not written: .*--history none/);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(`${file}.lock`, old, old);
    appendHistory(file, [audit('2026-11-23T10:00:00Z')]);
    assert.equal(readHistory(file).records.length, 1);
  });
  it('compacts past its size limit, atomically (no temp file left), newest kept', () => {
    const file = join(dir, 'h.jsonl');
    const now = new Date('2026-11-23T12:00:00Z');
    for (let i = 0; i < 40; i++) appendHistory(file, [audit(new Date(now.getTime() - (40 - i) * 60_000).toISOString())], { maxBytes: 4000, now });
    assert.ok(statSync(file).size <= 4000, `${statSync(file).size} bytes`);
    const { records } = readHistory(file);
    assert.ok(records.length < 40 && records.length > 5, `${records.length} kept`);
    assert.equal(records[records.length - 1]!.at, new Date(now.getTime() - 60_000).toISOString());
    assert.deepEqual(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('.tmp')), []);
  });
  it('a history it cannot write is a warning, not an error (read-only root)', () => {
    // As root, permissions stop nothing: a regular file where the folder should be does (ENOTDIR).
    writeFileSync(join(dir, 'file'), '');
    const file = join(dir, 'file', 'h.jsonl');
    assert.match(recordHistory(file, [audit('2026-11-23T10:00:00Z')], (l) => l) ?? '', /^history \S+\/file\/h\.jsonl not written: E[A-Z]+: .* \(--history FILE elsewhere, or --history none\)$/);
    assert.equal(recordHistory(undefined, [audit('2026-11-23T10:00:00Z')], (l) => l), undefined, '--history none writes nothing');
  });
});

describe('topology: VIP -> holder and backups -> backends', () => {
  const node = (o: { vip?: boolean; keepalived?: string; stat?: string }) => new Map([
    ['addresses', { stdout: `2: eth0    inet 198.18.0.1${o.vip ? '\n2: eth0    inet 198.18.0.100/32 scope global eth0' : ''}/24 scope global eth0`, code: 0 }],
    ['keepalived', { stdout: `${o.keepalived ?? 'active'}\n`, code: 0 }], ['haproxy', { stdout: 'active\n', code: 0 }],
    ['haproxy-stat', { stdout: o.stat ?? '# pxname,svname,status\nweb,web1,UP\nweb,web2,UP\nweb,BACKEND,UP\n', code: 0 }],
  ]);
  const vips = [{ name: 'VI_1', address: '198.18.0.100' }];
  const services = [{ name: 'web', servers: 2 }];
  const d = (nodes: string[]): Deployment => ({
    kind: 'haproxy-keepalived', name: 'VI_1 on lb1, lb2', nodes: nodes.map((name) => ({ name } as never)), vips, probes: [], endToEnd: [], drills: [],
    evaluate: (p) => evaluateHaNodes(vips, services, p), backends: (p) => haBackends(['web'], p),
  });
  const view = (probes: Map<string, NodeProbe>) => {
    const dep = d([...probes.keys()]);
    const t = clusterTopology(dep, probes, dep.evaluate(probes));
    return {
      vip: `${t.vips[0]!.severity} ${t.vips[0]!.holders.join(',')}`,
      nodes: t.nodes.map((n) => `${n.name} ${n.role} ${n.severity}`),
      backends: t.backends.map((b) => `${b.server} ${b.state} ${b.severity} via ${b.seenFrom}`),
    };
  };
  const cases: { what: string; probes: Map<string, NodeProbe>; want: ReturnType<typeof view> }[] = [
    { what: 'healthy: one holder, one backup, backends up', probes: new Map([['lb1', node({ vip: true })], ['lb2', node({})]]),
      want: { vip: 'ok lb1', nodes: ['lb1 holder ok', 'lb2 backup ok'], backends: ['web1 up ok via lb1', 'web2 up ok via lb1'] } },
    { what: 'split brain: both hold, the VIP critical', probes: new Map([['lb1', node({ vip: true })], ['lb2', node({ vip: true })]]),
      want: { vip: 'critical lb1,lb2', nodes: ['lb1 holder ok', 'lb2 holder ok'], backends: ['web1 up ok via lb1', 'web2 up ok via lb1'] } },
    { what: 'a backend down as the holder sees it; keepalived stopped on the backup', probes: new Map([['lb1', node({ vip: true, stat: '# pxname,svname,status\nweb,web1,UP\nweb,web2,DOWN\n' })], ['lb2', node({ keepalived: 'inactive' })]]),
      want: { vip: 'ok lb1', nodes: ['lb1 holder warning', 'lb2 backup warning'], backends: ['web1 up ok via lb1', 'web2 down critical via lb1'] } },
    { what: 'no holder, one node unreachable: backends from the node that answered', probes: new Map<string, NodeProbe>([['lb1', { error: 'timed out' }], ['lb2', node({ stat: '# pxname,svname,status\nweb,web1,MAINT\nweb,web2,no check\n' })]]),
      want: { vip: 'critical ', nodes: ['lb1 unreachable critical', 'lb2 backup warning'], backends: ['web1 other warning via lb2', 'web2 up ok via lb2'] } },
  ];
  for (const c of cases) it(c.what, () => assert.deepEqual(view(c.probes), c.want));

  it('a request through the VIP that failed colours the VIP', () => {
    const probes = new Map([['lb1', node({ vip: true })], ['lb2', node({})]]);
    const dep = d(['lb1', 'lb2']);
    const t = clusterTopology(dep, probes, [...dep.evaluate(probes), { check: 'curl via vip', topic: 'vip-request', vip: '198.18.0.100', target: 'web 198.18.0.100:80', severity: 'critical', detail: '0/4 answered' }]);
    assert.equal(t.vips[0]!.severity, 'critical');
    assert.match(t.vips[0]!.detail, /0\/4 answered/);
  });
  it('deployments without a VIP (kubeconfig) are not drawn', () => {
    assert.equal(topologyOf([{ ...d(['lb1']), vips: [] }], new Map(), [[]]).length, 0);
  });
  it('IPVS: a planned real server in the table is up, weight 0 other, missing down', () => {
    const expected = [{ protocol: 'tcp' as const, address: '198.18.0.201', port: 80, scheduler: 'rr', realServers: ['21', '22', '23'].map((n) => ({ address: `198.18.0.${n}`, port: 80, forward: 'route' as const, weight: 1 })) }];
    const p = new Map([['ipvs', { stdout: 'TCP  198.18.0.201:80 rr\n  -> 198.18.0.21:80   Route   1   0   0\n  -> 198.18.0.22:80   Route   0   0   0\n', code: 0 }]]);
    const names = new Map([['198.18.0.21', 'web1']]);
    assert.deepEqual(ipvsBackends(expected, p, names).map((b) => `${b.service} ${b.server} ${b.state} ${b.detail}`), [
      'TCP 198.18.0.201:80 web1 up weight 1', 'TCP 198.18.0.201:80 198.18.0.22:80 other weight 0', 'TCP 198.18.0.201:80 198.18.0.23:80 down not in the IPVS table',
    ]);
    assert.deepEqual(ipvsBackends(expected, new Map([['ipvs', { stdout: '', code: 0 }]]), names).map((b) => b.detail)[0], 'virtual service not in the IPVS table');
  });
});

describe('pictures: SVG and the HTML report', () => {
  const cluster = {
    kind: 'haproxy-keepalived', name: 'VI_1 <x> on lb1, lb2',
    vips: [{ name: 'VI_1', address: '198.18.0.100', holders: ['lb1'], severity: 'ok' as const, detail: 'held by lb1' }],
    nodes: [{ name: 'lb1', role: 'holder' as const, severity: 'ok' as const, detail: '' }, { name: 'lb2', role: 'backup' as const, severity: 'warning' as const, detail: 'keepalived inactive' }],
    backends: [{ service: 'web', server: 'web1', state: 'up' as const, detail: 'UP', severity: 'ok' as const, seenFrom: 'lb1' }, { service: 'web', server: 'web2', state: 'down' as const, detail: 'DOWN', severity: 'critical' as const, seenFrom: 'lb1' }],
  };
  it('topology: each part named, with its state and colour; the holder edge solid, the backup edge dashed', () => {
    const svg = topologySvg([cluster]);
    assert.match(svg, new RegExp(`data-kind="vip" data-state="ok" data-name="198.18.0.100" data-holders="lb1"><title>[^<]*</title><rect [^>]*fill="${COLOUR.ok}"`));
    assert.match(svg, new RegExp(`data-kind="node" data-state="warning" data-name="lb2" data-role="backup"><title>lb2 \\(backup\\): keepalived inactive</title><rect [^>]*fill="${COLOUR.warning}"[^>]*stroke-dasharray`));
    assert.match(svg, new RegExp(`data-kind="backend" data-state="critical" data-name="web/web2" data-backend="down">.*?fill="${COLOUR.critical}"`));
    assert.match(svg, /class="edge" data-from="198.18.0.100" data-to="lb1" data-role="holder"[^>]*stroke="#2e7d32" stroke-width="3"\/>/);
    assert.match(svg, /class="edge" data-from="198.18.0.100" data-to="lb2" data-role="backup"[^>]*stroke-dasharray/);
    assert.match(svg, /class="edge" data-from="lb1" data-to="web\/web2" data-state="critical"/);
    assert.match(svg, /VI_1 &lt;x&gt; on lb1, lb2/);
    assert.doesNotMatch(svg, /<x>/);
    assert.equal(topologySvg([]), '<p>No deployment of this inventory has a VIP.</p>');
  });
  it('trend: one polyline per series, thresholds drawn, a failed point marked; nothing yet: a sentence', () => {
    const svg = trendSvg({ id: 'certs', unit: 'days', series: [{ name: 'a', points: [{ t: 0, y: 300 }, { t: 3600_000, y: 299 }] }, { name: 'b', points: [{ t: 0, y: 10, severity: 'critical' }] }], thresholds: [{ value: 30, severity: 'warning', label: 'warning under 30 days' }] });
    assert.match(svg, /data-series="a" data-points="2" data-last="299"><polyline /);
    assert.match(svg, /data-series="b" data-points="1" data-last="10"><circle [^>]*r="6" fill="#c62828" data-state="critical"/);
    assert.match(svg, /class="threshold" data-state="warning"/);
    assert.match(trendSvg({ id: 'x', unit: 's', series: [{ name: 'a', points: [] }] }), /^<p class="empty" data-trend="x">Nothing recorded yet/);
    assert.equal((statusStrip([{ t: 0, status: 'ok' }, { t: 1, status: 'critical' }]).match(/<rect /g) ?? []).length, 2);
  });
  it('trends from the history: certificates per kubeconfig, drills per scenario and VIP (never moved: marked), drift per audit', () => {
    const recs: HistoryRecord[] = [
      audit('2026-11-20T00:00:00Z', { certs: [{ target: 'lb1 a.conf', daysLeft: 40 }], drift: { steps: 0, hosts: 0 } }),
      drill('2026-11-20T01:00:00Z', 'keepalived', 1.4), drill('2026-11-20T02:00:00Z', 'keepalived', undefined, false),
      audit('2026-11-21T00:00:00Z', { certs: [{ target: 'lb1 a.conf', daysLeft: 39 }], drift: { steps: 3, hosts: 1 }, status: 'warning' }),
    ];
    const t = trendsOf(recs);
    assert.deepEqual(t.certs.series.map((s) => [s.name, s.points.map((p) => p.y)]), [['lb1 a.conf', [40, 39]]]);
    assert.deepEqual(t.certs.thresholds?.map((x) => x.value), [30, 7]);
    assert.deepEqual(t.drills.series.map((s) => [s.name, s.points.map((p) => `${p.y} ${p.severity}`)]), [['keepalived 198.18.0.100', ['1.4 ok', '1.4 critical']]]);
    assert.deepEqual(t.drift.series[0]!.points.map((p) => p.y), [0, 3]);
    assert.deepEqual(t.status.map((s) => s.status), ['ok', 'warning']);
    const html = auditHtml({ inventory: 'lab.yaml', generatedAt: '2026-11-21T00:00:00Z', status: 'warning', checks: [], topology: [cluster] }, recs);
    for (const id of ['status', 'certs', 'drills', 'drift']) assert.match(html, new RegExp(`<svg class="trend" data-trend="${id}"`));
    assert.match(html, /<svg id="topology"/);
    assert.match(html, /history: 2 audit\(s\), 2 drill\(s\)/);
  });
});
