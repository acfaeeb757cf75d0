/** SSH connections through node-ssh: host key verification, timeouts, keepalive. */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import ssh2 from 'ssh2';
import { ConnectionError } from '../errors.js';
import { formatKnownHostsLine, parseKnownHosts, verifyHostKey } from './known-hosts.js';
import type { ShellCommand } from './shell.js';
import type { HostKeyPolicy } from '../inventory/model.js';
import { isEncryptedKey } from '../inventory/ssh-config.js';

export type { HostKeyPolicy };

export interface SshTarget {
  /** Name used in messages (the inventory host name). */
  name: string;
  address: string;
  port?: number;
  user: string;
  /** The inventory's key: the only one offered. */
  privateKeyPath?: string;
  /** Without privateKeyPath: ssh-agent first (its socket), then these key files. */
  agent?: string;
  identities?: readonly string[];
  /** For encrypted keys; else `askPassphrase` (a terminal), else the key is skipped (named in the error). */
  passphrase?: string;
  askPassphrase?: (keyPath: string) => Promise<string | undefined>;
  password?: string;
  knownHostsPath: string;
  hostKeyPolicy?: HostKeyPolicy;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** An already-open stream to the target's sshd (through a jump host). */
  sock?: Duplex;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the command ended without an exit status (killed, connection lost). */
  code: number | null;
  signal: string | null;
}

export interface ExecOptions {
  /** Text, or a stream (a local file uploaded as it is read). */
  stdin?: string | Readable;
  /** 0: no time limit (a command that lasts as long as the run, like the run lock). */
  timeoutMs?: number;
  /** Each chunk of stdout as it arrives (stdout is also returned whole). */
  onStdout?: (chunk: Buffer) => void;
  /** Where the pool counts this command's time (the run's per-phase timings); the connection ignores it. */
  phase?: Phase;
}

/** The phases a run's time is counted in, per host. */
export const PHASES = ['connect', 'authenticate', 'lock', 'facts', 'apply', 'handlers', 'wait'] as const;
export type Phase = (typeof PHASES)[number];

/** How long a connection took to make: TCP and key exchange up to the host key check, then authentication. */
export interface ConnectTiming {
  connectMs: number;
  authenticateMs: number;
}

/** One open connection to one host; every step of a run reuses it. */
export interface Connection {
  readonly name: string;
  exec(command: ShellCommand, options?: ExecOptions): Promise<ExecResult>;
  /** A TCP stream opened from this host (for jump hosts). */
  /** `timeoutMs`: how long the jump host may take to reach the target. */
  forwardOut(address: string, port: number, timeoutMs?: number): Promise<Duplex>;
  close(): Promise<void>;
  /** Measured while connecting (an in-memory connection has none). */
  readonly timing?: ConnectTiming;
}

/** Parsed known_hosts files by path, read again when their inode, size or mtime changed (a fleet's run verifies one key per host). */
const knownHostsCache = new Map<string, { ino: number; mtimeMs: number; size: number; entries: ReturnType<typeof parseKnownHosts> }>();

function knownHostsOf(path: string): ReturnType<typeof parseKnownHosts> {
  let st;
  try {
    st = statSync(path);
  } catch {
    knownHostsCache.delete(path);
    return [];
  }
  const hit = knownHostsCache.get(path);
  if (hit && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.entries;
  const entries = parseKnownHosts(readFileSync(path, 'utf8'));
  knownHostsCache.set(path, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, entries });
  return entries;
}

export async function connectSsh(target: SshTarget): Promise<Connection> {
  const port = target.port ?? 22;
  const policy = target.hostKeyPolicy ?? 'accept-new';
  let keyProblem: string | undefined;
  const t0 = performance.now();
  let keyAt: number | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    keyAt ??= performance.now();
    if (policy === 'off') return true;
    const entries = knownHostsOf(target.knownHostsPath);
    const verdict = verifyHostKey(entries, target.address, port, key);
    if (verdict === 'match') return true;
    if (verdict === 'unknown' && policy === 'accept-new') {
      appendFileSync(target.knownHostsPath, formatKnownHostsLine(target.address, port, key) + '\n');
      return true;
    }
    keyProblem = verdict;
    return false;
  };
  const auth = await authMethods(target);
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: target.address,
      port,
      username: target.user,
      authHandler: auth.methods as never,
      readyTimeout: target.connectTimeoutMs ?? 10_000,
      keepaliveInterval: target.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: 3,
      hostVerifier,
      sock: target.sock as never,
    });
  } catch (e) {
    ssh.dispose();
    throw connectError(target, port, policy, keyProblem, e as Error, auth);
  }
  // A reset connection must never crash the process: errors after connect surface on the next exec.
  ssh.connection?.on('error', () => undefined);
  const readyAt = performance.now();
  return new SshConnection(target.name, ssh, { connectMs: (keyAt ?? readyAt) - t0, authenticateMs: readyAt - (keyAt ?? readyAt) });
}

type AuthMethod = { type: 'agent'; username: string; agent: string } | { type: 'publickey'; username: string; key: Buffer; passphrase?: string } | { type: 'password'; username: string; password: string };

/** What was offered, in order, and the keys left out (encrypted, no passphrase): for the error when all fail. */
export interface Auth {
  methods: AuthMethod[];
  tried: string[];
  skipped: string[];
}

/**
 * The ways to authenticate, in OpenSSH's order: the inventory's key alone when it names one; else
 * ssh-agent, then the identities (ssh config, OpenSSH's defaults); then the password. An encrypted
 * key needs its passphrase (given, or typed on a terminal); without one it is left out and named.
 */
