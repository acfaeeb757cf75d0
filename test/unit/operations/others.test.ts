import { strict as assert } from 'node:assert';
import { command, reboot, waitFor } from '../../../src/operations/command.js';
import { address, ipvsServices } from '../../../src/operations/ipvs.js';
import { kernelModules, parseModules, parseSysctl, sysctl, sysctlFileContent } from '../../../src/operations/kernel.js';
import { packages, parseInstalled } from '../../../src/operations/package.js';
import { parseUnit, service } from '../../../src/operations/service.js';
import { sha256 } from '../../../src/operations/file.js';
import type { FactMap, Operation, PlanContext, StepPlan } from '../../../src/operations/types.js';

const ctx: PlanContext = { check: false, diff: false, allowReboot: false };

/** Plan an operation against facts given in the order it asks for them. */
function plan(op: Operation, outputs: string[], c: PlanContext = ctx): StepPlan {
  const reqs = op.facts(c);
  const facts: FactMap = new Map(reqs.map((r, i) => [r.key, { stdout: outputs[i] ?? '', code: 0 }]));
  return op.plan(facts, c);
}

describe('operation: packages', () => {
  const dpkg = 'haproxy ii \nkeepalived un \n';
  const DEBIAN = 'id=debian\nlike=\nversion=12\n';
  const ROCKY = 'id=rocky\nlike=rhel centos fedora\nversion=9.3\n';
  it('parses dpkg-query status', () => assert.deepEqual([...parseInstalled(dpkg)], ['haproxy']));
  const cases: [string, Operation, string[], string, RegExp?][] = [
    // Facts in the order the step asks them: the manager, the platform (os-release), the status.
    ['installs what is missing with apt-get', packages({ names: ['haproxy', 'keepalived'] }), ['apt-get\n', DEBIAN, dpkg], 'change', /apt-get install .*keepalived$/],
    ['is ok when all are installed', packages({ names: ['haproxy'] }), ['apt-get\n', DEBIAN, dpkg], 'ok'],
    ['removes what is installed', packages({ names: ['haproxy', 'keepalived'], state: 'absent' }), ['apt-get\n', DEBIAN, dpkg], 'change', /apt-get remove -y -qq haproxy$/],
    ['uses dnf on RHEL-family hosts', packages({ names: ['haproxy', 'iproute2'] }), ['dnf\n', ROCKY, ''], 'change', /^dnf install -y -q --setopt=install_weak_deps=False haproxy iproute$/],
    ['fails clearly without a package manager', packages({ names: ['haproxy'] }), ['none\n', DEBIAN, ''], 'fail'],
  ];
  for (const [what, op, out, kind, script] of cases) {
    it(what, () => {
      const p = plan(op, out);
      assert.equal(p.kind, kind);
      if (script && p.kind === 'change') assert.match(p.script.text, script);
    });
  }
});

describe('operation: service', () => {
  const unit = (active: string, file: string) => `LoadState=loaded\nActiveState=${active}\nUnitFileState=${file}\n`;
  it('parses systemctl show', () => assert.deepEqual(parseUnit(unit('active', 'enabled')), { load: 'loaded', active: 'active', unitFile: 'enabled' }));
  const cases: [string, Parameters<typeof service>[0], string, string, RegExp?][] = [
    ['starts and enables a stopped, disabled unit', { name: 'haproxy', enabled: true, state: 'started' }, unit('inactive', 'disabled'), 'change', /systemctl enable haproxy && systemctl start haproxy/],
    ['is ok when running and enabled', { name: 'haproxy', enabled: true, state: 'started' }, unit('active', 'enabled'), 'ok'],
    ['reloads a running unit', { name: 'haproxy', state: 'reloaded' }, unit('active', 'enabled'), 'change', /systemctl reload haproxy/],
    ['starts instead of reloading a stopped unit', { name: 'haproxy', state: 'reloaded' }, unit('inactive', 'enabled'), 'change', /systemctl start haproxy/],
    ['always restarts when asked to', { name: 'haproxy', state: 'restarted' }, unit('active', 'enabled'), 'change', /systemctl restart haproxy/],
    ['stops a running unit', { name: 'haproxy', state: 'stopped' }, unit('active', 'enabled'), 'change', /systemctl stop haproxy/],
    ['fails on a unit that does not exist', { name: 'nope', state: 'started' }, 'LoadState=not-found\nActiveState=inactive\n', 'fail'],
  ];
  for (const [what, opts, out, kind, script] of cases) {
    it(what, () => {
      const p = plan(service(opts), [out]);
      assert.equal(p.kind, kind);
      if (script && p.kind === 'change') assert.match(p.script.text, script);
    });
  }
  it('in check mode, a unit an earlier step would install is a change, not a failure', () => {
    assert.equal(plan(service({ name: 'nope', state: 'started' }), ['LoadState=not-found\n'], { ...ctx, check: true }).kind, 'change');
  });
});

