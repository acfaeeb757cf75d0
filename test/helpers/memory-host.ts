/**
 * In-memory hosts behind the connection interface, for engine tests that answer in milliseconds:
 * files, a table of commands and their results, injectable failures, delays (gates the test opens)
 * and dropped connections. The run lock and the facts batch are answered as a host answers them:
 * the lock is shared by every connection to the host (two pools are two concurrent runs), and a
 * dropped connection releases what it held, as sshd closing the channel does.
 *
 * It reads the few shell forms the engine itself sends (`sh -c WORD`, `sudo ... -- sh -c WORD`,
 * `( A ) && B`, mkdir/touch/rm/cat/true/false, the pending-handler loop); anything else is looked up
 * in the host's command table, and a command found nowhere fails the test loudly (exit 127).
 */
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { ConnectionError } from '../../src/errors.js';
import type { Connection, ExecOptions, ExecResult, SshTarget } from '../../src/connection/ssh.js';
import type { ShellCommand } from '../../src/connection/shell.js';

export interface Reply {
  stdout?: string;
  stderr?: string;
  /** null: the command ended without a status (the connection dropped under it). */
  code?: number | null;
}

/** A command's answer: fixed, or computed from its words (and stdin) on the host. */
export type Answer = Reply | ((argv: string[], host: MemoryHost, stdin: string) => Reply | Promise<Reply>);

interface Rule {
  match: string | RegExp;
  answer: Answer;
  /** Answer this many times, then fall through to the next rule. */
  times?: number;
}

/** One host: files, a command table, its lock, and what it was asked, in order. */
export class MemoryHost {
  readonly files = new Map<string, string>();
  readonly rules: Rule[] = [];
  /** Every command it ran (the unwrapped script), in order. */
  readonly ran: string[] = [];
  connections = 0;
  /** Refuse connections (an unreachable host). */
  unreachable = false;
  /** The run lock: who holds it (the holder line the engine wrote) and who waits. */
  lockHolder: string | undefined;
  private lockOwner: object | undefined;
  private readonly lockWaiters: (() => void)[] = [];
  private readonly gates = new Map<string, Promise<void>>();
  private readonly open = new Set<MemoryConnection>();

  constructor(readonly name: string, readonly address: string, private readonly lab: MemoryLab) {}

  /** Answer commands matching `match` (a substring of the command, or a pattern) with `answer`. */
  on(match: string | RegExp, answer: Answer, times?: number): this {
    this.rules.unshift({ match, answer, times });
    return this;
  }

  /** Fail the next command matching `match` once (exit `code`, stderr `message`). */
  failOnce(match: string | RegExp, message = 'injected failure', code = 1): this {
    return this.on(match, { stderr: message, code }, 1);
  }

  /** Commands matching `match` wait until `open()` is called: the test decides when they end. */
  gate(match: string): { open: () => void } {
    let open!: () => void;
    this.gates.set(match, new Promise<void>((r) => (open = r)));
    return { open: () => { this.gates.delete(match); open(); } };
  }

  /** Every open connection drops: commands in flight end without a status, the lock is released. */
  dropConnections(): void {
    for (const c of [...this.open]) c.drop();
  }

  /** How many commands matching `match` ran. */
  count(match: string | RegExp): number {
    return this.ran.filter((c) => (typeof match === 'string' ? c.includes(match) : match.test(c))).length;
  }

  async connect(): Promise<MemoryConnection> {
    if (this.unreachable) throw new ConnectionError(`connect ECONNREFUSED ${this.address}:22`, { where: this.name });
    this.connections++;
    const c = new MemoryConnection(this);
    this.open.add(c);
    this.lab.emit('connect', this.name);
    return c;
  }

  /** @internal */
  forget(c: MemoryConnection): void {
    this.open.delete(c);
    if (this.lockOwner === c) this.releaseLock();
  }

