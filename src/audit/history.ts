/**
 * The local history: every audit and every drill appends one JSON line to a file per inventory.
 * JSON lines, not an embedded database: an append is one write of one line (a crash leaves at most
 * a torn last line, which the reader skips and names); the file is read with jq, grep and tail
 * and copied with the inventory's repository; nothing native is installed, so the package and the
 * unprivileged image stay plain JavaScript (node:sqlite needs Node 22, better-sqlite3 a compiler
 * or a prebuilt binary). A history is small (one audit is a few hundred bytes) and is kept small:
 * past a size limit it is thinned (all of the last two days, one audit an hour before that, 400
 * days at most) and rewritten atomically under a lock file that appends take as well.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Severity } from '../checks/check.js';
import type { FailoverResult } from '../kinds/drill.js';
import type { AuditReport } from './formats.js';
import type { DrillMetric } from './metrics.js';
import { scheduleNames } from './schedule.js';

export interface AuditRecord {
  v: 1;
  type: 'audit';
  at: string;
  inventory: string;
  status: Severity;
  durationS: number;
  checks: Record<Severity, number>;
  vips: { name: string; address: string; holders: string[] }[];
  /** Each kubeconfig certificate's days left. */
  certs: { target: string; daysLeft: number }[];
  warnDays: number;
  critDays: number;
  /** Steps `up` would change, summed over the hosts, and on how many hosts (absent: drift not audited). */
  drift?: { steps: number; hosts: number };
  /** The backends as the VIP holders saw them. */
  backends: { up: number; total: number };
}

export interface DrillRecord {
  v: 1;
  type: 'drill';
  at: string;
  inventory: string;
  scenario: string;
  vip: string;
  holderBefore: string;
  holderAfter?: string;
  moveS?: number;
  servingS?: number;
  failed: number;
  total: number;
  passed: boolean;
  problem?: string;
}

export type HistoryRecord = AuditRecord | DrillRecord;

/**
 * Where an inventory's history lives unless --history says: under $XDG_STATE_HOME/lbdeploy when it
 * is set; else root's under /var/lib/lbdeploy (where the installed timer, running as root, writes
 * too) and another user's under ~/.local/state/lbdeploy.
 */
export function defaultHistoryPath(inventoryFile: string, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1, home = homedir()): string {
  const file = scheduleNames(inventoryFile).history;
  const xdg = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : undefined;
  if (!xdg && uid === 0) return join('/var/lib/lbdeploy/history', file);
  return join(xdg ?? join(home, '.local', 'state'), 'lbdeploy', 'history', file);
}

export function auditRecord(r: AuditReport, o: { durationS: number; warnDays: number; critDays: number }): AuditRecord {
  const count = (s: Severity) => r.checks.filter((c) => c.severity === s).length;
  const drift = r.checks.filter((c) => c.topic === 'drift' && c.target !== 'prepare');
  const backends = (r.topology ?? []).flatMap((t) => t.backends);
  return {
    v: 1, type: 'audit', at: r.generatedAt, inventory: r.inventory, status: r.status, durationS: Math.round(o.durationS * 1000) / 1000,
    checks: { ok: count('ok'), warning: count('warning'), critical: count('critical') },
    vips: (r.topology ?? []).flatMap((t) => t.vips.map((v) => ({ name: v.name, address: v.address, holders: v.holders }))),
    certs: r.checks.filter((c) => c.topic === 'certificate' && c.value !== undefined).map((c) => ({ target: c.target, daysLeft: c.value! })),
    warnDays: o.warnDays, critDays: o.critDays,
    ...(drift.length > 0 ? { drift: { steps: drift.reduce((n, c) => n + (c.value ?? 0), 0), hosts: drift.filter((c) => (c.value ?? 0) > 0).length } } : {}),
    backends: { up: backends.filter((b) => b.state === 'up').length, total: backends.length },
  };
}

export function drillRecord(inventory: string, r: FailoverResult, at: Date): DrillRecord {
  return {
    v: 1, type: 'drill', at: at.toISOString(), inventory, scenario: r.scenario, vip: r.vip, holderBefore: r.holderBefore,
    ...(r.holderAfter !== undefined ? { holderAfter: r.holderAfter } : {}),
    ...(r.vipMovedS !== undefined ? { moveS: r.vipMovedS } : {}),
    ...(r.servingS !== undefined ? { servingS: r.servingS } : {}),
    failed: r.failedRequests, total: r.requests, passed: r.ok, ...(r.problem ? { problem: r.problem } : {}),
  };
}

function isRecord(x: unknown): x is HistoryRecord {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return r.v === 1 && (r.type === 'audit' || r.type === 'drill') && typeof r.at === 'string' && !Number.isNaN(Date.parse(r.at));
}

/** The records of a history file's text; a line that is not one (a torn last write, an edit) is skipped and named. */
export function parseHistory(text: string, file: string): { records: HistoryRecord[]; skipped: string[] } {
  const records: HistoryRecord[] = [];
  const skipped: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let x: unknown;
    try {
      x = JSON.parse(line);
    } catch {
      skipped.push(`${file}:${i + 1}: not JSON (a write cut short?), skipped`);
      return;
    }
    if (isRecord(x)) records.push(x);
    else skipped.push(`${file}:${i + 1}: not an lbdeploy history record (v 1, type audit or drill, at), skipped`);
  });
  return { records, skipped };
}

