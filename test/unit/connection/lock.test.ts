/** The run lock's pure parts: the holder as the next run is told, and the holder's script. */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, describeHolder, holderOf, lockScript, readAfterLock, staleHolder, unlockScript, type LockRead } from '../../../src/connection/lock.js';
import { sh, type ShellCommand } from '../../../src/connection/shell.js';
import type { ExecOptions, ExecResult } from '../../../src/connection/ssh.js';
import type { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';

describe('run lock', () => {
  const cases: [string, string, string][] = [
    ['a recorded holder', 'ops@ci-7 pid 4242: lbdeploy up inv.yaml since=1795000000', 'ops@ci-7 pid 4242: lbdeploy up inv.yaml since 2026-11-18T11:06:40Z (60 s ago)'],
    ['no record', 'unknown (no holder recorded)', 'unknown (no holder recorded)'],
    ['a clock ahead of ours', 'a@b pid 1: lbdeploy up x since=1795000100', 'a@b pid 1: lbdeploy up x since 2026-11-18T11:08:20Z (0 s ago)'],
  ];
  for (const [what, text, shown] of cases) it(`describes ${what}`, () => assert.equal(describeHolder(text, 1795000060_000), shown));

  const here = { host: 'ctl-1', alive: (pid: number) => pid === 100 };
  const STALE: [string, boolean][] = [
    ['ops@ctl-1 pid 4242: lbdeploy up inv.yaml since=1795000000', true],
    ['ops@ctl-1 pid 100: lbdeploy up inv.yaml since=1795000000', false],
    ['ops@ci-7 pid 4242: lbdeploy up inv.yaml since=1795000000', false],
    ['unknown (no holder recorded)', false],
  ];
  for (const [text, stale] of STALE) {
    it(`${stale ? 'stale' : 'not stale'}: ${text.split(':')[0]}`, () => {
      assert.equal(staleHolder(text, here), stale);
      assert.equal(describeHolder(text, 1795000060_000, here).includes('STALE'), stale);
      if (stale) assert.match(describeHolder(text, 1795000060_000, here), /lbdeploy unlock INVENTORY HOST/);
    });
  }

  it('names user@machine, pid and command, printable only', () => {
    assert.match(holderOf('up inventory/lab.yaml'), new RegExp(`^\\S+@\\S+ pid ${process.pid}: lbdeploy up inventory/lab.yaml$`));
    assert.doesNotMatch(holderOf('up \u00e9\n'), /[^\x20-\x7e]/);
  });

  it('quotes the holder and waits with flock -w only when asked', () => {
    const s = lockScript("x'; rm -rf / #", 0, 1795000000).text;
    assert.ok(s.includes(`printf '%s since=%s\\n' 'x'\\''; rm -rf / #' "$since"`), s);
    assert.ok(s.includes('since=1795000000'), s);
    assert.match(s, /if \[ 0 -le 0 \]/);
    assert.match(lockScript('h', 30).text, /flock -w 30 9/);
  });

  describe('the script, run for real by /bin/sh with flock(1) in a temporary folder', () => {
    let dir: string;
    const running: ChildProcessWithoutNullStreams[] = [];
    beforeEach(() => {
      dir = join(mkdtempSync(join(tmpdir(), 'lbd-lock-')), 'run');
    });
    afterEach(() => {
      for (const c of running.splice(0)) c.kill('SIGKILL');
      rmSync(join(dir, '..'), { recursive: true, force: true });
    });

    /** Start a holder; resolves with its output once it printed LOCKED or exited. */
    const start = (holder: string, waitS: number) => {
      const child = spawn('/bin/sh', ['-c', lockScript(holder, waitS, 1795000000, dir).text]);
      running.push(child);
      let out = '';
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      const settled = new Promise<string>((res) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('LOCKED\n')) res(out);
        });
        void exited.then(() => res(out));
      });
      return { child, settled, exited, out: () => out };
    };

    it('locks at once in a folder it makes (0700), refuses a second run naming the holder, and frees it when stdin ends', async () => {
      const first = start('a@b pid 1: lbdeploy up x', 0);
      assert.equal(await first.settled, 'LOCKED\n');
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(readFileSync(join(dir, 'run.holder'), 'utf8'), 'a@b pid 1: lbdeploy up x since=1795000000\n');

      const second = start('c@d pid 2: lbdeploy up x', 0);
      assert.equal(await second.exited, 75);
      assert.equal(second.out(), 'WAIT a@b pid 1: lbdeploy up x since=1795000000 \nHELD a@b pid 1: lbdeploy up x since=1795000000 \n');

      first.child.stdin.end();
      assert.equal(await first.exited, 0);
      assert.equal(existsSync(join(dir, 'run.holder')), false, 'the record goes with the run');
      const third = start('e@f pid 3: lbdeploy up x', 0);
      assert.equal(await third.settled, 'LOCKED\n');
      third.child.stdin.end();
      assert.equal(await third.exited, 0);
    });

    it('waits behind a holder with --lock-wait and records its own start when it gets the lock', async () => {
      const first = start('a@b pid 1: lbdeploy up x', 0);
      await first.settled;
      const second = start('c@d pid 2: lbdeploy up x', 10);
      // The first run ends once the second says it waits.
      await new Promise<void>((res) => {
        const look = () => (second.out().includes('WAIT ') ? res() : undefined);
        second.child.stdout.on('data', look);
        look();
      });
      first.child.stdin.end();
      const out = await second.settled;
      assert.match(out, /^WAIT a@b pid 1: .*\nLOCKED\n$/);
      const since = Number(/since=(\d+)/.exec(readFileSync(join(dir, 'run.holder'), 'utf8'))?.[1]);
      assert.ok(Math.abs(since - Date.now() / 1000) < 60, `the waiting run records when it got the lock (${since})`);
      second.child.stdin.end();
      assert.equal(await second.exited, 0);
    });

    it('a read under the lock comes back with it, in the same command: facts read while the lock is ours', async () => {
      // acquireLock over a local /bin/sh standing in for the host's session.
      const runLocal = (script: ShellCommand, o: ExecOptions) => new Promise<ExecResult>((res) => {
        const child = spawn('/bin/sh', ['-c', script.text.replace('d=/run/lbdeploy;', `d='${dir}';`)]);
        running.push(child);
        let stdout = '';
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          o.onStdout?.(b);
        });
        (o.stdin as Readable).pipe(child.stdin);
        child.on('exit', (code) => res({ stdout, stderr: '', code, signal: null }));
      });
      let got: { stdout: string; code: number } | undefined;
      const read: LockRead = { script: sh`echo one; printf 'two\n\n'; cat /nonexistent; exit 3`, nonce: '@@nonce-1', timeoutS: 10, done: (r) => (got = r) };
      const release = await acquireLock('h', runLocal, { holder: 'a@b pid 1: lbdeploy up x', waitS: 0 }, read);
      assert.deepEqual(got, { stdout: 'one\ntwo\n\n', code: 3 }, 'the output of the read, exactly, and its exit code');
      assert.equal(readFileSync(join(dir, 'run.holder'), 'utf8').startsWith('a@b pid 1'), true, 'read while the lock was held');
      await release();
      assert.equal(existsSync(join(dir, 'run.holder')), false);
    });

    it('readAfterLock waits for the whole nonce line', () => {
      assert.equal(readAfterLock('LOCKED\nfacts\n@@n 0', '@@n'), undefined);
      assert.deepEqual(readAfterLock('WAIT x\nLOCKED\nfacts\n\n@@n 0\n', '@@n'), { stdout: 'facts\n', code: 0 });
    });

    it('a killed holder frees the lock (the kernel drops its flock)', async () => {
      const first = start('a@b pid 1: lbdeploy up x', 0);
      await first.settled;
      first.child.kill('SIGKILL');
      await first.exited;
      const second = start('c@d pid 2: lbdeploy up x', 0);
      assert.equal(await second.settled, 'LOCKED\n');
    });

    it('unlock ends exactly the holder (its recorded pid), frees the lock and the record; a free lock is left alone', () => {
      const unlock = () => execFileSync('/bin/sh', ['-c', unlockScript(dir).text], { encoding: 'utf8' });
      return (async () => {
        const first = start('a@b pid 1: lbdeploy up x', 0);
        await first.settled;
        assert.equal(readFileSync(join(dir, 'run.pid'), 'utf8').trim(), String(first.child.pid), 'the holder records its own pid');
        const out = unlock();
        assert.match(out, new RegExp(`^FREED ${first.child.pid}\nWAS a@b pid 1: lbdeploy up x since=1795000000 \n$`));
        await first.exited;
        assert.equal(existsSync(join(dir, 'run.holder')), false);
        const second = start('c@d pid 2: lbdeploy up x', 0);
        assert.equal(await second.settled, 'LOCKED\n', 'the lock is free again');
        second.child.stdin.end();
        await second.exited;
        assert.match(unlock(), /^FREE /);
      })();
    });
  });
});
