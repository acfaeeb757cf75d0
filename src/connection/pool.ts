/**
 * One SSH connection per host for the whole run, opened on first use and shared by every step,
 * with `become` (sudo -n) applied to every command and counts kept for the benchmark.
 */
import { ConnectionError } from '../errors.js';
import type { Host, Inventory } from '../inventory/model.js';
import { randomBytes } from 'node:crypto';
import { acquireLock, LockError, type LockOptions, type LockRead } from './lock.js';
import { mapLimit } from '../util/limit.js';
import { sh, type ShellCommand } from './shell.js';
import { connectSsh, type Connection, type ExecOptions, type ExecResult, type Phase, type SshTarget } from './ssh.js';
import { askPassphrase } from './passphrase.js';

export interface HostSession {
  host: Host;
  /** Run a POSIX sh script as the connection's user, or through sudo -n when become is on. */
  run(script: ShellCommand, options?: ExecOptions): Promise<ExecResult>;
}

/**
 * How long a run that met contention waits for each lock while it takes them in order, even
 * without --lock-wait: a run that backs off releases its locks within a round trip, and refusing
 * at once then could refuse both runs.
 */
export const CONTENTION_GRACE_S = 3;

/** One order for every run's locks: address, port, then name (the same host has the same key in every inventory). */
export function lockKey(host: Host): string {
  return `${host.address}\0${String(host.connection.port).padStart(5, '0')}\0${host.name}`;
}

/** What `lockAll` could not lock: a host held by another run (then none is locked), or unreachable. */
export interface LockAllResult {
  held: { host: Host; error: LockError }[];
  failed: { host: Host; error: unknown }[];
}

export interface PoolStats {
  connections: number;
  commands: Map<string, number>;
  /** The most connections open at once. */
  peakOpen: number;
  /** Connections closed to make room under the cap (each host's lock released with it). */
  evicted: number;
  /** Times a host waited for room under the cap (every connection busy). */
  waited: number;
  /** Per host, milliseconds in each phase (connect and authenticate summed over reconnects). */
  phases: Map<string, Partial<Record<Phase, number>>>;
}

/**
 * `maxOpen` caps the connections open at once (`--forks`). Under the cap nothing changes: one
 * connection per host for the whole run. Over it, a host's connection is closed when another host
 * needs the room and nothing uses it (held, or a command in flight): the least recently used goes
 * first, its run lock released with it; the host's next command connects (and locks) again.
 */
export class ConnectionPool {
  private readonly open = new Map<string, Promise<Connection>>();
  /** Jump hosts outside the inventory, by spec (see outsideJump). */
  private readonly jumps = new Map<string, Promise<Connection>>();
  /** Per host: the run lock, taken with the host's first session (see lock.ts), and its release. */
  private readonly locks = new Map<string, Promise<() => Promise<void>>>();
  /** Per host: holds and commands in flight; a host with any is never closed to make room. */
  private readonly busy = new Map<string, number>();
  /** Hosts in the order last used (oldest first): who gives up its connection first. */
  private readonly used = new Map<string, Host>();
  /** Per host: how many times it connected; facts read before a reconnect are stale. */
  private readonly epochs = new Map<string, number>();
  private readonly waiting: (() => void)[] = [];
  /** Hosts given room under the cap: connecting or connected. */
  private readonly slots = new Set<string>();
  /** Hosts whose connection is made. */
  private readonly live = new Set<string>();
  /** Jump hosts stay open while the run lasts: the hosts behind them tunnel through their connection. */
  private readonly pinned = new Set<string>();
  private closing = 0;
  /** Per host, the output of that read and the connection it came over. */
  private readonly reads = new Map<string, { stdout: string; code: number; epoch: number }>();
  readonly stats: PoolStats = { connections: 0, commands: new Map(), peakOpen: 0, evicted: 0, waited: 0, phases: new Map() };
  private closed = false;