  /** @internal */
  async exec(c: MemoryConnection, script: string, options: ExecOptions): Promise<ExecResult> {
    const text = unwrap(script);
    this.ran.push(text);
    this.lab.emit('command', this.name, text);
    for (const [match, gate] of this.gates) if (text.includes(match)) await Promise.race([gate, c.dropped]);
    if (c.isDropped) return { stdout: '', stderr: '', code: null, signal: 'connection lost' };
    if (text.includes('flock -n 9')) return this.lock(c, text, options);
    const stdin = await readStdin(options.stdin);
    // host-play.ts's change followed by the next steps' facts: the change, a nonce line with its code, the read.
    const then = /^\( ([\s\S]*) \); rc=\$\?; printf '\\n%s %s\\n' (\S+) "\$rc"; if \[ "\$rc" -eq 0 \]; then \( ([\s\S]*) \) <\/dev\/null; fi; exit "\$rc"$/.exec(text);
    if (then) {
      const change = await this.sh(then[1]!, stdin);
      const code = change.code === undefined ? 0 : change.code;
      if (c.isDropped || code === null) return { stdout: change.stdout ?? '', stderr: change.stderr ?? '', code: null, signal: 'connection lost' };
      const read = code === 0 ? await this.facts(then[3]!) : { stdout: '' };
      return { stdout: `${change.stdout ?? ''}\n${unquoteWord(then[2]!)} ${code}\n${read.stdout ?? ''}`, stderr: change.stderr ?? '', code, signal: null };
    }
    const r = text.includes('@@lbd') ? await this.facts(text) : await this.sh(text, stdin);
    if (c.isDropped) return { stdout: '', stderr: '', code: null, signal: 'connection lost' };
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.code === undefined ? 0 : r.code, signal: r.code === null ? 'connection lost' : null };
  }

  /** The run lock as lock.ts's script behaves: LOCKED at once, or WAIT then LOCKED, or HELD and exit 75. */
  private async lock(c: MemoryConnection, text: string, options: ExecOptions): Promise<ExecResult> {
    const holder = /printf '%s since=%s\\n' ('(?:[^']|'\\'')*'|\S+)/.exec(text)?.[1];
    const waitS = Number(/flock -w (\d+) 9/.exec(text)?.[1] ?? /\[ (-?\d+) -le 0 \]/.exec(text)?.[1] ?? 0);
    let out = '';
    const say = (line: string) => {
      out += `${line}\n`;
      options.onStdout?.(Buffer.from(`${line}\n`));
    };
    if (this.lockOwner !== undefined) {
      say(`WAIT ${this.lockHolder ?? 'unknown'}`);
      const freed = waitS > 0 && (await Promise.race([
        new Promise<boolean>((r) => this.lockWaiters.push(() => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), waitS * 1000)),
        c.dropped.then(() => false),
      ]));
      if (!freed || this.lockOwner !== undefined) {
        say(`HELD ${this.lockHolder ?? 'unknown'}`);
        return { stdout: out, stderr: '', code: 75, signal: null };
      }
    }
    this.lockOwner = c;
    this.lockHolder = `${holder ? unquoteWord(holder) : 'unknown'} since=${/since=(\d+)/.exec(text)?.[1] ?? '0'}`;
    this.lab.emit('locked', this.name, this.lockHolder);
    say('LOCKED');
    // lock.ts's read under the lock: the facts batch, then the nonce line with its exit code.
    const read = /\( timeout \d+ sh -c ('(?:[^']|'\\'')*') \) <\/dev\/null 2>\/dev\/null; printf '\\n%s %s\\n' (\S+) "\$\?"/.exec(text);
    if (read) {
      const script = unquoteWord(read[1]!);
      const r = script.includes('@@lbd') ? await this.facts(script) : await this.sh(script, '');
      const chunk = `${r.stdout ?? ''}\n${unquoteWord(read[2]!)} ${r.code ?? 255}\n`;
      out += chunk;
      options.onStdout?.(Buffer.from(chunk));
    }
    const ended = new Promise<void>((r) => {
      if (!options.stdin || typeof options.stdin === 'string') return r();
      (options.stdin as Readable).on('end', () => r()).resume();
    });
    await Promise.race([ended, c.dropped]);
    if (this.lockOwner === c) this.releaseLock();
    return { stdout: out, stderr: '', code: c.isDropped ? null : 0, signal: c.isDropped ? 'connection lost' : null };
  }

  private releaseLock(): void {
    const was = this.lockHolder;
    this.lockOwner = undefined;
    this.lockHolder = undefined;
    this.lab.emit('unlocked', this.name, was);
    const next = this.lockWaiters.shift();
    if (next) next();
  }

  /** facts/batch.ts's script: each section answered on its own, cut by the same markers. */
  private async facts(text: string): Promise<Reply> {
    const mark = /(@@lbd[0-9a-f]+)/.exec(text)![1]!;
    const re = new RegExp(`${mark} begin:(\\d+); \\( ([\\s\\S]*?) \\) 2>/dev/null </dev/null; printf '\\n%s %s %s\\n' ${mark} end:\\1 "\\$\\?"`, 'g');
    let stdout = '';
    for (const m of text.matchAll(re)) {
      const r = await this.sh(m[2]!, '');
      stdout += `\n${mark} begin:${m[1]}\n${r.stdout ?? ''}\n${mark} end:${m[1]} ${r.code ?? 255}\n`;
    }
    return { stdout };
  }

  /** `A && B && C`, each part a simple command or `( ... )`; stops at the first failure. */
  async sh(text: string, stdin: string): Promise<Reply> {
    let stdout = '';
    let stderr = '';
    for (const part of splitTop(text.trim(), '&&')) {
      const p = part.trim();
      const r = p.startsWith('(') && p.endsWith(')') ? await this.sh(p.slice(1, -1), stdin) : await this.simple(p, stdin);
      stdout += r.stdout ?? '';
      stderr += r.stderr ?? '';
      if (r.code !== 0 && r.code !== undefined) return { stdout, stderr, code: r.code };
    }
    return { stdout, stderr, code: 0 };
  }

  private async simple(text: string, stdin: string): Promise<Reply> {
    for (const rule of this.rules) {
      if (rule.times === 0) continue;
      const hit = typeof rule.match === 'string' ? text.includes(rule.match) : rule.match.test(text);
      if (!hit) continue;
      if (rule.times !== undefined) rule.times--;
      return typeof rule.answer === 'function' ? rule.answer(words(text), this, stdin) : rule.answer;
    }
    const loop = /^for f in (\S+)\/\*; do/.exec(text);
    if (loop) {
      const dir = `${loop[1]}/`;
      return { stdout: [...this.files.keys()].filter((f) => f.startsWith(dir)).map((f) => `${f.slice(dir.length)}\n`).join('') };
    }
    const argv = words(text);
    const paths = argv.slice(1).filter((a) => !a.startsWith('-'));
    switch (argv[0]) {
      case 'true': case ':': case 'mkdir': return { code: 0 };
      case 'false': return { code: 1 };
      case 'touch':
        for (const f of paths) if (!this.files.has(f)) this.files.set(f, '');
        return { code: 0 };
      case 'rm':
        for (const f of paths) this.files.delete(f);
        return { code: 0 };
      case 'cat': {
        const f = this.files.get(paths[0] ?? '');
        return f === undefined ? { stderr: `cat: ${paths[0]}: No such file or directory`, code: 1 } : { stdout: f };
      }
    }
    return { stderr: `memory host ${this.name}: no answer for: ${text}`, code: 127 };
  }
}

