/**
 * keepalived's haproxy check (files/check_haproxy.sh) against a real haproxy on 127.0.0.1: exit 0
 * only while the monitor URI answers 200; 1 when haproxy says it is failing (503) and when nothing
 * listens. It runs every second on every node, so it must start nothing but bash: asserted too.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '../../../files/check_haproxy.sh');

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const check = (port: number, uri = '/monitor') => spawnSync('bash', [SCRIPT, String(port), uri], { timeout: 5000 }).status;

describe('check_haproxy.sh: keepalived\'s haproxy check, against a real haproxy', function () {
  this.timeout(20_000);
  let dir: string;
  let ok: number;
  let failing: number;
  let haproxy: ReturnType<typeof spawn> | undefined;
  const listening = (port: number) => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' }).status === 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lbd-check-'));
    ok = await freePort();
    failing = await freePort();
    // Two monitors: one healthy (200), one that haproxy itself reports failing (503).
    writeFileSync(join(dir, 'haproxy.cfg'), [
      'defaults', '  mode http', '  timeout connect 1s', '  timeout client 5s', '  timeout server 5s',
      'frontend ok', `  bind 127.0.0.1:${ok}`, '  monitor-uri /monitor',
      'frontend failing', `  bind 127.0.0.1:${failing}`, '  monitor-uri /monitor', '  monitor fail if TRUE', '',
    ].join('\n'));
    let spawnError: Error | undefined;
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    haproxy.on('error', (e) => (spawnError = e));
    for (let i = 0; i < 50 && !spawnError && !(listening(ok) && listening(failing)); i++) await new Promise((r) => setTimeout(r, 100));
    if (spawnError) throw new Error(`cannot start haproxy (${spawnError.message}): install it (apt-get install haproxy), as .ci/run does`);
    assert.ok(listening(ok) && listening(failing), 'haproxy did not listen on its two test ports within 5 s');
  });

  after(() => {
    haproxy?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a bash script that runs no other program (no curl, no pidof)', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    assert.match(text, /^#!\/bin\/bash\n/);
    const code = text.split('\n').filter((l) => !l.startsWith('#') && l.trim() !== '');
    for (const l of code) assert.doesNotMatch(l, /\b(curl|wget|pidof|pgrep|killall|nc)\b/, l);
  });

  it('exit 0 while the monitor URI answers 200', () => {
    assert.equal(check(ok), 0);
  });

  it('exit 1 while haproxy reports the monitor failing (503), and for a URI it does not monitor', () => {
    assert.equal(check(failing), 1);
    assert.equal(check(ok, '/other'), 1);
  });

  it('exit 1 once haproxy is gone', async () => {
    haproxy!.kill('SIGKILL');
    for (let i = 0; i < 50 && listening(ok); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(check(ok), 1);
  });
});
