/**
 * The per-host run lock against the lab: a second `up` meeting a first one refuses (naming the
 * holder) or waits and then finds nothing to do; a killed run's lock frees itself; verify and
 * audit take no lock. "Reloaded" is counted by the handler's own log on each host.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { cli, FIXTURES, labInventory, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, onHost } from '../helpers/lab.js';
import { sleep } from '../../src/util/sleep.js';

const LBS = ['lb1', 'lb2', 'lb3'];
const PLAYBOOK = `${FIXTURES}/slow-change.ts`;

/** Start `up` in the background; resolves with its output and exit code when it ends. */
function background(inventory: string, extra: string[] = []): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [resolve('dist/src/cli/main.js'), 'up', inventory, '--playbook', PLAYBOOK, '--no-wait', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, done: new Promise((res) => child.on('close', (code) => res({ code, out }))) };
}

/** Until every LB host records a holder with this pid (bounded). */
async function lockedBy(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const held = await Promise.all(LBS.map((h) => onHost(h, 'cat /run/lbdeploy/run.holder 2>/dev/null || true')));
    if (held.every((t) => t.includes(`pid ${pid}:`))) return;
    await sleep(100);
  }
  assert.fail(`run ${pid} never held the locks of ${LBS.join(', ')}`);
}

const reloads = async () => Promise.all(LBS.map(async (h) => (await onHost(h, 'cat /var/tmp/lbdeploy-lock-reloads 2>/dev/null || true')).split('\n').filter(Boolean).length));

describe('run lock: one lbdeploy run changes a host at a time', function () {
  this.timeout(180_000);
  let inventory: string;
  let rev = 0;
  before(async () => {
    await ensureLab();
    inventory = labInventory();
  });
  beforeEach(async () => {
    rev++;
    await Promise.all(LBS.map((h) => onHost(h, 'rm -f /var/tmp/lbdeploy-lock-reloads /etc/lbdeploy-lock-test.conf')));
  });
  after(async () => {
    await Promise.all(LBS.map((h) => onHost(h, 'rm -f /var/tmp/lbdeploy-lock-reloads /etc/lbdeploy-lock-test.conf')));
  });

  it('a second up refuses at once, naming the holder (who, from where, since when), and changes nothing', async () => {
    const first = background(inventory);
    await lockedBy(first.child.pid!);
    const second = await cli(['up', inventory, '--playbook', PLAYBOOK, '--no-wait']);
    assert.equal(second.code, 1, second.stdout + second.stderr);
    for (const h of LBS) {
      assert.match(second.stdout, new RegExp(`FAILED ${h}: run lock - another lbdeploy run holds this host: \\S+@\\S+ pid ${first.child.pid}: lbdeploy up \\S+ since \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z \\(\\d+ s ago\\)`));
    }
    assert.match(second.stdout, /→ wait for it to end, or give --lock-wait SECONDS/);
    assert.doesNotMatch(second.stdout, /changed lb\d/);
    const r = await first.done;
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await reloads(), [1, 1, 1], 'each host reloaded once, by the first run');
  });

  it('with --lock-wait it queues behind the first run, then finds nothing to change: no second reload', async () => {
    const first = background(inventory, []);
    await lockedBy(first.child.pid!);
    const second = await cli(['up', inventory, '--playbook', PLAYBOOK, '--no-wait', '--lock-wait', '60']);
    const r = await first.done;
    assert.equal(r.code, 0, r.out);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, new RegExp(`LOCKED lb1: another lbdeploy run holds it \\(\\S+ pid ${first.child.pid}: lbdeploy up`));
    assert.match(second.stdout, /^lb1\s+\d+\s+0\s+0\s/m, 'the second run changed nothing on lb1');
    assert.deepEqual(await reloads(), [1, 1, 1]);
  });

  it('a killed run\'s lock frees itself (the connection drops, flock goes with it); verify takes no lock meanwhile', async () => {
    const first = background(inventory, []);
    await lockedBy(first.child.pid!);
    // verify and audit only read: they run while the hosts are locked, and do not wait.
    const verify = await cli(['verify', labInventoryCopy()]);
    assert.doesNotMatch(verify.stdout + verify.stderr, /lock/i);
    first.child.kill('SIGKILL');
    await first.done;
    const t0 = Date.now();
    const second = await cli(['up', inventory, '--playbook', PLAYBOOK, '--no-wait', '--lock-wait', '20']);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.ok(Date.now() - t0 < 20_000, 'it did not wait out the limit');
    const holders = await Promise.all(LBS.map((h) => onHost(h, 'cat /run/lbdeploy/run.holder 2>/dev/null || echo none')));
    assert.deepEqual(holders.map((t) => t.trim()), ['none', 'none', 'none'], 'a run that ended removes its record');
  });

  it('two runs started at the same moment over the same hosts: one changes them, the other is refused holding nothing', async () => {
    const a = background(inventory);
    const b = background(inventory);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const codes = [ra.code, rb.code].sort();
    assert.deepEqual(codes, [0, 1], `exactly one run went on\n--- A\n${ra.out}\n--- B\n${rb.out}`);
    const loser = ra.code === 1 ? ra : rb;
    assert.match(loser.out, /another lbdeploy run holds/);
    assert.doesNotMatch(loser.out, /changed lb\d/);
    assert.deepEqual(await reloads(), [1, 1, 1], 'each host changed once, by one run: the locks were never split');
  });

  it('a lock whose run is gone: up names the holder, unlock frees it with a warning, then up goes on', async () => {
    // A holder detached from any lbdeploy run (as one left by a network cut): it holds the flock until killed.
    await onHost('lb1', `mkdir -p /run/lbdeploy && setsid sh -c 'exec 9>>/run/lbdeploy/run.lock; flock 9; echo "ghost@gone pid 1: lbdeploy up gone.yaml since=$(date +%s)" >/run/lbdeploy/run.holder; echo $$ >/run/lbdeploy/run.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &`);
    for (let i = 0; i < 50 && !(await onHost('lb1', 'cat /run/lbdeploy/run.holder 2>/dev/null || true')).includes('ghost'); i++) await sleep(100);
    const refused = await cli(['up', inventory, '--playbook', PLAYBOOK, '--no-wait']);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /FAILED lb1: run lock - another lbdeploy run holds this host: ghost@gone pid 1: lbdeploy up gone.yaml/);
    const ghost = (await onHost('lb1', 'cat /run/lbdeploy/run.pid')).trim();
    const unlock = await cli(['unlock', inventory, 'lb1']);
    assert.equal(unlock.code, 0, unlock.stdout + unlock.stderr);
    assert.match(unlock.stdout, /lb1: WARNING: freed the run lock held by ghost@gone pid 1: lbdeploy up gone.yaml since=\d+ \(ended pid \d+ on the host\); if that run is still going/);
    assert.match(unlock.stdout, new RegExp(`ended pid ${ghost} `), 'exactly the recorded holder');
    assert.equal((await onHost('lb1', `kill -0 ${ghost} 2>/dev/null && echo alive || echo gone`)).trim(), 'gone');
    const again = await cli(['unlock', inventory, 'lb1']);
    assert.match(again.stdout, /lb1: no lbdeploy run holds the lock; nothing to do/);
    const ok = await cli(['up', inventory, '--playbook', PLAYBOOK, '--no-wait']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });
});