describe('operation: sysctl', () => {
  const values = { 'net.ipv4.ip_nonlocal_bind': 1, 'net.ipv4.ip_local_port_range': '1024   65000' };
  const content = sysctlFileContent(values);
  const fileFact = `file 644 root root ${content.length}\n${sha256(content)}\n`;
  it('parses /proc/sys values', () => assert.deepEqual([...parseSysctl('a.b\t1\nc.d\t@missing\n')], [['a.b', '1'], ['c.d', '@missing']]));
  it('is ok when the file and the kernel agree (whitespace-normalised)', () => {
    assert.equal(plan(sysctl({ file: '/etc/sysctl.d/60.conf', values }), [fileFact, 'net.ipv4.ip_nonlocal_bind\t1\nnet.ipv4.ip_local_port_range\t1024 65000\n']).kind, 'ok');
  });
  it('applies only the keys whose live value differs, even when the file is right', () => {
    const p = plan(sysctl({ file: '/etc/sysctl.d/60.conf', values }), [fileFact, 'net.ipv4.ip_nonlocal_bind\t0\nnet.ipv4.ip_local_port_range\t1024 65000\n']);
    assert.ok(p.kind === 'change');
    assert.match(p.script.text, /sysctl -q -w net\.ipv4\.ip_nonlocal_bind=1/);
    assert.doesNotMatch(p.script.text, /ip_local_port_range/);
  });
  it('fails clearly when the kernel has no such key', () => {
    const p = plan(sysctl({ file: '/etc/sysctl.d/60.conf', values: { 'net.ipv4.vs.conntrack': 1 } }), ['absent\n', 'net.ipv4.vs.conntrack\t@missing\n']);
    assert.ok(p.kind === 'fail' && /kernel has no sysctl net\.ipv4\.vs\.conntrack/.test(p.message));
  });
});

describe('operation: kernel modules', () => {
  it('parses module states', () => assert.deepEqual(parseModules('ip_vs available\n@kernel 6.1.0\n').kernel, '6.1.0'));
  it('loads available modules and writes modules-load.d', () => {
    const p = plan(kernelModules({ file: '/etc/modules-load.d/x.conf', modules: ['ip_vs', 'overlay'] }), ['absent\n', 'ip_vs available\noverlay loaded\n@kernel 6.1.0\n']);
    assert.ok(p.kind === 'change');
    assert.match(p.script.text, /modprobe ip_vs/);
    assert.doesNotMatch(p.script.text, /modprobe overlay/);
  });
  it('skips modules that newer kernels merged (seed 002\'s nf_conntrack_ipv4) with a note, and leaves them out of the file', () => {
    const op = kernelModules({ file: '/etc/modules-load.d/alive.kmod.conf', modules: ['ip_vs', 'nf_conntrack_ipv4', 'nf_conntrack'] });
    const p = plan(op, ['absent\n', 'ip_vs available\nnf_conntrack_ipv4 missing\nnf_conntrack loaded\n@kernel 6.1.0\n']);
    assert.ok(p.kind === 'change', JSON.stringify(p));
    assert.match(p.summary, /skipped nf_conntrack_ipv4 \(merged into nf_conntrack in Linux 4\.19; kernel 6\.1\.0\)/);
    assert.equal(p.stdin, '# Managed by lbdeploy: changes here are overwritten.\nip_vs\nnf_conntrack\n');
    const old = plan(op, ['absent\n', 'ip_vs available\nnf_conntrack_ipv4 available\nnf_conntrack loaded\n@kernel 4.9.0\n']);
    assert.ok(old.kind === 'change' && /modprobe nf_conntrack_ipv4/.test(old.script.text), 'an old kernel that has it still loads it');
  });

  it('fails clearly when a module cannot be loaded on this kernel', () => {
    const p = plan(kernelModules({ file: '/etc/modules-load.d/x.conf', modules: ['ip_vs'] }), ['absent\n', 'ip_vs missing\n@kernel 6.18.0\n']);
    assert.ok(p.kind === 'fail' && /ip_vs cannot be loaded: not built into kernel 6\.18\.0/.test(p.message));
  });
});

