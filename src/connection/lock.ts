/**
 * The per-host run lock: flock(1) on /run/lbdeploy/run.lock, held by a command on the run's own SSH
 * connection for as long as the run lasts. It ends when the run closes the command's stdin, or
 * when the connection drops (a crashed or killed run): sshd closes the channel, the holder exits,
 * and the kernel releases the lock. /run is a tmpfs, so a reboot clears it as well. A login that
 * may not write /run (a non-root user without become) locks in its own folder under /tmp instead:
 * it excludes its own other runs, and it can change only what that user may change anyway.
 */
import { hostname, userInfo } from 'node:os';
import { PassThrough } from 'node:stream';
import { LbdeployError } from '../errors.js';
import { sh, type ShellCommand } from './shell.js';
import type { ExecOptions, ExecResult } from './ssh.js';

export class LockError extends LbdeployError {}

export const LOCK_DIR = '/run/lbdeploy';

export interface LockOptions {
  /** Who holds it, as the next run will be told: user@machine, pid, the command. No secrets. */
  holder: string;
  /** How long a run waits for another run's lock before refusing; 0 refuses at once. */
  waitS: number;
  /** After contention, each lock taken in order waits at least this long (default CONTENTION_GRACE_S in pool.ts). */
  contentionGraceS?: number;
  /** Told once when the lock is held by another run and this one waits. */
  onWait?: (host: string, holder: string, waitS: number) => void;
}

/** user@machine pid N: lbdeploy COMMAND INVENTORY */
export function holderOf(command: string): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container's random uid): still lock, named by the machine and pid
  }
  return `${user}@${hostname()} pid ${process.pid}: lbdeploy ${command}`.replace(/[^\x20-\x7e]/g, '?');
}

/**
 * The holder's script: "WAIT <holder>" when another run has the lock, "LOCKED" once it is ours,
 * exit 75 with "HELD <holder>" when the wait ran out. Then it reads stdin until the run ends.
 * Taken at once, it starts two processes on the host (flock, and rm at the end): the folder made
 * only when missing (mode 0700), the time given by this run, stdin drained by the shell itself.
 * Its shell records its pid (run.pid), so `lbdeploy unlock` ends exactly the holder.
 * `now`: this run's clock in epoch seconds, recorded as the holder's start; `dir`: for tests.
 */
export function lockScript(holder: string, waitS: number, now = Math.floor(Date.now() / 1000), dir = LOCK_DIR, read?: LockRead): ShellCommand {
  // What the run reads under the lock, in the same round trip: after LOCKED, ended by the nonce and its exit code.
  const after = read
    ? sh`( timeout ${String(read.timeoutS)} sh -c ${read.script.text} ) </dev/null 2>/dev/null; printf '\\n%s %s\\n' ${read.nonce} "$?"`
    : sh`:`;
  return sh`d=${dir}; since=${now}
if ! { { [ -d "$d" ] || mkdir -m 0700 "$d" 2>/dev/null; } && [ -w "$d" ]; }; then d="/tmp/lbdeploy-run-$(id -u)"; [ -d "$d" ] || mkdir -m 0700 "$d" || exit 70; fi
[ -O "$d" ] || exit 70
exec 9>>"$d/run.lock" || exit 70
who() { h=$(tr '\\n' ' ' <"$d/run.holder" 2>/dev/null); echo "\${h:-unknown (no holder recorded)}"; }
if ! flock -n 9; then
  echo "WAIT $(who)"
  if [ ${String(waitS)} -le 0 ] || ! flock -w ${String(waitS)} 9; then echo "HELD $(who)"; exit 75; fi
  since=$(date +%s)
fi
printf '%s since=%s\\n' ${holder} "$since" >"$d/run.holder"
echo $$ >"$d/run.pid"
echo LOCKED
${after}
while read -r _; do :; done
rm -f "$d/run.holder" "$d/run.pid"`;
}

/** Where this controller runs and which of its processes live: what tells a stale holder from a live one. */
export interface Controller {
  host: string;
  alive(pid: number): boolean;
}