  /**
   * `lock`: runs that change hosts hold each host's run lock while they use it (audit, verify, plan do not).
   * `maxOpen`: the cap (`--forks`; a jump host outside the inventory opens beside it, uncounted).
   * `connectTo`: how a connection is made (SSH; the pool's own unit tests give an in-memory one).
   */
  constructor(private readonly inventory: Inventory, private readonly lock?: LockOptions, readonly maxOpen = Infinity, private readonly connectTo: (target: SshTarget) => Promise<Connection> = connectSsh) {}

  /** Whether sessions hold the hosts' run locks. */
  get locking(): boolean {
    return this.lock !== undefined;
  }

  /** Whether `hosts` can all stay connected at once (and so all stay locked for the whole run). */
  fits(hosts: number): boolean {
    return hosts <= this.maxOpen;
  }

  /** Whether the host has a connection now (probing those first keeps them from being closed and opened again). */
  isOpen(host: Host): boolean {
    return this.open.has(host.name);
  }

  /** `hosts` with those connected now first: taken in that order, they are not closed to make room and opened again. */
  openFirst(hosts: readonly Host[]): Host[] {
    return [...hosts.filter((h) => this.isOpen(h)), ...hosts.filter((h) => !this.isOpen(h))];
  }

  /** The host's connection count: changes when it connects again (after being closed to make room). */
  epoch(host: Host): number {
    return this.epochs.get(host.name) ?? 0;
  }

  /** The host's session; the connection is made once and reused. Under a lock, once the lock is ours. */
  async session(host: Host): Promise<HostSession> {
    this.mark(host, 1);
    try {
      await this.ensure(host);
    } finally {
      this.mark(host, -1);
    }
    return {
      host,
      run: async (script, options) => {
        this.mark(host, 1);
        try {
          return await this.exec(host, await this.ensure(host), script, options);
        } finally {
          this.mark(host, -1);
        }
      },
    };
  }

  /**
   * The host's session, with `read` run under its lock in the lock's own command when this takes
   * the lock (takeRead has the output then); when the lock was already held, or the pool does not
   * lock, nothing is read and takeRead has nothing.
   */
  async sessionReading(host: Host, read: ShellCommand): Promise<HostSession> {
    this.mark(host, 1);
    try {
      const conn = await this.connection(host);
      if (this.lock) await this.takeLock(host, conn, this.lock.waitS, read);
    } finally {
      this.mark(host, -1);
    }
    return this.session(host);
  }

  /** Keep the host's connection (and lock) while `fn` runs: facts and the steps planned from them. */
  async hold<T>(host: Host, fn: (session: HostSession) => Promise<T>): Promise<T> {
    this.mark(host, 1);
    try {
      return await fn(await this.session(host));
    } finally {
      this.mark(host, -1);
    }
  }

  private mark(host: Host, by: number): void {
    const n = (this.busy.get(host.name) ?? 0) + by;
    if (n > 0) this.busy.set(host.name, n);
    else this.busy.delete(host.name);
    this.used.delete(host.name);
    this.used.set(host.name, host);
    // Woken after the current microtasks: a caller handed its session goes on to its first command
    // (and marks the host in use) before a waiting host may close that connection to make room.
    if (n <= 0 && this.waiting.length > 0) setImmediate(() => this.wakeAll());
  }

  /** Everyone waiting for room looks again. */
  private wakeAll(): void {
    this.waiting.splice(0).forEach((wake) => wake());
  }

  /** Connected, and locked when the pool locks. */
  private async ensure(host: Host): Promise<Connection> {
    const conn = await this.connection(host);
    if (this.lock) await this.takeLock(host, conn, this.lock.waitS);
    return conn;
  }

