/** Kubeconfig rotation and the health audit, against the lab's masters and LB nodes. */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { $ } from '../../src/shell-local.js';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, labHost, onHost } from '../helpers/lab.js';
import { labPaths } from '../../src/lab/paths.js';
import { containerName } from '../../src/lab/topology.js';
import { checkExpiration } from '../../src/lab/control-plane.js';
import { scheduleNames } from '../../src/audit/schedule.js';
import { COLOUR } from '../../src/audit/svg.js';
import { colourRuns, dumpDom, screenshot } from '../helpers/browser.js';

const LBS = ['lb1', 'lb2', 'lb3'];
const KUBECFG = '/etc/keepalived/kubecfg';
const MANAGED = `/etc/haproxy/haproxy.cfg /etc/keepalived/keepalived.conf /etc/keepalived/check_haproxy.sh /etc/sysctl.d/60-lbdeploy-ha.conf ${KUBECFG}/kubecfg01.conf ${KUBECFG}/kubecfg02.conf ${KUBECFG}/kubecfg03.conf`;

const renew = (...args: string[]) => cli(['lab', 'renew-certs', ...args]);
const serialOf = async (host: string, file: string) =>
  (await onHost(host, `sed -n 's/^ *client-certificate-data: *//p' ${file} | base64 -d | openssl x509 -noout -serial 2>/dev/null || sed -n 's/^ *client-certificate-data: *//p' ${file} | md5sum`)).trim();
const sums = () => Promise.all(LBS.map((h) => onHost(h, `sha256sum ${MANAGED}`)));

interface AuditJson { status: string; checks: { check: string; target: string; severity: string; detail: string; value?: number }[] }
async function auditJson(inv: string, ...extra: string[]): Promise<{ code: number | null; report: AuditJson }> {
  const r = await cli(['audit', inv, '-o', 'json', ...extra]);
  assert.ok(r.stdout.startsWith('{'), r.stdout + r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as AuditJson };
}

