import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { EXIT_UPLOAD_INCOMPLETE, EXIT_VALIDATE_FAILED, file, sha256, writeFileScript } from '../../../src/operations/file.js';
import type { FactMap, PlanContext } from '../../../src/operations/types.js';
import { sh } from '../../../src/connection/shell.js';

const ctx: PlanContext = { check: false, diff: false, allowReboot: false };
const facts = (key: string, stdout: string): FactMap => new Map([[key, { stdout, code: 0 }]]);
const SHA_NEW = sha256('new\n');

describe('operation: file (planning)', () => {
  const op = file({ path: '/etc/x.conf', content: 'new\n', mode: '0640', notify: 'reload x' });
  const key = op.facts(ctx)[0]!.key;
  const cases: { what: string; fact: string; kind: string; summary?: RegExp }[] = [
    { what: 'absent -> create', fact: 'absent\n', kind: 'change', summary: /^create \/etc\/x\.conf \(4 bytes\)$/ },
    { what: 'same content and attributes -> ok', fact: `file 640 root root 4\n${SHA_NEW}\n`, kind: 'ok' },
    { what: 'other content -> update', fact: `file 640 root root 4\n${sha256('old\n')}\n`, kind: 'change', summary: /^update / },
    { what: 'same content, other mode -> chmod only', fact: `file 644 root root 4\n${SHA_NEW}\n`, kind: 'change', summary: /mode 0644 -> 0640/ },
    { what: 'same content, other owner -> chown only', fact: `file 640 www-data root 4\n${SHA_NEW}\n`, kind: 'change', summary: /owner www-data:root -> root:root/ },
    { what: 'a directory in the way -> fail', fact: 'dir 755 root root\n', kind: 'fail' },
    { what: 'a symlink in the way -> fail', fact: 'other symlink\n', kind: 'fail' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const plan = op.plan(facts(key, c.fact), ctx);
      assert.equal(plan.kind, c.kind);
      if (plan.kind === 'change' && c.summary) assert.match(plan.summary, c.summary);
    });
  }

  it('streams the content on stdin, never inside the command', () => {
    const plan = file({ path: '/etc/x.conf', content: 'top-secret-content\n' }).plan(facts(key, 'absent\n'), ctx);
    assert.equal(plan.kind, 'change');
    if (plan.kind === 'change') {
      assert.equal(plan.stdin, 'top-secret-content\n');
      assert.ok(!plan.script.text.includes('top-secret-content'));
    }
  });

  it('shows a unified diff with --diff, and hides it for sensitive files', () => {
    const dctx = { ...ctx, diff: true };
    const plain = file({ path: '/etc/x.conf', content: 'a\nnew\n' });
    const old = Buffer.from('a\nold\n').toString('base64');
    const p1 = plain.plan(facts(plain.facts(dctx)[0]!.key, `file 644 root root 6\n${sha256('a\nold\n')}\n${old}`), dctx);
    assert.ok(p1.kind === 'change' && /-old\n\+new/.test(p1.diff ?? ''), JSON.stringify(p1));
    const secret = file({ path: '/etc/x.conf', content: 'a\nnew\n', sensitive: true });
    const p2 = secret.plan(facts(secret.facts(dctx)[0]!.key, `file 644 root root 6\n${sha256('a\nold\n')}\n`), dctx);
    assert.ok(p2.kind === 'change' && /content hidden/.test(p2.diff ?? '') && !/new/.test(p2.diff ?? ''));
  });
});

describe('operation: file (the remote write script, run by a real sh)', () => {
  let dir: string;
  const me = userInfo();
  const spec = (extra: Partial<Parameters<typeof writeFileScript>[0]> = {}) => ({
    path: join(dir, 'app.conf'), sha256: SHA_NEW, mode: '0600', owner: String(me.uid), group: String(me.gid), ...extra,
  });
  const run = (script: string, stdin: string) => spawnSync('/bin/sh', ['-c', script], { input: stdin });
  const leftovers = () => readdirSync(dir).filter((f) => f.includes('.lbdeploy.'));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbd-write-'));
    writeFileSync(join(dir, 'app.conf'), 'old\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file when the upload is complete', () => {
    const r = run(writeFileScript(spec()).text, 'new\n');
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'new\n');
    assert.deepEqual(leftovers(), []);
  });

  it('keeps the old file and no temp file when the upload is cut short', () => {
    const r = run(writeFileScript(spec()).text, 'ne');
    assert.equal(r.status, EXIT_UPLOAD_INCOMPLETE);
    assert.match(r.stderr.toString(), /incomplete/);
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'old\n');
    assert.deepEqual(leftovers(), []);
  });

  it('cleans up even when the connection is gone (stderr a broken pipe)', async () => {
    // The shell's reader went away: its complaint about the short upload hits a closed pipe.
    const child = spawn('/bin/sh', ['-c', writeFileScript(spec()).text], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stderr.destroy();
    child.stdin.end('ne');
    await new Promise((r) => child.on('close', r));
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'old\n');
    assert.deepEqual(leftovers(), []);
  });

  it('keeps the old file when the validate command rejects the new one, and says why', () => {
    const r = run(writeFileScript(spec({ validate: (tmp) => sh`grep -q ^valid ${tmp} || { echo "line 1: not valid"; exit 1; }` })).text, 'new\n');
    assert.equal(r.status, EXIT_VALIDATE_FAILED);
    assert.match(r.stderr.toString(), /line 1: not valid/);
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'old\n');
    assert.deepEqual(leftovers(), []);
  });

  it('runs the validate command on the temp file, and keeps a backup when asked', () => {
    const ok = sha256('valid\n');
    const r = run(writeFileScript(spec({ sha256: ok, validate: (tmp) => sh`grep -q ^valid ${tmp}`, backup: true })).text, 'valid\n');
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'valid\n');
    const backups = readdirSync(dir).filter((f) => f.endsWith('.bak'));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(join(dir, backups[0]!), 'utf8'), 'old\n');
  });

  it('creates the parent folder of a new file', () => {
    const r = run(writeFileScript(spec({ path: join(dir, 'sub', 'new.conf') })).text, 'new\n');
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(existsSync(join(dir, 'sub', 'new.conf')));
  });
});