class MemoryConnection implements Connection {
  isDropped = false;
  readonly dropped: Promise<void>;
  private fire!: () => void;
  constructor(private readonly host: MemoryHost) {
    this.dropped = new Promise((r) => (this.fire = r));
  }
  get name(): string {
    return this.host.name;
  }
  async exec(command: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.isDropped) throw new ConnectionError('the connection was lost', { where: this.host.name });
    return this.host.exec(this, command.text, options);
  }
  async forwardOut(): Promise<PassThrough> {
    return new PassThrough();
  }
  async close(): Promise<void> {
    this.drop();
  }
  drop(): void {
    if (this.isDropped) return;
    this.isDropped = true;
    this.fire();
    this.host.forget(this);
  }
}

/**
 * A set of in-memory hosts by address; `connect` is the pool's `connectTo`. Events: 'connect'
 * (host), 'command' (host, text), 'locked' (host, holder), 'unlocked' (host, holder).
 */
export class MemoryLab extends EventEmitter {
  readonly hosts = new Map<string, MemoryHost>();

  add(name: string, address: string): MemoryHost {
    const h = new MemoryHost(name, address, this);
    this.hosts.set(address, h);
    return h;
  }

  host(name: string): MemoryHost {
    const h = [...this.hosts.values()].find((x) => x.name === name);
    if (!h) throw new Error(`no memory host ${name}`);
    return h;
  }

  connect = async (t: SshTarget): Promise<Connection> => {
    const h = this.hosts.get(t.address);
    if (!h) throw new ConnectionError(`connect EHOSTUNREACH ${t.address}:22`, { where: t.name });
    await new Promise((r) => setImmediate(r));
    return h.connect();
  };

  /** Resolves on the next event `name` whose first argument is `host` (or any host). */
  next(name: 'connect' | 'command' | 'locked' | 'unlocked', host?: string, match?: string): Promise<unknown[]> {
    return new Promise((resolve) => {
      const on = (...args: unknown[]) => {
        if (host !== undefined && args[0] !== host) return;
        if (match !== undefined && !String(args[1]).includes(match)) return;
        this.off(name, on);
        resolve(args);
      };
      this.on(name, on);
    });
  }
}

/** The script inside `sh -c WORD` or `sudo ... -- sh -c WORD`, as the pool wraps every command. */
export function unwrap(text: string): string {
  const m = /^(?:sudo -n -H -u \S+ -- )?sh -c ('(?:[^']|'\\'')*'|\S+)$/s.exec(text);
  return m ? unquoteWord(m[1]!) : text;
}

function unquoteWord(w: string): string {
  return words(w).join(' ');
}

/** Split at `sep` outside quotes and parentheses. */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"') i++;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && text.startsWith(sep, i)) {
      out.push(text.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Shell words: single quotes, double quotes (no expansion), backslash escapes. */
export function words(text: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      cur = (cur ?? '') + text.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? text.length : end;
    } else if (ch === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length && text[j] !== '"'; j++) s += text[j] === '\\' ? text[++j] : text[j];
      cur = (cur ?? '') + s;
      i = j;
    } else if (ch === '\\') {
      cur = (cur ?? '') + (text[++i] ?? '');
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

async function readStdin(stdin: ExecOptions['stdin']): Promise<string> {
  if (stdin === undefined) return '';
  if (typeof stdin === 'string') return stdin;
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString();
}
