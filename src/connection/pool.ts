/**
 * One SSH connection per host for the whole run, opened on first use and shared by every step,
 * with `become` (sudo -n) applied to every command and counts kept for the benchmark.
 */
import { ConnectionError } from '../errors.js';
import type { Host, Inventory } from '../inventory/model.js';
import { acquireLock, type LockOptions } from './lock.js';
import { sh, type ShellCommand } from './shell.js';
import { connectSsh, type Connection, type ExecOptions, type ExecResult } from './ssh.js';

export interface HostSession {
  host: Host;
  /** Run a POSIX sh script as the connection's user, or through sudo -n when become is on. */
  run(script: ShellCommand, options?: ExecOptions): Promise<ExecResult>;
}

export interface PoolStats {
  connections: number;
  commands: Map<string, number>;
}

export class ConnectionPool {
  private readonly open = new Map<string, Promise<Connection>>();
  /** Per host: the run lock, taken with the host's first session (see lock.ts), and its release. */
  private readonly locks = new Map<string, Promise<() => Promise<void>>>();
  readonly stats: PoolStats = { connections: 0, commands: new Map() };
  private closed = false;

  /** `lock`: runs that change hosts hold each host's run lock while they use it (audit, verify, plan do not). */
  constructor(private readonly inventory: Inventory, private readonly lock?: LockOptions) {}

  /** Whether sessions hold the hosts' run locks. */
  get locking(): boolean {
    return this.lock !== undefined;
  }

  /** The host's session; the connection is made once and reused. Under a lock, once the lock is ours. */
  async session(host: Host): Promise<HostSession> {
    const session = this.bare(host, await this.connection(host));
    if (this.lock) {
      let held = this.locks.get(host.name);
      if (!held) {
        held = acquireLock(host.name, session.run, this.lock);
        this.locks.set(host.name, held);
        held.catch(() => this.locks.delete(host.name));
      }
      await held;
    }
    return session;
  }

  private bare(host: Host, conn: Connection): HostSession {
    return {
      host,
      run: async (script, options = {}) => {
        this.stats.commands.set(host.name, (this.stats.commands.get(host.name) ?? 0) + 1);
        const r = await conn.exec(wrap(host, script), { stdin: options.stdin, onStdout: options.onStdout, timeoutMs: options.timeoutMs ?? host.connection.commandTimeoutMs });
        if (host.connection.become && r.code === 1 && /sudo: (a password is required|a terminal is required)/.test(r.stderr)) {
          throw new ConnectionError(`sudo needs a password for ${host.connection.user} (lbdeploy uses sudo -n and never types one)`, {
            where: host.name, hint: `allow passwordless sudo for ${host.connection.user}, or connect as root`,
          });
        }
        return r;
      },
    };
  }

  private connection(host: Host): Promise<Connection> {
    if (this.closed) return Promise.reject(new ConnectionError('the run was interrupted', { where: host.name }));
    let p = this.open.get(host.name);
    if (!p) {
      p = this.connect(host);
      this.open.set(host.name, p);
      // A failed connection is not cached: a reconnect may try again.
      p.catch(() => this.open.delete(host.name));
    }
    return p;
  }

  private async connect(host: Host): Promise<Connection> {
    const c = host.connection;
    let sock;
    if (c.jump) {
      const via = this.inventory.hosts.find((h) => h.name === c.jump);
      const jumpConn = via ? await this.connection(via) : await connectSsh(parseJump(c.jump, host));
      sock = await jumpConn.forwardOut(host.address, c.port);
    }
    const conn = await connectSsh({
      name: host.name, address: host.address, port: c.port, user: c.user,
      privateKeyPath: c.privateKey, password: c.password?.reveal(),
      knownHostsPath: c.knownHosts, hostKeyPolicy: c.hostKeyChecking,
      connectTimeoutMs: c.connectTimeoutMs, keepaliveIntervalMs: c.keepaliveIntervalMs, sock,
    });
    this.stats.connections++;
    return conn;
  }

  /** Drop a host's connection (after a reboot) so the next session reconnects (and locks again). */
  async forget(host: Host): Promise<void> {
    const p = this.open.get(host.name);
    this.open.delete(host.name);
    this.locks.delete(host.name);
    await p?.then((c) => c.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    // Release the locks first (the holder removes its record), then close the connections.
    const locks = [...this.locks.values()];
    this.locks.clear();
    await Promise.all(locks.map((p) => p.then((release) => release(), () => undefined)));
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => undefined)));
  }
}

/** Every script runs under sh (whatever the login shell), through sudo -n when asked. */
export function wrap(host: Pick<Host, 'connection'>, script: ShellCommand): ShellCommand {
  if (!host.connection.become) return sh`sh -c ${script.text}`;
  return sh`sudo -n -H -u ${host.connection.becomeUser} -- sh -c ${script.text}`;
}

function parseJump(spec: string, host: Host) {
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new ConnectionError(`cannot read jump host '${spec}'`, { where: host.name, hint: 'write user@address[:port] or an inventory host name' });
  return {
    name: `${host.name} (jump ${spec})`, address: m[2]!, port: m[3] ? Number(m[3]) : 22, user: m[1] ?? host.connection.user,
    privateKeyPath: host.connection.privateKey, knownHostsPath: host.connection.knownHosts, hostKeyPolicy: host.connection.hostKeyChecking,
    connectTimeoutMs: host.connection.connectTimeoutMs,
  };
}