  /** The host's run lock over its connection (taken once; a failed attempt is forgotten), with what `read` asks read under it. */
  private takeLock(host: Host, conn: Connection, waitS: number, read?: ShellCommand): Promise<() => Promise<void>> {
    let held = this.locks.get(host.name);
    if (!held) {
      const raw = (script: ShellCommand, options: ExecOptions = {}) => this.exec(host, conn, script, options);
      const t0 = performance.now();
      const epoch = this.epoch(host);
      const withRead: LockRead | undefined = read && {
        script: read, nonce: `@@lbdeploy-read-${randomBytes(8).toString('hex')}`,
        timeoutS: Math.max(1, Math.ceil((host.connection.commandTimeoutMs ?? 300_000) / 1000)),
        done: (r) => this.reads.set(host.name, { ...r, epoch }),
      };
      held = acquireLock(host.name, raw, { ...this.lock!, waitS }, withRead);
      this.locks.set(host.name, held);
      held.then(() => this.count(host, 'lock', performance.now() - t0), () => this.count(host, 'lock', performance.now() - t0));
      const mine = held;
      held.catch(() => {
        if (this.locks.get(host.name) === mine) this.locks.delete(host.name);
      });
    }
    return held;
  }

  /** What the host read under its lock (lockAll's `readOf`), once; none after a reconnect (it may be stale). */
  takeRead(host: Host): { stdout: string; code: number } | undefined {
    const r = this.reads.get(host.name);
    this.reads.delete(host.name);
    return r && r.epoch === this.epoch(host) ? { stdout: r.stdout, code: r.code } : undefined;
  }

  /** Release the host's lock and keep its connection. */
  private async unlock(host: Host): Promise<void> {
    const held = this.locks.get(host.name);
    this.locks.delete(host.name);
    await held?.then((release) => release(), () => undefined);
  }

  /**
   * Every host's run lock, or none of them. First all at once without waiting: one round trip,
   * the usual case. When another run holds any, ours are released and taken again one by one in
   * one global order (lockKey), each waiting --lock-wait (at least CONTENTION_GRACE_S), so two
   * runs over overlapping hosts never split them: the one that gets the first shared host goes
   * on, the other waits behind it or is refused holding nothing. Hosts that cannot connect are
   * left out and returned; the caller reports them. The hosts must fit under the cap.
   */
  async lockAll(hosts: readonly Host[], readOf?: (host: Host) => ShellCommand | undefined): Promise<LockAllResult> {
    if (!this.lock || hosts.length === 0) return { held: [], failed: [] };
    // In use while they are connected and locked: a host of the set already connected (for a probe)
    // is otherwise the least recently used idle one, closed to make room for the next of the set.
    for (const h of hosts) this.mark(h, 1);
    try {
      return await this.lockSet(hosts, readOf);
    } finally {
      for (const h of hosts) this.mark(h, -1);
    }
  }

  private async lockSet(hosts: readonly Host[], readOf?: (host: Host) => ShellCommand | undefined): Promise<LockAllResult> {
    const lock = this.lock!;
    const result: LockAllResult = { held: [], failed: [] };
    const conns = new Map<string, Connection>();
    await mapLimit(hosts, this.maxOpen, async (host) => {
      try {
        conns.set(host.name, await this.connection(host));
      } catch (e) {
        result.failed.push({ host, error: e });
      }
    });
    const reachable = hosts.filter((h) => conns.has(h.name));
    const attempt = async (host: Host, waitS: number): Promise<boolean> => {
      try {
        await this.takeLock(host, conns.get(host.name)!, waitS, readOf?.(host));
        return true;
      } catch (e) {
        if (e instanceof LockError) result.held.push({ host, error: e });
        else result.failed.push({ host, error: e });
        return false;
      }
    };
    const firstTry = await Promise.all(reachable.map((h) => attempt(h, 0)));
    if (firstTry.every(Boolean) || result.held.length === 0) return result;
    // Holding none, this run blocks no one: without --lock-wait it is refused at once, every held host named.
    if (!firstTry.some(Boolean) && lock.waitS <= 0) return result;
    await Promise.all(reachable.map((h) => this.unlock(h)));
    result.held = [];
    const ordered = [...reachable].sort((a, b) => (lockKey(a) < lockKey(b) ? -1 : lockKey(a) > lockKey(b) ? 1 : 0));
    const failedBefore = new Set(result.failed.map((f) => f.host.name));
    for (const host of ordered) {
      if (failedBefore.has(host.name)) continue;
      if (await attempt(host, Math.max(lock.waitS, lock.contentionGraceS ?? CONTENTION_GRACE_S))) continue;
      if (result.held.length > 0) {
        await Promise.all(ordered.map((h) => this.unlock(h)));
        return result;
      }
    }
    return result;
  }

