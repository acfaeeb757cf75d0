/** SSH connections through node-ssh: host key verification, timeouts, keepalive. */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { ConnectionError } from '../errors.js';
import { formatKnownHostsLine, parseKnownHosts, verifyHostKey } from './known-hosts.js';
import type { ShellCommand } from './shell.js';
import type { HostKeyPolicy } from '../inventory/model.js';

export type { HostKeyPolicy };

export interface SshTarget {
  /** Name used in messages (the inventory host name). */
  name: string;
  address: string;
  port?: number;
  user: string;
  privateKeyPath?: string;
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
}

/** One open connection to one host; every step of a run reuses it. */
export interface Connection {
  readonly name: string;
  exec(command: ShellCommand, options?: ExecOptions): Promise<ExecResult>;
  /** A TCP stream opened from this host (for jump hosts). */
  forwardOut(address: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
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
  const hostVerifier = (key: Buffer): boolean => {
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
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: target.address,
      port,
      username: target.user,
      privateKeyPath: target.privateKeyPath,
      password: target.password,
      readyTimeout: target.connectTimeoutMs ?? 10_000,
      keepaliveInterval: target.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: 3,
      hostVerifier,
      sock: target.sock as never,
    });
  } catch (e) {
    ssh.dispose();
    throw connectError(target, port, policy, keyProblem, e as Error);
  }
  // A reset connection must never crash the process: errors after connect surface on the next exec.
  ssh.connection?.on('error', () => undefined);
  return new SshConnection(target.name, ssh);
}

function connectError(target: SshTarget, port: number, policy: HostKeyPolicy, keyProblem: string | undefined, e: Error): ConnectionError {
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
    return new ConnectionError(`SSH authentication failed as ${target.user}@${target.address}:${port}`, {
      where, hint: 'check the user and private key (or password variable) for this host',
    });
  }
  if (/timed out/i.test(msg)) {
    return new ConnectionError(`SSH to ${target.address}:${port} timed out`, { where, hint: 'check that the host is up and port is reachable' });
  }
  return new ConnectionError(`SSH to ${target.address}:${port} failed: ${msg}`, { where });
}

class SshConnection implements Connection {
  constructor(readonly name: string, private readonly ssh: NodeSSH) {}

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

  async forwardOut(address: string, port: number): Promise<Duplex> {
    try {
      return await this.ssh.forwardOut('127.0.0.1', 0, address, port);
    } catch (e) {
      throw new ConnectionError(`cannot open a tunnel to ${address}:${port}: ${(e as Error).message}`, { where: this.name, hint: 'check AllowTcpForwarding on the jump host' });
    }
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}
