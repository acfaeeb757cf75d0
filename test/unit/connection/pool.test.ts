/**
 * The connection pool's cap (`--forks`), with in-memory connections standing in for SSH (the e2e
 * scale suite counts real sshd connections from outside): never more open than the cap, the least
 * recently used idle one closed first with its run lock released before it, a host in use (held, or
 * a command in flight) never closed, and a host connected again known by its epoch.
 */
import { strict as assert } from 'node:assert';
import { PassThrough, type Readable } from 'node:stream';
import { ConnectionPool } from '../../../src/connection/pool.js';
import type { Connection, ExecOptions, ExecResult, SshTarget } from '../../../src/connection/ssh.js';
import type { ShellCommand } from '../../../src/connection/shell.js';
import { parseInventory } from '../../../src/inventory/load.js';
import type { Host, Inventory } from '../../../src/inventory/model.js';
import { mapLimit } from '../../../src/util/limit.js';

/** What the fake hosts saw, in order: connect, lock, unlock, close, run. */
class Fleet {
  open = 0;
  peak = 0;
  locked = new Set<string>();
  peakLocked = 0;
  log: string[] = [];
  /** Commands whose end the test decides: resolve them by host. */
  pending = new Map<string, () => void>();
  slow = new Set<string>();

  connect = async (t: SshTarget): Promise<Connection> => {
    await new Promise((r) => setTimeout(r, 1));
    this.open++;
    this.peak = Math.max(this.peak, this.open);
    this.log.push(`connect ${t.name}`);
    let closed = false;
    return {
      name: t.name,
      exec: async (command: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> => {
        assert.ok(!closed, `${t.name}: a command on a closed connection`);
        if (command.text.includes('flock')) {
          this.locked.add(t.name);
          this.peakLocked = Math.max(this.peakLocked, this.locked.size);
          this.log.push(`lock ${t.name}`);
          options.onStdout?.(Buffer.from('LOCKED\n'));
          await new Promise<void>((r) => (options.stdin as Readable).on('end', r).resume());
          this.locked.delete(t.name);
          this.log.push(`unlock ${t.name}`);
          return { stdout: 'LOCKED\n', stderr: '', code: 0, signal: null };
        }
        this.log.push(`run ${t.name}`);
        if (this.slow.has(t.name)) await new Promise<void>((r) => this.pending.set(t.name, r));
        return { stdout: t.name, stderr: '', code: 0, signal: null };
      },
      forwardOut: async () => {
        this.log.push(`forward ${t.name}`);
        return new PassThrough();
      },
      close: async () => {
        assert.ok(!this.locked.has(t.name), `${t.name}: closed while its lock was still held`);
        closed = true;
        this.open--;
        this.log.push(`close ${t.name}`);
      },
    };
  };
}

async function fleetInventory(n: number): Promise<Inventory> {
  const hosts = Array.from({ length: n }, (_, i) => `      h${i + 1}: { address: 198.18.9.${i + 1} }`).join('\n');
  return parseInventory('pool.yaml', `connection: { user: root, host_key_checking: off }\ngroups:\n  lb:\n    hosts:\n${hosts}\n`);
}

const LOCK = { holder: 'test', waitS: 0 };
const sh = { text: 'true' } as ShellCommand;
/** Event-loop turns until `cond` holds (bounded): the tests wait on what happened, never on time. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), `never happened: ${what}`);
}

describe('connection pool: --forks caps the open connections', () => {
  let inv: Inventory;
  let h: (i: number) => Host;
  before(async () => {
    inv = await fleetInventory(10);
    h = (i) => inv.hosts[i - 1]!;
  });

  it('under the cap: one connection per host for the whole run, every lock held until the end', async () => {
    const f = new Fleet();
    const pool = new ConnectionPool(inv, LOCK, 10, f.connect);
    await mapLimit(inv.hosts, 10, async (x) => (await pool.session(x)).run(sh));
    await mapLimit(inv.hosts, 10, async (x) => (await pool.session(x)).run(sh));
    assert.equal(pool.stats.connections, 10);
    assert.equal(pool.stats.evicted, 0);
    assert.equal(f.locked.size, 10);
    await pool.closeAll();
    assert.equal(f.open, 0);
    assert.equal(f.locked.size, 0);
  });

  for (const [cap, parallel] of [[1, 10], [3, 3], [3, 10], [4, 7]] as const) {
    it(`over the cap (${cap} open, ${parallel} hosts asking at once): never more than ${cap} open or locked, every command run`, async () => {
      const f = new Fleet();
      const pool = new ConnectionPool(inv, LOCK, cap, f.connect);
      const out = await mapLimit(inv.hosts, parallel, async (x) => (await pool.session(x)).run(sh));
      assert.deepEqual(out.map((r) => r.stdout), inv.hosts.map((x) => x.name));
      assert.ok(f.peak <= cap, `peak ${f.peak}`);
      assert.ok(f.peakLocked <= cap, `locked at once ${f.peakLocked}`);
      assert.equal(pool.stats.peakOpen <= cap, true, `its own count ${pool.stats.peakOpen}`);
      assert.equal(pool.stats.evicted, 10 - cap);
      // Each closed host gave up its lock before its connection.
      for (const x of inv.hosts) {
        const unlock = f.log.indexOf(`unlock ${x.name}`);
        const close = f.log.indexOf(`close ${x.name}`);
        if (close >= 0) assert.ok(unlock >= 0 && unlock < close, `${x.name}: ${f.log.join(', ')}`);
      }
      await pool.closeAll();
      assert.equal(f.open, 0);
    });
  }

  it('the least recently used idle host goes first; coming back, it connects (and locks) again with a new epoch', async () => {
    const f = new Fleet();
    const pool = new ConnectionPool(inv, LOCK, 2, f.connect);
    await (await pool.session(h(1))).run(sh);
    await (await pool.session(h(2))).run(sh);
    await (await pool.session(h(1))).run(sh);
    const e2 = pool.epoch(h(2));
    await (await pool.session(h(3))).run(sh);
    assert.deepEqual([pool.isOpen(h(1)), pool.isOpen(h(2)), pool.isOpen(h(3))], [true, false, true], 'h2 was used least recently');
    assert.equal(pool.epoch(h(2)), e2);
    await (await pool.session(h(2))).run(sh);
    assert.equal(pool.epoch(h(2)), e2 + 1, 'facts read before are stale now');
    assert.equal(f.log.filter((l) => l === 'lock h2').length, 2);
    await pool.closeAll();
  });

  it('a held host is never closed to make room: the next host waits for the hold to end', async () => {
    const f = new Fleet();
    const pool = new ConnectionPool(inv, LOCK, 1, f.connect);
    let release!: () => void;
    const held = pool.hold(h(1), async (s) => {
      await s.run(sh);
      await new Promise<void>((r) => (release = r));
      await s.run(sh); // still the same connection: planned from facts read on it
    });
    await until(() => release !== undefined, 'h1 held');
    let second = false;
    const other = pool.session(h(2)).then(() => (second = true));
    await until(() => pool.stats.waited === 1, 'h2 waiting for room');
    assert.equal(second, false, 'h2 waits while h1 is held');
    release();
    await held;
    await other;
    assert.equal(second, true);
    assert.deepEqual(f.log.filter((l) => l.startsWith('connect') || l.startsWith('close')), ['connect h1', 'close h1', 'connect h2']);
    await pool.closeAll();
  });

  it('a host with a command in flight is never closed to make room', async () => {
    const f = new Fleet();
    f.slow.add('h1');
    const pool = new ConnectionPool(inv, undefined, 1, f.connect);
    const s1 = await pool.session(h(1));
    const running = s1.run(sh);
    await until(() => f.pending.has('h1'), 'h1 command in flight');
    let second = false;
    const other = pool.session(h(2)).then(() => (second = true));
    await until(() => pool.stats.waited === 1, 'h2 waiting for room');
    assert.equal(second, false);
    f.pending.get('h1')!();
    assert.equal((await running).stdout, 'h1');
    await other;
    assert.equal(second, true);
    await pool.closeAll();
  });

  it('a session kept from before its host was closed connects again on its next command', async () => {
    const f = new Fleet();
    const pool = new ConnectionPool(inv, LOCK, 1, f.connect);
    const s1 = await pool.session(h(1));
    await (await pool.session(h(2))).run(sh);
    assert.equal(pool.isOpen(h(1)), false);
    assert.equal((await s1.run(sh)).stdout, 'h1');
    assert.equal(pool.stats.connections, 3);
    await pool.closeAll();
  });

  it('a jump host outside the inventory (user@address, an ssh config\'s ProxyJump): one connection shared by the hosts behind it, closed with the pool', async () => {
    const jumped = await parseInventory('jump.yaml', `connection: { user: root, host_key_checking: off, ssh_config: none, jump: "ops@198.18.9.100:2222" }
groups:
  lb:
    hosts:
${Array.from({ length: 3 }, (_, i) => `      b${i + 1}: { address: 198.18.9.${i + 1} }`).join('\n')}
`);
    const f = new Fleet();
    const pool = new ConnectionPool(jumped, undefined, 5, f.connect);
    await mapLimit(jumped.hosts, 3, async (x) => (await pool.session(x)).run(sh));
    const jump = 'b1 (jump ops@198.18.9.100:2222)';
    assert.equal(f.log.filter((l) => l.startsWith('connect ') && l.includes('(jump ')).length, 1, f.log.join(' | '));
    assert.equal(f.log.filter((l) => l.startsWith('forward ')).length, 3, 'each host tunnels through it');
    await pool.closeAll();
    assert.ok(f.log.includes(`close ${jump}`), `the jump connection closed with the pool: ${f.log.join(' | ')}`);
    assert.ok(f.log.lastIndexOf(`close ${jump}`) > Math.max(...['b1', 'b2', 'b3'].map((n) => f.log.lastIndexOf(`close ${n}`))), 'after the hosts behind it');
  });

  it('a jump host in the inventory stays open under the cap: the hosts behind it tunnel through it, one at a time', async () => {
    const jumped = await parseInventory('jump.yaml', `connection: { user: root, host_key_checking: off }
groups:
  bastion:
    hosts:
      j1: { address: 198.18.9.100 }
  lb:
    connection: { jump: j1 }
    hosts:
${Array.from({ length: 5 }, (_, i) => `      b${i + 1}: { address: 198.18.9.${i + 1} }`).join('\n')}
`);
    const f = new Fleet();
    const pool = new ConnectionPool(jumped, LOCK, 2, f.connect);
    const behind = jumped.hosts.filter((x) => x.name.startsWith('b'));
    const out = await mapLimit(behind, 5, async (x) => (await pool.session(x)).run(sh));
    assert.deepEqual(out.map((r) => r.stdout), behind.map((x) => x.name));
    assert.ok(f.peak <= 2, `peak ${f.peak}`);
    assert.equal(f.log.filter((l) => l === 'connect j1').length, 1, 'the jump host connected once and stayed');
    assert.equal(f.log.includes('close j1'), false);
    await pool.closeAll();
    // With no room beside the jump host, a clear error instead of a wait that never ends.
    const tight = new ConnectionPool(jumped, undefined, 1, new Fleet().connect);
    await assert.rejects(tight.session(behind[0]!), /--forks 1 leaves no connection beside the 1 jump host\(s\)/);
    await tight.closeAll();
  });

  it('closeAll while hosts wait for room: they fail as interrupted, nothing is left open or locked', async () => {
    const f = new Fleet();
    f.slow.add('h1');
    const pool = new ConnectionPool(inv, LOCK, 1, f.connect);
    const running = (await pool.session(h(1))).run(sh);
    await until(() => f.pending.has('h1'), 'h1 command in flight');
    const waiting = pool.session(h(2)).then(() => 'connected', (e: Error) => e.message);
    await until(() => pool.stats.waited === 1, 'h2 waiting for room');
    const closing = pool.closeAll();
    f.pending.get('h1')!();
    await closing;
    await running.catch(() => undefined);
    assert.equal(await waiting, 'the run was interrupted');
    assert.equal(f.open, 0);
    assert.equal(f.locked.size, 0);
  });
});

describe('connection pool: per-phase timings', () => {
  it('counts connect and authenticate from the connection, the lock until it is ours, and each command under its phase', async () => {
    const inv = await fleetInventory(2);
    const f = new Fleet();
    // Connections that say how long they took to make (as SshConnection measures it).
    const timed = async (t: SshTarget): Promise<Connection> => ({ ...(await f.connect(t)), timing: { connectMs: 7, authenticateMs: 3 } });
    const pool = new ConnectionPool(inv, LOCK, 10, timed);
    const [a, b] = inv.hosts as [Host, Host];
    const s = await pool.session(a);
    await s.run(sh, { phase: 'facts' });
    await s.run(sh, { phase: 'facts' });
    await s.run(sh, { phase: 'apply' });
    await s.run(sh); // no phase: not counted
    await (await pool.session(b)).run(sh, { phase: 'wait' });
    await pool.closeAll();
    const ta = pool.stats.phases.get(a.name)!;
    assert.deepEqual(Object.keys(ta).sort(), ['apply', 'authenticate', 'connect', 'facts', 'lock']);
    assert.equal(ta.connect, 7);
    assert.equal(ta.authenticate, 3);
    assert.ok(ta.lock! >= 0 && ta.facts! >= 0 && ta.apply! >= 0);
    assert.deepEqual(Object.keys(pool.stats.phases.get(b.name)!).sort(), ['authenticate', 'connect', 'lock', 'wait']);
  });
});