export async function authMethods(t: SshTarget): Promise<Auth> {
  const username = t.user;
  const auth: Auth = { methods: [], tried: [], skipped: [] };
  if (!t.privateKeyPath && t.agent) {
    auth.methods.push({ type: 'agent', username, agent: t.agent });
    auth.tried.push('ssh-agent');
  }
  for (const path of t.privateKeyPath ? [t.privateKeyPath] : t.identities ?? []) {
    let key: Buffer;
    try {
      key = readFileSync(path);
    } catch (e) {
      throw new ConnectionError(`cannot read the private key ${path}: ${(e as Error).message}`, { where: t.name });
    }
    const passphrase = isEncryptedKey(key) ? t.passphrase ?? await t.askPassphrase?.(path) : undefined;
    if (isEncryptedKey(key) && passphrase === undefined) {
      auth.skipped.push(`${path} (encrypted, no passphrase)`);
      continue;
    }
    if (passphrase !== undefined && ssh2.utils.parseKey(key, passphrase) instanceof Error) {
      throw new ConnectionError(`the passphrase for ${path} does not decrypt it`, { where: t.name, hint: 'check private_key_passphrase (its environment variable), or what was typed' });
    }
    auth.methods.push({ type: 'publickey', username, key, passphrase });
    auth.tried.push(path);
  }
  if (t.password !== undefined) {
    auth.methods.push({ type: 'password', username, password: t.password });
    auth.tried.push('password');
  }
  if (auth.methods.length === 0) {
    throw new ConnectionError(`no way to authenticate as ${t.user}@${t.address}${auth.skipped.length > 0 ? `: ${auth.skipped.join(', ')}` : ''}`, {
      where: t.name,
      hint: auth.skipped.length > 0 ? 'give the passphrase in private_key_passphrase: !secret env:NAME (or run on a terminal to be asked)' : 'start ssh-agent (SSH_AUTH_SOCK), or give private_key (or a password from an environment variable) in the inventory',
    });
  }
  return auth;
}


function connectError(target: SshTarget, port: number, policy: HostKeyPolicy, keyProblem: string | undefined, e: Error, auth: Auth): ConnectionError {
  const where = target.name;
  if (keyProblem === 'mismatch') {
    return new ConnectionError(`host key for ${target.address}:${port} does not match ${target.knownHostsPath}: refused before authentication`, {
      where, hint: 'if the host was reinstalled on purpose, remove its old line from the known_hosts file; otherwise treat this as an attack',
    });
  }
  if (keyProblem === 'revoked') {
    return new ConnectionError(`host key for ${target.address}:${port} is marked @revoked in ${target.knownHostsPath}`, { where });
  }
  if (keyProblem === 'unknown') {
    return new ConnectionError(`host key for ${target.address}:${port} is not in ${target.knownHostsPath} (host_key_checking: ${policy})`, {
      where, hint: 'add the key to known_hosts, or use host_key_checking: accept-new',
    });
  }
  const msg = e.message || String(e);
  if (/authentication methods failed/i.test(msg)) {
    const skipped = auth.skipped.length > 0 ? `; left out: ${auth.skipped.join(', ')}` : '';
    return new ConnectionError(`SSH authentication failed as ${target.user}@${target.address}:${port} (tried ${auth.tried.join(', ')}${skipped})`, {
      where, hint: 'check the user and the key (inventory private_key, ssh-agent, the ssh config\'s IdentityFile) or password variable for this host',
    });
  }
  if (/timed out/i.test(msg)) {
    return new ConnectionError(`SSH to ${target.address}:${port} timed out`, { where, hint: 'check that the host is up and port is reachable' });
  }
  return new ConnectionError(`SSH to ${target.address}:${port} failed: ${msg}`, { where });
}

class SshConnection implements Connection {
  constructor(readonly name: string, private readonly ssh: NodeSSH, readonly timing?: ConnectTiming) {}

  async exec(command: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    if (!this.ssh.isConnected()) throw new ConnectionError('connection is closed', { where: this.name });
    let timer: NodeJS.Timeout | undefined;
    let channelRef: { close(): void } | undefined;
    const run = this.ssh.execCommand(command.text, {
      stdin: options.stdin,
      noTrim: true,
      onStdout: options.onStdout,
      onChannel: (ch) => {
        channelRef = ch;
      },
    });
    const timeout = options.timeoutMs
      ? new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            channelRef?.close();
            reject(new ConnectionError(`command timed out after ${options.timeoutMs} ms`, { where: this.name }));
          }, options.timeoutMs);
        })
      : undefined;
    try {
      const r = await (timeout ? Promise.race([run, timeout]) : run);
      return { stdout: r.stdout, stderr: r.stderr, code: r.code, signal: r.signal };
    } catch (e) {
      if (e instanceof ConnectionError) throw e;
      throw new ConnectionError(`command failed: ${(e as Error).message}`, { where: this.name });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async forwardOut(address: string, port: number, timeoutMs = 10_000): Promise<Duplex> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)));
      return await Promise.race([this.ssh.forwardOut('127.0.0.1', 0, address, port), late]);
    } catch (e) {
      throw new ConnectionError(`cannot open a tunnel to ${address}:${port}: ${(e as Error).message}`, { where: this.name, hint: 'check AllowTcpForwarding on the jump host, and that it reaches the target' });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Ends the session and waits until its socket is closed (at most 2 s): a pool that counts the
   * connections open at once (--forks) counts this one until it is really gone.
   */
  async close(): Promise<void> {
    const client = this.ssh.connection;
    if (!client) return;
    // A socket already gone (the peer closed it) has nothing to wait for.
    if ((client as unknown as { _sock?: { destroyed?: boolean } })._sock?.destroyed !== false) {
      this.ssh.dispose();
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ssh.dispose();
    });
  }
}
