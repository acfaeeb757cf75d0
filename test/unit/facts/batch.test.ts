import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/connection/shell.js';
import { batchFacts } from '../../../src/facts/batch.js';
import { parsePathFact, pathFactRequest, normMode } from '../../../src/operations/path-fact.js';
import { sysctl, sysctlPath } from '../../../src/operations/kernel.js';
import { gatherFacts, HANDLER_MARKER_DIR, pendingFact } from '../../../src/execute/host-play.js';
import type { HostSession } from '../../../src/connection/pool.js';
import type { FactRequest } from '../../../src/operations/types.js';
import { activeRequest, parseUnit, unitRequest } from '../../../src/operations/service.js';

/** Facts are parsed from what a real POSIX shell prints for the batch script. */
function runLocally(script: string): string {
  return execFileSync('/bin/sh', ['-c', script]).toString();
}

describe('facts: one batch, many probes', () => {
  it('cuts the output into sections by probe, with exit codes, whatever the probes print', () => {
    const batch = batchFacts([
      { key: 'a', command: sh`printf 'one\\ntwo'` },
      { key: 'b', command: sh`echo '@@lbd fake marker'; exit 3` },
      { key: 'c', command: sh`printf ''` },
      { key: 'a', command: sh`echo duplicate-is-dropped` },
      { key: 'd', command: sh`echo to-stderr >&2; echo out` },
    ]);
    const facts = batch.parse(runLocally(batch.script.text));
    assert.deepEqual(facts.get('a'), { stdout: 'one\ntwo', code: 0 });
    assert.deepEqual(facts.get('b'), { stdout: '@@lbd fake marker\n', code: 3 });
    assert.deepEqual(facts.get('c'), { stdout: '', code: 0 });
    assert.deepEqual(facts.get('d'), { stdout: 'out\n', code: 0 });
    assert.equal(facts.size, 4);
  });

  it('reads file, directory and absent path facts (with content for diffs)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-facts-'));
    try {
      writeFileSync(join(dir, 'f'), 'hello\n', { mode: 0o640 });
      const reqs = [pathFactRequest(join(dir, 'f'), true), pathFactRequest(dir), pathFactRequest(join(dir, 'none'))];
      const batch = batchFacts(reqs);
      const facts = batch.parse(runLocally(batch.script.text));
      const f = parsePathFact(facts.get(reqs[0]!.key)!);
      assert.equal(f.kind, 'file');
      if (f.kind === 'file') {
        assert.equal(f.mode, '0640');
        assert.equal(f.size, 6);
        assert.equal(f.sha256, '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
        assert.equal(f.content, 'hello\n');
      }
      assert.equal(parsePathFact(facts.get(reqs[1]!.key)!).kind, 'dir');
      assert.deepEqual(parsePathFact(facts.get(reqs[2]!.key)!), { kind: 'absent' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('paths of one batch share one stat and one sha256sum, with the results each alone would give', () => {
    // name -> how to make it (in a fresh folder); every case is read alone and in a group of all.
    const cases: [string, (p: string) => void][] = [
      ['plain file', (p) => writeFileSync(p, 'hello\n', { mode: 0o640 })],
      ['empty file', (p) => writeFileSync(p, '')],
      ['name with spaces and a quote', (p) => writeFileSync(p, 'x')],
      ['name with a newline\nin it', (p) => writeFileSync(p, 'y', { mode: 0o600 })],
      ['back\\slash', (p) => writeFileSync(p, 'z')],
      ['-dash-first', (p) => writeFileSync(p, 'd')],
      ['a directory', (p) => mkdirSync(p, { mode: 0o750 })],
      ['a symlink to a file', (p) => symlinkSync('/etc/hostname', p)],
      ['a dangling symlink', (p) => symlinkSync('/nonexistent-lbd', p)],
      ['a fifo', (p) => execFileSync('mkfifo', [p])],
      ['absent', () => undefined],
    ];
    let dir: string;
    const pathOf = (name: string) => join(dir, name === 'name with spaces and a quote' ? "sp ace's" : name);
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'lbd-group-'));
      for (const [name, make] of cases) make(pathOf(name));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('groups them into one section that starts no process per path', () => {
      const reqs = cases.map(([name]) => pathFactRequest(pathOf(name)));
      const script = batchFacts(reqs).script.text;
      assert.equal(script.match(/begin:/g)?.length, 1, 'one section for all paths');
      assert.equal(script.match(/sha256sum/g)?.length, 1);
    });

    for (const [name] of cases) {
      it(`${JSON.stringify(name)}: grouped = alone`, () => {
        const reqs = cases.map(([n]) => pathFactRequest(pathOf(n)));
        const groupBatch = batchFacts(reqs);
        const grouped = groupBatch.parse(runLocally(groupBatch.script.text));
        const req = pathFactRequest(pathOf(name));
        const { group: _, ...aloneReq } = req;
        const aloneBatch = batchFacts([aloneReq]);
        const alone = aloneBatch.parse(runLocally(aloneBatch.script.text)).get(req.key);
        assert.ok(alone, 'read alone');
        assert.deepEqual(grouped.get(req.key), alone);
        assert.notEqual(parsePathFact(alone).kind, undefined);
      });
    }

    it('a group whose output does not add up leaves its keys out (they are asked again alone)', () => {
      const reqs = [pathFactRequest(pathOf('plain file')), pathFactRequest(pathOf('a directory'))];
      const batch = batchFacts(reqs, 'n0');
      // What a file removed between the shell's test and stat looks like: a type line, no stat line.
      const out = '\n@@lbdn0 begin:0\nfile\ndir\n755 root root\n\n@@lbdn0 end:0 0\n';
      assert.equal(batch.parse(out).size, 0);
    });

    it('gatherFacts asks again, alone, what a group could not answer', async () => {
      const req = pathFactRequest(pathOf('plain file'));
      const scripts: string[] = [];
      let first = true;
      const session = {
        host: { name: 't' },
        run: async (script: { text: string }) => {
          scripts.push(script.text);
          let stdout = runLocally(script.text);
          // The first answer's group section is cut short, as if a file changed under it.
          if (first) stdout = stdout.replace(/(begin:1\n)[\s\S]*?(\n@@lbd\w+ end:1)/, '$1file$2');
          first = false;
          return { stdout, stderr: '', code: 0, signal: null };
        },
      } as unknown as HostSession;
      const op = { facts: () => [req, pathFactRequest(pathOf('a directory'))] };
      const facts = await gatherFacts(session, [op as never], [], { check: false, diff: false, allowReboot: false });
      assert.equal(scripts.length, 2, 'one more round trip');
      assert.equal(parsePathFact(facts.get(req.key)!).kind, 'file');
      assert.equal(parsePathFact(facts.get(pathFactRequest(pathOf('a directory')).key)!).kind, 'dir');
    });
  });

  describe('units of one batch share one systemctl (the output cut back per unit)', () => {
    const show = 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n';
    const cases: [string, string, string[], number, ReturnType<typeof parseUnit>[] | 'cannot'][] = [
      ['show: two units', 'show', ['haproxy', 'nosuch'], 0, [{ load: 'loaded', active: 'active', unitFile: 'enabled' }, { load: 'not-found', active: 'inactive', unitFile: '' }]],
      ['show: a block missing', 'show', ['haproxy', 'nosuch', 'third'], 0, 'cannot'],
      ['show: systemctl refused a name', 'show', ['haproxy', 'bad@'], 1, 'cannot'],
    ];
    for (const [what, , names, code, want] of cases) {
      it(what, () => {
        const g = unitRequest(names[0]!).group!;
        const r = g.split(show, names, code);
        if (want === 'cannot') assert.equal(typeof r, 'string');
        else assert.deepEqual((r as { stdout: string }[]).map((x) => parseUnit(x.stdout)), want);
      });
    }
    const active: [string, string, string[], number, [string, number][] | 'cannot'][] = [
      ['is-active: all active', 'active\nactive\n', ['keepalived', 'haproxy'], 0, [['active\n', 0], ['active\n', 0]]],
      ['is-active: one down (systemctl exits 0 when any is active)', 'inactive\nactive\n', ['keepalived', 'haproxy'], 0, [['inactive\n', 3], ['active\n', 0]]],
      ['is-active: all down', 'failed\ninactive\n', ['keepalived', 'haproxy'], 3, [['failed\n', 3], ['inactive\n', 3]]],
      ['is-active: no answer (systemd not running)', 'System has not been booted with systemd\n', ['keepalived', 'haproxy'], 1, 'cannot'],
    ];
    for (const [what, out, names, code, want] of active) {
      it(what, () => {
        const r = activeRequest(names[0]!).group!.split(out, names, code);
        if (want === 'cannot') assert.equal(typeof r, 'string');
        else assert.deepEqual(r, want.map(([stdout, c]) => ({ stdout, code: c })));
      });
    }
    it('two units in one batch make one systemctl', () => {
      const script = batchFacts([unitRequest('haproxy'), unitRequest('keepalived'), activeRequest('haproxy'), activeRequest('keepalived')]).script.text;
      assert.equal(script.match(/systemctl show/g)?.length, 1);
      assert.equal(script.match(/systemctl is-active/g)?.length, 1);
    });
  });

  describe('sysctl facts: the path of each key, the value squeezed by the shell', () => {
    const keys: [string, string][] = [['net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward'], ['net.ipv4.conf.eth0/1.rp_filter', '/proc/sys/net/ipv4/conf/eth0.1/rp_filter'], ['kernel.pid_max', '/proc/sys/kernel/pid_max']];
    for (const [key, path] of keys) it(`${key} is ${path}`, () => assert.equal(sysctlPath(key), path));

    it('prints each key with its blanks squeezed, or @missing', () => {
      const op = sysctl({ file: '/nonexistent/x.conf', values: { 'net.ipv4.ip_local_port_range': '1 2', 'kernel.pid_max': 1, 'net.lbdeploy.none': 1 } });
      const req = op.facts({ check: false, diff: false, allowReboot: false }).find((r: FactRequest) => r.key.startsWith('sysctl:'))!;
      const out = runLocally(req.command.text);
      const range = execFileSync('cat', ['/proc/sys/net/ipv4/ip_local_port_range']).toString().trim().split(/\s+/).join(' ');
      assert.match(out, new RegExp(`^net\\.ipv4\\.ip_local_port_range\t${range}$`, 'm'));
      assert.match(out, /^kernel\.pid_max\t\d+$/m);
      assert.match(out, /^net\.lbdeploy\.none\t@missing$/m);
    });
  });

  it('the pending handlers are listed by a glob: each marker once, nothing when the folder is missing or empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-pending-'));
    try {
      const list = (d: string) => runLocally(pendingFact(d).command.text);
      assert.equal(list(join(dir, 'missing')), '');
      assert.equal(list(dir), '');
      writeFileSync(join(dir, 'haproxy-keepalived-reload-haproxy-0a1b2c3d'), '');
      writeFileSync(join(dir, 'b marker'), '');
      assert.deepEqual(list(dir).split('\n').filter(Boolean).sort(), ['b marker', 'haproxy-keepalived-reload-haproxy-0a1b2c3d']);
      assert.equal(pendingFact().command.text.includes(HANDLER_MARKER_DIR), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const modes: [string | number, string][] = [['644', '0644'], ['0600', '0600'], [0o755, '0755'], ['0o640', '0640']];
  for (const [input, out] of modes) it(`normalises mode ${String(input)} to ${out}`, () => assert.equal(normMode(input), out));
});