  /** Add to the host's time in a phase. */
  count(host: Host, phase: Phase, ms: number): void {
    const t = this.stats.phases.get(host.name) ?? {};
    t[phase] = (t[phase] ?? 0) + ms;
    this.stats.phases.set(host.name, t);
  }

  private async exec(host: Host, conn: Connection, script: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    this.stats.commands.set(host.name, (this.stats.commands.get(host.name) ?? 0) + 1);
    const t0 = performance.now();
    const r = await conn.exec(wrap(host, script), { stdin: options.stdin, onStdout: options.onStdout, timeoutMs: options.timeoutMs ?? host.connection.commandTimeoutMs })
      .finally(() => options.phase && this.count(host, options.phase, performance.now() - t0));
    if (host.connection.become && r.code === 1 && /sudo: (a password is required|a terminal is required)/.test(r.stderr)) {
      throw new ConnectionError(`sudo needs a password for ${host.connection.user} (lbdeploy uses sudo -n and never types one)`, {
        where: host.name, hint: `allow passwordless sudo for ${host.connection.user}, or connect as root`,
      });
    }
    return r;
  }

  private connection(host: Host): Promise<Connection> {
    if (this.closed) return Promise.reject(new ConnectionError('the run was interrupted', { where: host.name }));
    let p = this.open.get(host.name);
    if (!p) {
      // A jump host in the inventory connects first and stays (pinned): the hosts behind it tunnel through it.
      const via = host.connection.jump ? this.inventory.hosts.find((h) => h.name === host.connection.jump) : undefined;
      if (via) this.pinned.add(via.name);
      p = (via ? this.connection(via) : Promise.resolve(undefined)).then(() => this.room(host)).then(() => this.connect(host));
      this.open.set(host.name, p);
      // A failed connection is not cached: a reconnect may try again.
      const mine = p;
      p.catch(() => {
        if (this.open.get(host.name) !== mine) return;
        this.open.delete(host.name);
        this.slots.delete(host.name);
        this.wakeAll();
      });
    }
    return p;
  }

  /** Under the cap, wait until a connection may be opened for `host`: close the least recently used idle one. */
  private async room(host: Host): Promise<void> {
    for (;;) {
      if (this.closed) throw new ConnectionError('the run was interrupted', { where: host.name });
      if (this.slots.size + this.closing < this.maxOpen) {
        this.slots.add(host.name);
        this.stats.peakOpen = Math.max(this.stats.peakOpen, this.slots.size + this.closing);
        return;
      }
      // Only a connection already made and unused may go (one still connecting is someone's).
      const idle = [...this.used.values()].find((h) => this.live.has(h.name) && !this.busy.has(h.name) && !this.pinned.has(h.name));
      if (!idle && this.pinned.size >= this.maxOpen) {
        throw new ConnectionError(`--forks ${this.maxOpen} leaves no connection beside the ${this.pinned.size} jump host(s) that stay open`, { where: host.name, hint: `give --forks above ${this.pinned.size}` });
      }
      if (idle) {
        this.stats.evicted++;
        await this.drop(idle);
        continue;
      }
      this.stats.waited++;
      await new Promise<void>((wake) => this.waiting.push(wake));
    }
  }

  /**
   * A jump host outside the inventory (user@address[:port], an ssh config's ProxyJump): one
   * connection per jump host for the whole run, shared by the hosts behind it, closed with the pool.
   */
  private outsideJump(spec: string, host: Host): Promise<Connection> {
    let p = this.jumps.get(spec);
    if (!p) {
      p = this.connectTo(parseJump(spec, host));
      this.jumps.set(spec, p);
      p.catch(() => this.jumps.delete(spec));
    }
    return p;
  }