describe('operation: command, wait-for, reboot', () => {
  it('skips a command whose creates path exists', () => {
    assert.equal(plan(command({ cmd: 'make install', creates: '/usr/bin/x' }), ['file 755 root root 1\nabc\n']).kind, 'ok');
    assert.equal(plan(command({ cmd: 'make install', creates: '/usr/bin/x' }), ['absent\n']).kind, 'change');
  });
  it('reads changed_when from the result', () => {
    const op = command({ cmd: 'true', changedWhen: (r) => r.stdout.includes('changed') });
    assert.deepEqual(op.result!({ stdout: 'nothing', stderr: '', code: 0, signal: null }), { changed: false });
    assert.deepEqual(op.result!({ stdout: 'changed', stderr: '', code: 0, signal: null }), { changed: true });
    assert.ok(op.result!({ stdout: '', stderr: 'boom', code: 2, signal: null }).error);
  });
  it('waits for a port by probing, never counting as a change', () => {
    const p = plan(waitFor({ port: 6443, timeoutSec: 5 }), []);
    assert.ok(p.kind === 'run' && /dev\/tcp\/127\.0\.0\.1\/6443/.test(p.script.text));
  });
  it('reboots only when allowed', () => {
    const boot = 'b3f1\n12345\n';
    assert.equal(plan(reboot(), [boot, 'file 644 root root 0\nx\n']).kind, 'fail');
    assert.equal(plan(reboot(), [boot, 'file 644 root root 0\nx\n'], { ...ctx, allowReboot: true }).kind, 'change');
    assert.equal(plan(reboot(), [boot, 'absent\n'], { ...ctx, allowReboot: true }).kind, 'ok');
    assert.equal(plan(reboot({ when: 'always' }), [boot], { ...ctx, allowReboot: true }).kind, 'change');
  });
});

describe('operation: IPVS services and addresses', () => {
  const svc = { protocol: 'tcp' as const, address: '198.18.0.200', port: 80, scheduler: 'rr', realServers: [
    { address: '198.18.0.21', port: 80, forward: 'route' as const, weight: 1 }, { address: '198.18.0.22', port: 80, forward: 'route' as const, weight: 1 }] };
  const op = ipvsServices({ services: [svc] });
  it('programs only what differs', () => {
    const p = plan(op, ['-A -t 198.18.0.200:80 -s rr\n-a -t 198.18.0.200:80 -r 198.18.0.21:80 -g -w 1\n']);
    assert.ok(p.kind === 'change');
    assert.equal(p.script.text, 'ipvsadm -a -t 198.18.0.200:80 -r 198.18.0.22:80 -g -w 1');
  });
  it('is ok when the table matches', () => {
    assert.equal(plan(op, ['-A -t 198.18.0.200:80 -s rr\n-a -t 198.18.0.200:80 -r 198.18.0.21:80 -g -w 1\n-a -t 198.18.0.200:80 -r 198.18.0.22:80 -g -w 1\n']).kind, 'ok');
  });
  it('needs ipvsadm (a change in check mode, where an earlier step would install it)', () => {
    assert.equal(plan(op, ['@no-ipvsadm\n']).kind, 'fail');
    assert.equal(plan(op, ['@no-ipvsadm\n'], { ...ctx, check: true }).kind, 'change');
  });
  it('adds an address only when the interface lacks it', () => {
    const a = address({ address: '198.18.0.200/32', device: 'lo' });
    assert.equal(plan(a, ['1: lo    inet 127.0.0.1/8 scope host lo\n']).kind, 'change');
    assert.equal(plan(a, ['1: lo    inet 127.0.0.1/8 scope host lo\n1: lo    inet 198.18.0.200/32 scope global lo\n']).kind, 'ok');
  });
});