export function readHistory(file: string): { records: HistoryRecord[]; skipped: string[] } {
  if (!existsSync(file)) return { records: [], skipped: [] };
  return parseHistory(readFileSync(file, 'utf8'), file);
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * A history thinned to fit: nothing older than 400 days; audits older than two days kept one per
 * hour (the last of the hour); then, while over the budget, the oldest audits dropped (drills are
 * few and kept longest). Order is kept.
 */
export function compactHistory(records: readonly HistoryRecord[], now: Date, budgetBytes: number): HistoryRecord[] {
  const t = (r: HistoryRecord) => Date.parse(r.at);
  const recent = now.getTime() - 2 * DAY;
  const lastOfHour = new Map<number, HistoryRecord>();
  for (const r of records) if (r.type === 'audit' && t(r) < recent) lastOfHour.set(Math.floor(t(r) / HOUR), r);
  const kept = records.filter((r) => t(r) >= now.getTime() - 400 * DAY
    && (r.type === 'drill' || t(r) >= recent || lastOfHour.get(Math.floor(t(r) / HOUR)) === r));
  const size = (r: HistoryRecord) => Buffer.byteLength(JSON.stringify(r)) + 1;
  let total = kept.reduce((n, r) => n + size(r), 0);
  const dropped = new Set<HistoryRecord>();
  for (const type of ['audit', 'drill'] as const) {
    for (const r of kept) {
      if (total <= budgetBytes) break;
      if (r.type !== type) continue;
      dropped.add(r);
      total -= size(r);
    }
  }
  return kept.filter((r) => !dropped.has(r));
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A lock file next to the history (O_EXCL): appends and compactions take it; one left by a crash is taken over after 30 s. */
function withLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > 30_000) {
        try {
          unlinkSync(lock);
        } catch { /* another writer took it over first */ }
        continue;
      }
      if (attempt >= 100) throw new Error(`${lock} is held by another lbdeploy writing this history (for ${Math.round(age / 1000)} s): not written`);
      sleep(20);
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch { /* already gone */ }
  }
}

export interface AppendOptions {
  /** Past this size the history is compacted to three quarters of it. */
  maxBytes?: number;
  now?: Date;
  /** Masks secrets in each line before it is written. */
  mask?: (line: string) => string;
}

/** Append records, one line each, secrets masked; compact when the file grew past its limit. */
export function appendHistory(file: string, records: readonly HistoryRecord[], o: AppendOptions = {}): void {
  if (records.length === 0) return;
  const maxBytes = o.maxBytes ?? 4 * 1024 * 1024;
  const mask = o.mask ?? ((line: string) => line);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  withLock(file, () => {
    const fd = openSync(file, 'a+', 0o600);
    try {
      // A torn last line (a crash mid-write) must not swallow this record: start on a new line.
      const size = fstatSync(fd).size;
      let lead = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) lead = '\n';
      }
      writeSync(fd, lead + records.map((r) => mask(JSON.stringify(r))).join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (statSync(file).size <= maxBytes) return;
    const { records: all } = readHistory(file);
    const kept = compactHistory(all, o.now ?? new Date(), Math.floor((maxBytes * 3) / 4));
    const tmp = `${file}.${process.pid}.tmp`;
    const out = openSync(tmp, 'w', 0o600);
    try {
      writeSync(out, kept.map((r) => JSON.stringify(r) + '\n').join(''));
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(tmp, file);
  });
}

/** The last drill of each scenario and VIP, for the exporter's drill gauges. */
export function lastDrills(records: readonly HistoryRecord[]): DrillMetric[] {
  const last = new Map<string, DrillRecord>();
  for (const r of records) if (r.type === 'drill') last.set(`${r.scenario}\u0000${r.vip}`, r);
  return [...last.values()].map((d) => ({ scenario: d.scenario, vip: d.vip, at: d.at, moveS: d.moveS, failed: d.failed, total: d.total, passed: d.passed }));
}

/** `--history FILE|none`: the file to use (relative to the working directory), or undefined for none. */
export function historyFile(option: string | undefined, inventoryFile: string): string | undefined {
  if (option === 'none') return undefined;
  if (option === '') throw new Error('--history takes a file, or none');
  return option === undefined ? defaultHistoryPath(inventoryFile) : resolve(option);
}

/**
 * Append to the history, never failing the run for it: a read-only root (the CronJob) or a full
 * disk costs the history, not the audit or the drill. Returns what went wrong, for a warning.
 */
export function recordHistory(file: string | undefined, records: readonly HistoryRecord[], mask: (line: string) => string): string | undefined {
  if (!file) return undefined;
  try {
    appendHistory(file, records, { mask });
    return undefined;
  } catch (e) {
    return `history ${file} not written: ${(e as Error).message} (--history FILE elsewhere, or --history none)`;
  }
}
