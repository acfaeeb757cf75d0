/**
 * OS families without a RHEL host: the platform fact's own command run over real os-release files,
 * the package status command answered by a real rpm database (packages built with rpmbuild), and the
 * plans the operations make from those answers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { familyOf, packagesFor, parseOsRelease, parsePlatform, platformHints, PLATFORM_FACT, type Platform } from '../../../src/operations/os-family.js';
import { PACKAGE_MANAGER_FACT, packages } from '../../../src/operations/package.js';
import { onFamily, platformNotes } from '../../../src/operations/platform.js';
import { file } from '../../../src/operations/file.js';
import type { FactMap, FactResult, Operation, PlanContext } from '../../../src/operations/types.js';
import { frontendPorts } from '../../../src/render/haproxy.js';

const FIXTURES = resolve('test/fixtures/os-release');
const CTX: PlanContext = { diff: false, check: false, allowReboot: false };

/** The platform fact's command, as a host runs it, over this os-release file instead of /etc/os-release. */
function platformOf(osRelease: string): Platform {
  const text = PLATFORM_FACT.command.text.replaceAll('/etc/os-release', osRelease);
  const r = spawnSync('/bin/sh', ['-c', text], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return parsePlatform(r.stdout);
}

describe('platform: the OS family from real os-release files', () => {
  const cases: { file: string; family: string; id: string; version: string }[] = [
    { file: 'rocky-9.3', family: 'rhel', id: 'rocky', version: '9.3' },
    { file: 'almalinux-10.0', family: 'rhel', id: 'almalinux', version: '10.0' },
    { file: 'centos-stream-9', family: 'rhel', id: 'centos', version: '9' },
    { file: 'fedora-42', family: 'rhel', id: 'fedora', version: '42' },
    { file: 'ubuntu-24.04', family: 'debian', id: 'ubuntu', version: '24.04' },
    { file: 'debian-12', family: 'debian', id: 'debian', version: '12' },
  ];
  it('covers every fixture', () => assert.deepEqual(readdirSync(FIXTURES).filter((f) => f !== 'README.md').sort(), cases.map((c) => c.file).sort()));
  for (const c of cases) {
    it(c.file, () => {
      const p = platformOf(join(FIXTURES, c.file));
      assert.deepEqual([p.family, p.id, p.version], [c.family, c.id, c.version]);
      // This machine has neither SELinux tools nor firewalld running.
      assert.equal(p.selinux, 'absent');
      assert.equal(p.firewalld, false);
    });
  }
  it('an os-release of no known family, and none at all', () => {
    assert.equal(familyOf('arch', []), 'unknown');
    assert.equal(familyOf('opensuse-leap', ['suse', 'opensuse']), 'unknown');
    assert.equal(platformOf('/nonexistent/os-release').family, 'unknown');
  });
  it('parses quoting as os-release(5) allows', () => {
    assert.deepEqual(parseOsRelease('ID="rocky"\nID_LIKE=\'rhel centos\'\nVERSION_ID=9.3\n# comment\n'), { ID: 'rocky', ID_LIKE: 'rhel centos', VERSION_ID: '9.3' });
  });
  it('getenforce and systemctl answers as printed on a RHEL host', () => {
    const base = 'id=rocky\nlike=rhel centos fedora\nversion=9.3\n';
    assert.equal(parsePlatform(`${base}selinux=Enforcing\nfirewalld=active\n`).selinux, 'enforcing');
    assert.equal(parsePlatform(`${base}selinux=Permissive\nfirewalld=inactive\n`).selinux, 'permissive');
    assert.equal(parsePlatform(`${base}selinux=Disabled\nfirewalld=unknown\n`).firewalld, false);
    assert.equal(parsePlatform(`${base}selinux=Enforcing\nfirewalld=active\n`).firewalld, true);
  });
});

describe('platform: package names per family', () => {
  const cases: { names: string[]; rhel: string[]; none: string[] }[] = [
    { names: ['haproxy', 'keepalived', 'socat', 'curl', 'iproute2'], rhel: ['haproxy', 'keepalived', 'socat', 'curl', 'iproute'], none: [] },
    { names: ['ipvsadm', 'docker.io', 'apparmor'], rhel: ['ipvsadm', 'docker-ce'], none: ['apparmor'] },
    { names: ['nginx-light', 'nginx'], rhel: ['nginx'], none: [] },
  ];
  for (const c of cases) {
    it(c.names.join(' '), () => {
      assert.deepEqual(packagesFor('rhel', c.names), { names: c.rhel, none: c.none });
      assert.deepEqual(packagesFor('debian', c.names), { names: c.names, none: [] });
      assert.deepEqual(packagesFor('unknown', c.names), { names: c.names, none: [] });
    });
  }
});

/** An rpm database holding packages built here with rpmbuild (no files: the database is what rpm -q reads). */
function rpmDatabase(pkgs: { name: string; provides?: string[] }[]): { home: string; bin: string } {
  const top = mkdtempSync(join(tmpdir(), 'lbdeploy-rpm-'));
  const db = join(top, 'db');
  mkdirSync(db);
  for (const p of pkgs) {
    const spec = join(top, `${p.name}.spec`);
    writeFileSync(spec, [`Name: ${p.name}`, 'Version: 1.0', 'Release: 1', 'Summary: lbdeploy test package', 'License: MIT', 'BuildArch: noarch',
      ...(p.provides ?? []).map((x) => `Provides: ${x}`), '%description', 'test', '%files', ''].join('\n'));
    const b = spawnSync('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, spec], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
  const rpms = readdirSync(join(top, 'RPMS', 'noarch')).map((f) => join(top, 'RPMS', 'noarch', f));
  const i = spawnSync('rpm', ['-i', '--dbpath', db, '--justdb', '--nodeps', '--ignoreos', '--ignorearch', ...rpms], { encoding: 'utf8' });
  assert.equal(i.status, 0, i.stderr);
  // A home whose ~/.rpmmacros points rpm at it, and a PATH with rpm but no dpkg-query (as on a RHEL host).
  const home = join(top, 'home');
  mkdirSync(home);
  writeFileSync(join(home, '.rpmmacros'), `%_dbpath ${db}\n`);
  const bin = join(top, 'bin');
  mkdirSync(bin);
  symlinkSync(spawnSync('sh', ['-c', 'command -v rpm'], { encoding: 'utf8' }).stdout.trim(), join(bin, 'rpm'));
  return { home, bin };
}

/** Each fact request answered by running its own command in that environment (the platform from a fixture). */
function answer(op: Operation, env: { home: string; bin: string }, os: string, manager: string): FactMap {
  const facts = new Map<string, FactResult>();
  for (const req of op.facts(CTX)) {
    if (req.key === PLATFORM_FACT.key) {
      const r = spawnSync('/bin/sh', ['-c', req.command.text.replaceAll('/etc/os-release', join(FIXTURES, os))], { encoding: 'utf8' });
      facts.set(req.key, { stdout: r.stdout, code: r.status ?? 1 });
    } else if (req.key === PACKAGE_MANAGER_FACT.key) {
      facts.set(req.key, { stdout: `${manager}\n`, code: 0 });
    } else {
      const r = spawnSync('/bin/sh', ['-c', req.command.text], { encoding: 'utf8', env: { PATH: env.bin, HOME: env.home } });
      facts.set(req.key, { stdout: r.stdout, code: r.status ?? 1 });
    }
  }
  return facts;
}

describe('platform: packages on a RHEL-family host, with a real rpm database', function () {
  this.timeout(60_000);
  let env: { home: string; bin: string };
  before(() => {
    // EL9's minimal install: curl-minimal provides curl; haproxy is already installed.
    env = rpmDatabase([{ name: 'curl-minimal', provides: ['curl'] }, { name: 'haproxy' }, { name: 'iproute' }]);
  });

  it('the status command reads what rpm says is installed, by what packages provide', () => {
    const op = packages({ names: ['haproxy', 'keepalived', 'socat', 'curl', 'iproute2'] });
    const plan = op.plan(answer(op, env, 'rocky-9.3', 'dnf'), CTX);
    assert.equal(plan.kind, 'change');
    if (plan.kind !== 'change') return;
    // curl (provided by curl-minimal), haproxy and iproute are there; iproute2 is mapped to iproute.
    assert.equal(plan.summary, 'dnf install keepalived socat');
    assert.match(plan.script.text, /^dnf install -y -q --setopt=install_weak_deps=False .*keepalived.*socat/);
    assert.doesNotMatch(plan.script.text, /apt-get|iproute2|curl|haproxy/);
  });

  it('yum on an older host; a package with no RHEL counterpart is named, not installed', () => {
    const op = packages({ names: ['ipvsadm', 'docker.io', 'apparmor'] });
    const plan = op.plan(answer(op, env, 'centos-stream-9', 'yum'), CTX);
    assert.equal(plan.kind, 'change');
    if (plan.kind !== 'change') return;
    assert.equal(plan.summary, 'yum install ipvsadm docker-ce (apparmor: no such package on centos)');
  });

  it('everything present: ok', () => {
    const op = packages({ names: ['curl', 'haproxy', 'iproute2'] });
    const plan = op.plan(answer(op, env, 'almalinux-10.0', 'dnf'), CTX);
    assert.deepEqual(plan, { kind: 'ok', reason: 'all installed' });
  });

  it('the same step on Debian plans apt-get with the Debian names', () => {
    const op = packages({ names: ['haproxy', 'iproute2'] });
    const facts = new Map(answer(op, env, 'debian-12', 'apt-get'));
    // dpkg-query answers on Debian: haproxy installed, iproute2 not.
    const status = op.facts(CTX).find((r) => r.key.startsWith('pkg:status'))!;
    facts.set(status.key, { stdout: 'haproxy ii \n', code: 0 });
    const plan = op.plan(facts, CTX);
    assert.equal(plan.kind, 'change');
    if (plan.kind === 'change') assert.equal(plan.summary, 'apt-get install iproute2');
  });
});

describe('platform: steps for one family', () => {
  const env = { home: tmpdir(), bin: '/nonexistent' };
  const rhelOnly = onFamily('rhel', file({ path: '/etc/sysconfig/ipvsadm', content: 'x\n' }));
  const debianOnly = onFamily('debian', file({ path: '/etc/default/ipvsadm', content: 'x\n' }));
  const stat = (op: Operation, os: string) => {
    const facts = new Map(answer(op, env, os, 'dnf'));
    // The file is absent on the host.
    for (const r of op.facts(CTX)) if (r.key !== PLATFORM_FACT.key) facts.set(r.key, { stdout: 'absent\n', code: 0 });
    return op.plan(facts, CTX);
  };
  const cases: { os: string; rhel: string; debian: string }[] = [
    { os: 'rocky-9.3', rhel: 'change', debian: 'ok' },
    { os: 'fedora-42', rhel: 'change', debian: 'ok' },
    { os: 'debian-12', rhel: 'ok', debian: 'change' },
    { os: 'ubuntu-24.04', rhel: 'ok', debian: 'change' },
  ];
  for (const c of cases) {
    it(c.os, () => {
      assert.equal(stat(rhelOnly, c.os).kind, c.rhel);
      assert.equal(stat(debianOnly, c.os).kind, c.debian);
    });
  }
});

describe('platform: notes for SELinux and firewalld', () => {
  const rocky = (selinux: string, firewalld: string) => parsePlatform(`id=rocky\nlike=rhel centos fedora\nversion=9.3\nselinux=${selinux}\nfirewalld=${firewalld}\n`);
  it('enforcing SELinux and an active firewalld: the commands to run', () => {
    const hints = platformHints(rocky('Enforcing', 'active'), { vrrp: true, ports: [80, 6443] });
    assert.equal(hints.length, 2);
    assert.match(hints[0]!, /setsebool -P haproxy_connect_any 1/);
    assert.match(hints[1]!, /--add-rich-rule='rule protocol value="vrrp" accept'.*--add-port=80\/tcp.*--add-port=6443\/tcp.*firewall-cmd --reload/);
  });
  it('permissive and no firewalld: nothing to say', () => assert.deepEqual(platformHints(rocky('Permissive', 'inactive'), { vrrp: true, ports: [80] }), []));
  it('the step: ok with the hint, so plan shows it', () => {
    const op = platformNotes({ vrrp: true, ports: [6443] });
    const plan = op.plan(new Map([[PLATFORM_FACT.key, { stdout: 'id=rocky\nlike=rhel\nversion=9.3\nselinux=Enforcing\nfirewalld=inactive\n', code: 0 }]]), CTX);
    assert.equal(plan.kind, 'ok');
    if (plan.kind === 'ok') {
      assert.match(plan.reason, /rocky 9\.3 \(rhel family; SELinux enforcing; firewalld not active\)/);
      assert.match(plan.hint ?? '', /haproxy_connect_any/);
    }
  });
  it('the ports a firewall must let in, from the haproxy model', () => {
    assert.deepEqual(frontendPorts({
      global: { maxconn: 1, statsSocket: '/run/haproxy/admin.sock' }, defaults: { timeoutConnect: '1s', timeoutClient: '1s', timeoutServer: '1s' },
      monitor: { bind: '*:8404', uri: '/m' }, listens: [{ name: 'k', binds: ['198.18.0.100:6443', '[2001:2::100]:6443'], servers: [] }, { name: 'w', binds: ['*:80 accept-proxy'], servers: [] }],
    }), [80, 6443, 8404]);
  });
});
