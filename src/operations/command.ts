/** Commands: run when needed (creates/removes), with changed_when; wait-for; reboot. */
import { sh, raw, type ShellCommand } from '../connection/shell.js';
import type { ExecResult } from '../connection/ssh.js';
import { parsePathFact, pathFactRequest } from './path-fact.js';
import { common, fact, type Operation, type StepOptions } from './types.js';

export interface CommandOptions extends StepOptions {
  /** A command built with `sh`, or a shell string (playbook code, trusted). */
  cmd: ShellCommand | string;
  /** Skip when this path exists. */
  creates?: string;
  /** Skip when this path does not exist. */
  removes?: string;
  /** Decide from the result whether it changed anything (default: it did). */
  changedWhen?: (r: ExecResult) => boolean;
}

export function command(o: CommandOptions): Operation {
  const script = typeof o.cmd === 'string' ? raw(o.cmd) : o.cmd;
  const paths = [o.creates, o.removes].filter((p): p is string => p !== undefined);
  return {
    ...common('command', `run ${script.text.split('\n')[0]!.slice(0, 60)}`, o),
    ...(o.changedWhen ? { changeKnownAfterRun: true } : {}),
    facts: () => paths.map((p) => pathFactRequest(p)),
    plan: (facts) => {
      if (o.creates && parsePathFact(fact(facts, pathFactRequest(o.creates).key)).kind !== 'absent') {
        return { kind: 'ok', reason: `${o.creates} exists` };
      }
      if (o.removes && parsePathFact(fact(facts, pathFactRequest(o.removes).key)).kind === 'absent') {
        return { kind: 'ok', reason: `${o.removes} does not exist` };
      }
      return { kind: 'change', summary: `run ${script.text.split('\n')[0]}`, script };
    },
    result: (r) => {
      if (r.code === null) return { changed: false, error: `ended without an exit status (${r.signal ?? 'connection lost'})` };
      if (r.code !== 0) return { changed: false, error: (r.stderr || r.stdout).trim() || `exit ${r.code}` };
      return { changed: o.changedWhen ? o.changedWhen(r) : true };
    },
  };
}

export interface WaitForOptions extends StepOptions {
  /** Wait until host:port accepts TCP connections (host defaults to 127.0.0.1). */
  port?: number;
  host?: string;
  /** Or until this command exits 0. */
  until?: ShellCommand | string;
  timeoutSec?: number;
}

export function waitFor(o: WaitForOptions): Operation {
  const timeout = o.timeoutSec ?? 60;
  const probe = o.port !== undefined
    ? sh`bash -c ${`exec 3<>/dev/tcp/${o.host ?? '127.0.0.1'}/${o.port}`} 2>/dev/null`
    : typeof o.until === 'string' ? raw(o.until) : o.until ?? sh`true`;
  const what = o.port !== undefined ? `port ${o.host ?? '127.0.0.1'}:${o.port}` : 'command';
  return {
    ...common('wait-for', `wait for ${what}`, o),
    facts: () => [],
    plan: () => ({
      kind: 'run',
      summary: `wait up to ${timeout} s for ${what}`,
      script: sh`end=$(( $(date +%s) + ${timeout} )); until ${probe}; do if [ "$(date +%s)" -ge "$end" ]; then echo ${`lbdeploy: gave up waiting for ${what} after ${timeout} s`} >&2; exit 1; fi; sleep 0.5; done`,
    }),
  };
}

export interface RebootOptions extends StepOptions {
  /** Reboot only when this path exists (default: /var/run/reboot-required); `always` to force. */
  when?: string | 'always';
  timeoutSec?: number;
  /** Without --allow-reboot, skip with a note instead of failing (the settings already apply live). */
  optional?: boolean;
}

/** Identifies one boot: the kernel's boot id and PID 1's start time (a container restart changes only that). */
export const BOOT_FACT = { key: 'lbdeploy:boot', command: sh`cat /proc/sys/kernel/random/boot_id; cut -d' ' -f22 /proc/1/stat` };

export function reboot(o: RebootOptions = {}): Operation {
  const marker = o.when === 'always' ? undefined : o.when ?? '/var/run/reboot-required';
  return {
    ...common('reboot', 'reboot', o),
    reconnect: { timeoutMs: (o.timeoutSec ?? 300) * 1000 },
    facts: () => [BOOT_FACT, ...(marker ? [pathFactRequest(marker)] : [])],
    plan: (facts, ctx) => {
      if (marker && parsePathFact(fact(facts, pathFactRequest(marker).key)).kind === 'absent') return { kind: 'ok', reason: 'no reboot required' };
      if (!ctx.allowReboot && o.optional) return { kind: 'ok', reason: 'not rebooted: run with --allow-reboot to reboot (the settings already apply live)' };
      if (!ctx.allowReboot) return { kind: 'fail', message: 'a reboot is required but not allowed', hint: 'run again with --allow-reboot' };
      // Detached, so the command returns before the connection drops.
      return { kind: 'change', summary: 'reboot and wait until the host is back', script: sh`nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &` };
    },
  };
}