export const THIS_CONTROLLER: Controller = {
  host: hostname(),
  alive: (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
};

/**
 * A holder record is stale when it names a run on this very controller whose process is gone: the
 * lock outlived its run (its connection never dropped on the host's side, e.g. a network cut).
 * A run on another controller cannot be checked from here, so it is never called stale.
 */
export function staleHolder(text: string, here: Controller = THIS_CONTROLLER): boolean {
  const m = /^[^@\s]*@(\S+) pid (\d+):/.exec(text.trim());
  return m !== null && m[1] === here.host && !here.alive(Number(m[2]));
}

/** "... since=EPOCH" -> "... since 2026-11-23T10:00:00Z (42 s ago)", and STALE when its run is gone. */
export function describeHolder(text: string, now = Date.now(), here: Controller = THIS_CONTROLLER): string {
  const m = /^(.*?)\s*since=(\d+)\s*$/.exec(text.trim());
  const stale = staleHolder(text, here) ? ' (STALE: that run\'s process is gone from this machine; free the lock with lbdeploy unlock INVENTORY HOST)' : '';
  if (!m) return text.trim() + stale;
  const since = Number(m[2]) * 1000;
  return `${m[1]} since ${new Date(since).toISOString().replace(/\.\d+Z$/, 'Z')} (${Math.max(0, Math.round((now - since) / 1000))} s ago)${stale}`;
}

/**
 * `lbdeploy unlock`: on the host, the process that holds the run lock (the holder's shell, found
 * by its open lock file) is ended, which releases the flock, and the record removed. Prints
 * "FREE" when no run holds it, else "FREED <pids>" and the holder it was.
 */
export function unlockScript(dir = LOCK_DIR): ShellCommand {
  return sh`for d in ${dir} "/tmp/lbdeploy-run-$(id -u)"; do
  [ -e "$d/run.lock" ] || continue
  if flock -n "$d/run.lock" true; then echo "FREE $d"; continue; fi
  h=$(tr '\\n' ' ' <"$d/run.holder" 2>/dev/null)
  pids=$(cat "$d/run.pid" 2>/dev/null)
  # The holder's shell when its record is right (it has the lock file open); else whoever has it open.
  case "$pids" in ''|*[!0-9]*) pids="" ;; *) [ "$(readlink /proc/$pids/fd/9 2>/dev/null)" = "$d/run.lock" ] || pids="" ;; esac
  if [ -z "$pids" ]; then
    for fd in /proc/[0-9]*/fd/*; do
      [ "$(readlink "$fd" 2>/dev/null)" = "$d/run.lock" ] || continue
      p=\${fd#/proc/}; p=\${p%%/*}
      case " $pids " in *" $p "*) ;; *) pids="$pids $p" ;; esac
    done
  fi
  [ -n "$pids" ] && kill $pids 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do flock -n "$d/run.lock" true && break; sleep 0.2; done
  if flock -n "$d/run.lock" true; then rm -f "$d/run.holder" "$d/run.pid"; echo "FREED $pids"; echo "WAS \${h:-unknown}"; else echo "STUCK $pids"; exit 1; fi
done`;
}

type Run = (script: ShellCommand, options: ExecOptions) => Promise<ExecResult>;

/** A read-only script run under the lock as soon as it is ours (the run's facts): one round trip for both. */
export interface LockRead {
  script: ShellCommand;
  /** Ends its output (a line of its own, with the exit code): unique per run, so no output is mistaken for it. */
  nonce: string;
  timeoutS: number;
  /** Its output and exit code, before the lock is reported held. */
  done(result: { stdout: string; code: number }): void;
}

/** The read's output in the lock's stdout: between LOCKED and the nonce line. */
export function readAfterLock(out: string, nonce: string): { stdout: string; code: number } | undefined {
  const start = out.indexOf('LOCKED\n');
  const end = out.indexOf(`\n${nonce} `, start);
  if (start < 0 || end < 0) return undefined;
  const tail = out.slice(end + nonce.length + 2);
  if (!tail.includes('\n')) return undefined;
  return { stdout: out.slice(start + 'LOCKED\n'.length, end), code: Number(tail.slice(0, tail.indexOf('\n'))) };
}

/** Take the host's lock over `run` (the host's session); resolves once held, with its release. */
export function acquireLock(host: string, run: Run, opts: LockOptions, read?: LockRead): Promise<() => Promise<void>> {
  const stdin = new PassThrough();
  let out = '';
  let locked = false;
  let told = false;
  return new Promise((resolve, reject) => {
    const lines = () => out.split('\n').slice(0, -1);
    const done = run(lockScript(opts.holder, opts.waitS, undefined, undefined, read), {
      stdin, timeoutMs: 0,
      onStdout: (chunk) => {
        out += chunk.toString();
        const all = lines();
        const wait = all.find((l) => l.startsWith('WAIT '));
        if (wait && !told && opts.waitS > 0 && !all.includes('LOCKED') && !all.some((l) => l.startsWith('HELD '))) {
          told = true;
          opts.onWait?.(host, describeHolder(wait.slice(5)), opts.waitS);
        }
        const answer = read && all.includes('LOCKED') ? readAfterLock(out, read.nonce) : undefined;
        if (!locked && all.includes('LOCKED') && (!read || answer)) {
          locked = true;
          if (read && answer) read.done(answer);
          resolve(async () => {
            stdin.end();
            await done.catch(() => undefined);
          });
        }
      },
    });
    done.then((r) => {
      if (locked) return;
      const held = lines().find((l) => l.startsWith('HELD '));
      if (held) {
        reject(new LockError(`another lbdeploy run holds this host: ${describeHolder(held.slice(5))}`, {
          where: host,
          hint: opts.waitS > 0 ? `waited ${opts.waitS} s; wait longer with --lock-wait SECONDS, or find that run` : 'wait for it to end, or give --lock-wait SECONDS to queue behind it',
        }));
      } else {
        reject(new LockError(`cannot take the run lock (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, { where: host, hint: 'lbdeploy needs flock(1) (util-linux) and a folder it owns in /run (root) or /tmp on the host' }));
      }
    }, (e: unknown) => {
      if (!locked) reject(e);
    });
  });
}