  private async connect(host: Host): Promise<Connection> {
    const c = host.connection;
    let sock;
    if (c.jump) {
      const via = this.inventory.hosts.find((h) => h.name === c.jump);
      const jumpConn = via ? await this.connection(via) : await this.outsideJump(c.jump, host);
      // The jump host dials the target as the ssh config names it (HostName), within the connect timeout.
      sock = await jumpConn.forwardOut(c.hostName ?? host.address, c.port, c.connectTimeoutMs);
    }
    const conn = await this.connectTo({
      name: host.name, address: c.hostName ?? host.address, port: c.port, user: c.user,
      ...keysOf(c), password: c.password?.reveal(),
      knownHostsPath: c.knownHosts, hostKeyPolicy: c.hostKeyChecking,
      connectTimeoutMs: c.connectTimeoutMs, keepaliveIntervalMs: c.keepaliveIntervalMs, sock,
    });
    this.stats.connections++;
    if (conn.timing) {
      this.count(host, 'connect', conn.timing.connectMs);
      this.count(host, 'authenticate', conn.timing.authenticateMs);
    }
    this.live.add(host.name);
    this.epochs.set(host.name, this.epoch(host) + 1);
    this.used.delete(host.name);
    this.used.set(host.name, host);
    return conn;
  }

  /** Release the host's lock (the holder removes its record), then close its connection. */
  private async drop(host: Host): Promise<void> {
    const p = this.open.get(host.name);
    const lock = this.locks.get(host.name);
    this.open.delete(host.name);
    this.locks.delete(host.name);
    const had = this.slots.delete(host.name);
    this.live.delete(host.name);
    if (had) this.closing++;
    try {
      await lock?.then((release) => release(), () => undefined);
      await p?.then((c) => c.close()).catch(() => undefined);
    } finally {
      if (had) this.closing--;
      this.wakeAll();
    }
  }

  /** Drop a host's connection (after a reboot) so the next session reconnects (and locks again). */
  async forget(host: Host): Promise<void> {
    await this.drop(host);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    this.wakeAll();
    // Release the locks first (the holder removes its record), then close the connections.
    const locks = [...this.locks.values()];
    this.locks.clear();
    await Promise.all(locks.map((p) => p.then((release) => release(), () => undefined)));
    const all = [...this.open.values()];
    this.open.clear();
    this.slots.clear();
    this.live.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => undefined)));
    // The jump hosts last: the connections through them are closed now.
    const jumps = [...this.jumps.values()];
    this.jumps.clear();
    await Promise.all(jumps.map((p) => p.then((c) => c.close()).catch(() => undefined)));
  }
}

/** Every script runs under sh (whatever the login shell), through sudo -n when asked. */
export function wrap(host: Pick<Host, 'connection'>, script: ShellCommand): ShellCommand {
  if (!host.connection.become) return sh`sh -c ${script.text}`;
  return sh`sudo -n -H -u ${host.connection.becomeUser} -- sh -c ${script.text}`;
}

/** How a host authenticates: its inventory key alone, else ssh-agent and its identities (ssh config, OpenSSH's defaults). */
function keysOf(c: Host['connection'], jumpKey?: string): Pick<SshTarget, 'privateKeyPath' | 'agent' | 'identities' | 'passphrase' | 'askPassphrase'> {
  return {
    privateKeyPath: jumpKey ?? c.privateKey,
    agent: process.env.SSH_AUTH_SOCK || undefined,
    identities: c.identities,
    passphrase: c.passphrase?.reveal(),
    askPassphrase,
  };
}

function parseJump(spec: string, host: Host) {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new ConnectionError(`cannot read jump host '${spec}'`, { where: host.name, hint: 'write user@address[:port] or an inventory host name' });
  return {
    name: `${host.name} (jump ${spec})`, address: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : 22, user: m[1] ?? host.connection.user,
    ...keysOf(host.connection, host.connection.jumpIdentity), knownHostsPath: host.connection.knownHosts, hostKeyPolicy: host.connection.hostKeyChecking,
    connectTimeoutMs: host.connection.connectTimeoutMs,
  };
}