describe('kubeconfig rotation and health audit (end-to-end on the lab)', function () {
  this.timeout(240_000);
  let inv: string;

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    inv = labInventoryCopy();
    const r = await renew();
    assert.equal(r.code, 0, r.stderr);
    const up = await cli(['up', inv]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });

  it('the masters run a real kube-apiserver: the admin certificate is authorized, anonymous requests are not, a foreign CA is refused', async () => {
    const pki = labPaths().pki;
    const m = labHost('master2').address;
    const curl = (...args: string[]) => $`curl -sS --max-time 10 --cacert ${join(pki, 'ca.crt')} ${args} https://${m}:6443/api/v1/namespaces`.nothrow().quiet();
    const ok = await curl('--cert', join(pki, 'admin.crt'), '--key', join(pki, 'admin.key'));
    assert.match(ok.stdout, /"kind": ?"NamespaceList"[\s\S]*"name": ?"kube-system"/);
    // RBAC: anonymous requests are system:anonymous, which may not list namespaces.
    const anonymous = await curl('-o', '/dev/null', '-w', '%{http_code}');
    assert.equal(anonymous.stdout, '403');
    const dir = mkdtempSync(join(tmpdir(), 'lbd-foreign-'));
    try {
      await $({ cwd: dir })`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout k.pem -out c.pem -days 1 -subj /O=system:masters/CN=intruder`.quiet();
      const foreign = await curl('-o', '/dev/null', '-w', '%{http_code}', '--cert', join(dir, 'c.pem'), '--key', join(dir, 'k.pem'));
      assert.equal(foreign.stdout, '401', 'a certificate from another CA authenticates nobody');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotation converges, and a second run changes nothing', async () => {
    const again = await cli(['rotate-kubeconfig', inv, '--json']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const steps = events(again.stdout).filter((e) => e.type === 'step');
    assert.equal(steps.filter((e) => e.status === 'changed').length, 0);
    const notes = events(again.stdout).filter((e) => e.type === 'note').map((e) => String(e.text));
    assert.equal(notes.filter((n) => /^master\d: CN=kubernetes-admin, O=system:masters, valid until .* \(\d+ days left\)/.test(n)).length, 3);
    for (const h of LBS) {
      const ls = await onHost(h, `stat -c '%a %U %n' ${KUBECFG}/*.conf; grep -h server: ${KUBECFG}/*.conf`);
      assert.equal(ls, `600 root ${KUBECFG}/kubecfg01.conf\n600 root ${KUBECFG}/kubecfg02.conf\n600 root ${KUBECFG}/kubecfg03.conf\n` +
        '    server: https://198.18.0.41:6443\n    server: https://198.18.0.42:6443\n    server: https://198.18.0.43:6443\n');
    }
  });

  it('after lab renew-certs, rotation distributes the new certificate and the old one is gone; consumers restart only then', async () => {
    const old = readFileSync(join(labPaths().pki, 'admin.crt'), 'utf8');
    const oldSerial = await serialOf('lb2', `${KUBECFG}/kubecfg01.conf`);
    // rsyslog stands in for a consumer of the kubeconfigs (issue 6: the keepalived container).
    const withConsumer = labInventoryCopy((t) => t.replace('    targets: lb\n', '    targets: lb\n    consumers: [{ service: rsyslog, action: restart }]\n'));
    const pid = () => onHost('lb2', 'systemctl show -p MainPID --value rsyslog');
    const pidBefore = await pid();
    const same = await cli(['rotate-kubeconfig', withConsumer, '--json']);
    assert.equal(same.code, 0, same.stdout);
    assert.equal(await pid(), pidBefore, 'nothing changed: the consumer is left alone');
    assert.equal((await renew()).code, 0);
    const r = await cli(['rotate-kubeconfig', withConsumer, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(events(r.stdout).filter((e) => e.type === 'step' && e.status === 'changed' && !e.handler).length, 9, '3 files on 3 nodes');
    assert.equal(events(r.stdout).filter((e) => e.type === 'step' && e.status === 'changed' && e.handler).length, 3, 'the consumer restarted once per node');
    assert.notEqual(await pid(), pidBefore);
    const newSerial = await serialOf('lb2', `${KUBECFG}/kubecfg01.conf`);
    assert.notEqual(newSerial, oldSerial);
    const oldData = Buffer.from(old).toString('base64');
    for (const h of LBS) assert.ok(!(await onHost(h, `cat ${KUBECFG}/*.conf`)).includes(oldData), `${h} still has the old certificate`);
    assert.ok(!r.stdout.includes(readFileSync(join(labPaths().pki, 'admin.key'), 'utf8').split('\n')[1]!), 'no key material in the output');
  });

  it('refuses an expired certificate: the previous files stay byte-identical', async () => {
    const before = await sums();
    assert.equal((await renew('--expired')).code, 0);
    try {
      const r = await cli(['rotate-kubeconfig', inv]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /REFUSED master1: the client certificate in \/etc\/kubernetes\/admin\.conf is expired/);
      assert.deepEqual(await sums(), before);
    } finally {
      assert.equal((await renew()).code, 0);
      assert.equal((await cli(['rotate-kubeconfig', inv])).code, 0);
    }
  });

  it('the audit of a healthy lab exits 0 and changes nothing on the hosts', async () => {
    const before = await sums();
    const { code, report } = await auditJson(inv);
    assert.equal(code, 0, JSON.stringify(report.checks.filter((f) => f.severity !== 'ok')));
    assert.equal(report.status, 'ok');
    for (const check of ['ssh', 'vip holder', 'keepalived', 'haproxy', 'backends', 'kubeconfig certificate', 'drift']) {
      assert.ok(report.checks.some((f) => f.check === check), `no ${check} finding`);
    }
    assert.equal(report.checks.filter((f) => f.check === 'kubeconfig certificate').length, 9);
    assert.deepEqual(await sums(), before, 'checksums of every managed file are identical after the audit');
  });

  it('warns when keepalived is stopped on one node', async () => {
    await onHost('lb3', 'systemctl stop keepalived');
    try {
      const { code, report } = await auditJson(inv, '--no-drift');
      assert.equal(code, 2, 'warnings only: attention');
      assert.deepEqual(report.checks.filter((f) => f.severity !== 'ok').map((f) => `${f.check} ${f.target} ${f.severity}`), ['keepalived lb3 warning']);
    } finally {
      await onHost('lb3', 'systemctl start keepalived');
    }
  });

  it('reports critical split brain when the VIP is added by hand on a second node', async () => {
    await onHost('lb2', 'ip addr add 198.18.0.100/24 dev eth0');
    try {
      const { code, report } = await auditJson(inv, '--no-drift');
      assert.equal(code, 1, 'critical: failed');
      const vip = report.checks.find((f) => f.check === 'vip holder')!;
      assert.equal(vip.severity, 'critical');
      assert.match(vip.detail, /split brain: held by lb1, lb2/);
    } finally {
      await onHost('lb2', 'ip addr del 198.18.0.100/24 dev eth0');
    }
  });

  it('reports critical for a kubeconfig certificate 3 days from expiry, as kubeadm reports it expiring', async () => {
    assert.equal((await renew('--expires-in', '3')).code, 0);
    try {
      // kubeadm's own view of the same admin.conf on the masters (the real API servers accept it).
      for (const m of ['master1', 'master2', 'master3']) {
        const kubeadm = (await checkExpiration(labHost(m))).get('admin.conf');
        assert.ok(kubeadm && /^[23]d$|^\d+h$/.test(kubeadm.residual), `${m}: kubeadm says ${JSON.stringify(kubeadm)}`);
      }
      assert.equal((await cli(['rotate-kubeconfig', inv])).code, 0, 'still valid: distributed');
      const { code, report } = await auditJson(inv, '--no-drift');
      assert.equal(code, 1, 'critical: failed');
      const certs = report.checks.filter((f) => f.check === 'kubeconfig certificate');
      assert.equal(certs.length, 9);
      for (const c of certs) {
        assert.equal(c.severity, 'critical');
        assert.ok(c.value === 2 || c.value === 3, String(c.value));
      }
    } finally {
      assert.equal((await renew()).code, 0);
      assert.equal((await cli(['rotate-kubeconfig', inv])).code, 0);
    }
  });

  it('shows a hand-edited haproxy.cfg as drift', async () => {
    await onHost('lb2', "sed -i 's/maxconn 4096/maxconn 4097/' /etc/haproxy/haproxy.cfg");
    try {
      const { code, report } = await auditJson(inv);
      assert.equal(code, 2, 'warnings only: attention');
      const drift = report.checks.filter((f) => f.check === 'drift' && f.severity !== 'ok');
      assert.deepEqual(drift.map((f) => f.target), ['lb2']);
      assert.match(drift[0]!.detail, /file \/etc\/haproxy\/haproxy\.cfg/);
    } finally {
      assert.equal((await cli(['up', inv])).code, 0);
    }
  });

  it('a host that does not answer never hangs the audit (per-host timeout)', async () => {
    const lb3 = containerName(labHost('lb3'));
    await $`docker pause ${lb3}`.quiet();
    try {
      const t0 = Date.now();
      const { code, report } = await auditJson(inv, '--host-timeout', '3', '--no-drift');
      assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
      assert.equal(code, 1, 'critical: failed');
      assert.equal(report.checks.find((f) => f.check === 'ssh' && f.target === 'lb3')!.severity, 'critical');
      assert.equal(report.checks.find((f) => f.check === 'ssh' && f.target === 'lb1')!.severity, 'ok');
    } finally {
      await $`docker unpause ${lb3}`.quiet();
    }
  });

  it('writes an HTML report that Chromium shows: VIPs and holders, backends, certificate expiry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-html-'));
    try {
      const html = join(dir, 'audit.html');
      const prom = join(dir, 'audit.prom');
      const r = await cli(['audit', inv, '-o', 'prometheus', '--output-file', prom, '--html', html]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(readFileSync(prom, 'utf8'), /^lbdeploy_audit_status\{inventory="[^"]*lab\.yaml"\} 0$/m);
      const text = dumpDom(dir, html).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      assert.match(text, /lbdeploy audit OK/);
      assert.match(text, /VIPs and their holders VIP Status Holder VI_lab 198\.18\.0\.100 ok held by lb1/);
      assert.match(text, /lb1 ingress-proxy ok 3\/3 UP/);
      assert.match(text, /lb3 \/etc\/keepalived\/kubecfg\/kubecfg03\.conf ok 36\d \d+ days left/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a history of audits and drills, and the report draws it: topology coloured by state, trends (Chromium, screenshot)', async function () {
    this.timeout(300_000);
    const dir = mkdtempSync(join(tmpdir(), 'lbd-history-'));
    const history = join(dir, 'history.jsonl');
    const html = join(dir, 'audit.html');
    const backendsDown = async () => {
      const { report } = await auditJson(inv, '--history', 'none', '--no-drift');
      return report.checks.filter((c) => c.check === 'backends' && c.severity !== 'ok').length;
    };
    try {
      assert.equal((await cli(['audit', inv, '--history', history])).code, 0);
      const drill = await cli(['failover-test', inv, '--scenario', 'stop-keepalived', '--history', history]);
      assert.equal(drill.code, 0, drill.stdout + drill.stderr);
      // A backend goes down: haproxy's health check marks web2 DOWN on every LB node.
      await onHost('web2', 'systemctl stop nginx');
      for (let i = 0; i < 30 && (await backendsDown()) < 3; i++) await new Promise((r) => setTimeout(r, 1000));
      const broken = await cli(['audit', inv, '--history', history, '--html', html]);
      assert.equal(broken.code, 2, `a backend down is a warning: ${broken.stdout}`);
    } finally {
      await onHost('web2', 'systemctl start nginx');
      for (let i = 0; i < 30 && (await backendsDown()) > 0; i++) await new Promise((r) => setTimeout(r, 1000));
    }
    try {
      const lines = readFileSync(history, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; scenario?: string });
      assert.deepEqual(lines.map((l) => `${l.type} ${l.status ?? l.scenario}`), ['audit ok', 'drill stop-keepalived', 'drill stop-keepalived', 'audit warning'], 'one line per audit, one per drilled VIP');

      const dom = dumpDom(dir, html);
      const attrs = (kind: string) => [...dom.matchAll(new RegExp(`<g class="box" data-kind="${kind}" data-state="(\\w+)" data-name="([^"]+)"`, 'g'))].map((m) => [m[2]!, m[1]!]);
      const backends = attrs('backend');
      assert.deepEqual(backends.filter(([, s]) => s !== 'ok'), [['ingress-proxy/web2', 'critical'], ['web-plain/web2', 'critical']], 'web2 drawn down in both services, the others up');
      // Three services: the web ones and the kube-apiservers (master1..3, up).
      assert.equal(backends.length, 9);
      assert.deepEqual(backends.filter(([n]) => n!.startsWith('kube-apiserver/')).map(([n, st]) => `${n} ${st}`), ['kube-apiserver/master1 ok', 'kube-apiserver/master2 ok', 'kube-apiserver/master3 ok']);
      assert.match(dom, /data-kind="vip" data-state="ok" data-name="198\.18\.0\.100" data-holders="lb1"/);
      assert.match(dom, /data-kind="node" data-state="warning" data-name="lb1" data-role="holder"/, 'the holder sees a backend down');
      assert.deepEqual([...dom.matchAll(/data-to="(lb\d)" data-role="(\w+)"/g)].slice(0, 3).map((m) => `${m[1]} ${m[2]}`), ['lb1 holder', 'lb2 backup', 'lb3 backup']);
      // The trends: two audits (ok, then warning), one drill per VIP, each certificate twice.
      assert.deepEqual([...dom.matchAll(/<rect [^>]*data-state="(\w+)"><title>[^<]*UTC: /g)].map((m) => m[1]), ['ok', 'warning']);
      assert.match(dom, /data-series="stop-keepalived 198\.18\.0\.100" data-points="1"/);
      assert.match(dom, /data-series="stop-keepalived 2001:2::100" data-points="1"/);
      assert.equal((dom.match(/data-series="lb\d kubecfg0\d\.conf" data-points="2"/g) ?? []).length, 9);

      // What Chromium shows: down each column of the picture, the filled boxes' colours in the DOM's order.
      mkdirSync('.lbdeploy/test-artifacts', { recursive: true });
      const png = resolve('.lbdeploy/test-artifacts/audit-report.png');
      const img = screenshot(dir, html, png);
      const svgLeft = 28; // body margin: 2em of 14px
      const shown = (x: number) => colourRuns(img, svgLeft + x, COLOUR).map((r) => r.name);
      assert.deepEqual(shown(10 + 4), attrs('vip').map(([, s]) => s), 'VIP boxes');
      assert.deepEqual(shown(300 + 4), attrs('node').map(([, s]) => s), 'node boxes');
      assert.deepEqual(shown(560 + 4), backends.map(([, s]) => s), 'backend boxes');
      assert.equal(shown(560 + 4).filter((s) => s === 'critical').length, 2, `${png}: two red backend boxes`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('installs a systemd service and timer, and prints the crontab line and CronJob', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-timer-'));
    try {
      const r = await cli(['audit', inv, '--install-timer', '--every', '15m', '--unit-dir', dir, '--textfile-dir', join(dir, 'textfile')]);
      assert.equal(r.code, 0, r.stderr);
      const names = scheduleNames(inv);
      assert.ok(existsSync(join(dir, `${names.unit}.service`)) && existsSync(join(dir, `${names.unit}.timer`)), readdirSync(dir).join(' '));
      assert.match(readFileSync(join(dir, `${names.unit}.service`), 'utf8'), new RegExp(`ExecStart=\\S+node \\S+main\\.js audit ${inv.replace(/[/.]/g, '\\$&')} --output prometheus --output-file ${join(dir, 'textfile', names.textfile).replace(/[/.]/g, '\\$&')}`));
      const p = await cli(['audit', inv, '--print-schedule', '--every', '1h']);
      assert.match(p.stdout, /^0 \* \* \* \* root .* audit .* --output prometheus/m);
      assert.match(p.stdout, /kind: CronJob/);
      // A period cron cannot keep is refused for cron, and kept by the systemd timer.
      const odd = await cli(['audit', inv, '--print-schedule', '--every', '90m']);
      assert.equal(odd.code, 3, odd.stdout + odd.stderr);
      assert.match(odd.stderr, /cron cannot run something every 90 min/);
      const timer = await cli(['audit', inv, '--install-timer', '--every', '90m', '--unit-dir', dir, '--textfile-dir', join(dir, 'textfile')]);
      assert.equal(timer.code, 0, timer.stderr);
      assert.match(readFileSync(join(dir, `${names.unit}.timer`), 'utf8'), /^OnUnitActiveSec=90min$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
