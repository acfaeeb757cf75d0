/** `lbdeploy audit INVENTORY`: the scheduled health audit. Exit 0 healthy, 2 warnings only, 1 critical. */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from '../shell-local.js';
import { audit } from '../audit/run.js';
import { auditJunit, auditPrometheus, auditTable, type AuditReport } from '../audit/formats.js';
import { auditHtml } from '../audit/html.js';
import { auditRecord, historyFile, lastDrills, readHistory, recordHistory, type HistoryRecord } from '../audit/history.js';
import { imageTag } from '../image/build.js';
import { cronJob, cronSpec, crontabLine, parseEvery, scheduleNames, systemdUnits, type ScheduleTarget } from '../audit/schedule.js';
import { parseListen, startExporter } from '../audit/exporter.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out } from '../report/console.js';
import { asUsage, failure, parseForks, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import { AUDIT_FORMAT_NAMES, type COMMANDS, type ValuesOf } from './specs.js';

/** Healthy 0; warnings only: attention (2); anything critical: failed (1). */
const EXIT_OF = { ok: EXIT.ok, warning: EXIT.attention, critical: EXIT.failed } as const;

/** Write a file so that a reader (node_exporter) sees the old or the new one, never a half. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

type AuditValues = ValuesOf<typeof COMMANDS.audit.options>;

/**
 * The report's format and file. `-o FORMAT` (--format, its older spelling); `--output-file FILE`. A timer
 * installed by an older lbdeploy runs `--format F --output FILE`: that keeps working, with a warning.
 */
export function reportTarget(v: Pick<AuditValues, 'output' | 'format' | 'json' | 'output-file'>, warn: (line: string) => void): { format: string; file?: string } {
  let format = v.format ?? v.output ?? (v.json ? 'json' : 'table');
  let file = v['output-file'];
  if (v.format !== undefined && v.output !== undefined && !AUDIT_FORMAT_NAMES.includes(v.output)) {
    if (file !== undefined) throw new UsageError(`--output '${v.output}' is not a format, and --output-file is given`);
    file = v.output;
    format = v.format;
    warn('lbdeploy audit: `--format F --output FILE` is now `-o F --output-file FILE`; `audit --install-timer` again writes the new form');
  }
  if (!AUDIT_FORMAT_NAMES.includes(format)) {
    throw new UsageError(`-o/--output takes one of ${AUDIT_FORMAT_NAMES.join(', ')}, not '${format}'`, { hint: /[/.]/.test(format) ? 'the report\'s file is --output-file FILE' : undefined });
  }
  return file === undefined ? { format } : { format, file };
}

/** The audit's thresholds and pool, checked; an option given where it does nothing is refused. */
function auditSettings(v: AuditValues) {
  const warnDays = Number(v['warn-days']);
  const critDays = Number(v['crit-days']);
  const hostTimeout = Number(v['host-timeout']);
  if (!(critDays >= 0 && warnDays >= critDays && hostTimeout > 0)) throw new UsageError('need 0 <= --crit-days <= --warn-days and --host-timeout > 0');
  if (v.image !== undefined && !v['print-schedule']) throw new UsageError('--image names the CronJob\'s image: it goes with --print-schedule');
  if (v.interval !== undefined && v.serve === undefined) throw new UsageError('--interval is the exporter\'s: it goes with --serve ADDRESS:PORT');
  return { warnDays, critDays, hostTimeoutMs: hostTimeout * 1000, drift: !v['no-drift'], forks: parseForks(v.forks) };
}

export async function runAudit(positionals: string[], v: AuditValues): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const options = auditSettings(v);
    const target = reportTarget(v, out.error);
    inv = await requireInventory(positionals);
    const history = asUsage(() => historyFile(v.history, inv!.file));
    if (v['install-timer'] || v['print-schedule']) return await schedule(inv, v, history);
    if (v.serve !== undefined) {
      const intervalS = Number(v.interval ?? '60');
      if (!(intervalS >= 1) || !Number.isFinite(intervalS)) throw new UsageError(`--interval takes seconds (at least 1), not '${v.interval ?? ''}'`);
      return await serve(inv, asUsage(() => parseListen(v.serve!)), intervalS, options, history);
    }
    return await auditOnce(inv, v, target, options, history);
  } catch (e) {
    return failure(e, inv);
  }
}

/** --print-schedule (crontab line, CronJob) or --install-timer (systemd service and timer). */
async function schedule(inv: Inventory, v: AuditValues, history: string | undefined): Promise<number> {
  const every = asUsage(() => parseEvery(v.every));
  const names = scheduleNames(inv.file);
  const textfile = join(resolve(v['textfile-dir']), names.textfile);
  const main = resolve(dirname(fileURLToPath(import.meta.url)), 'main.js');
  // The history where the operator chose one; else the scheduled run's own default (root's, under /var/lib/lbdeploy).
  const chosen = v.history === undefined ? undefined : history ?? 'none';
  const keep = chosen === undefined ? [] : ['--history', chosen];
  const target: ScheduleTarget = { argv: [process.execPath, main, 'audit', inv.file, '--output', 'prometheus', '--output-file', textfile, ...keep], inventory: inv.file, textfile, every, names, image: v.image ?? imageTag(), history: chosen };
  if (v['print-schedule']) {
    asUsage(() => cronSpec(every));
    out.line(`# crontab (/etc/cron.d/${names.unit}):\n${crontabLine(target)}\n\n# Kubernetes CronJob (image: \`lbdeploy image build\`, pushed to your registry; --image REF):\n${cronJob(target)}`);
    return EXIT.ok;
  }
  const units = systemdUnits(target);
  const dir = resolve(v['unit-dir']);
  writeAtomic(join(dir, `${names.unit}.service`), units.service);
  writeAtomic(join(dir, `${names.unit}.timer`), units.timer);
  mkdirSync(resolve(v['textfile-dir']), { recursive: true });
  out.line(`installed ${join(dir, `${names.unit}.service`)} and ${names.unit}.timer (every ${every.minutes} min, writes ${textfile})`);
  if (existsSync('/run/systemd/system') && dir === '/etc/systemd/system') {
    await $`systemctl daemon-reload`.quiet();
    await $`systemctl enable --now ${`${names.unit}.timer`}`.quiet();
    out.line(`enabled and started ${names.unit}.timer`);
  } else {
    out.line(`systemd is not running here (or the units went elsewhere): run \`systemctl daemon-reload && systemctl enable --now ${names.unit}.timer\` where they belong`);
  }
  return EXIT.ok;
}

/** One audit: the report in the chosen format (file or stdout), the history, the HTML page. */
async function auditOnce(inv: Inventory, v: AuditValues, target: { format: string; file?: string }, options: ReturnType<typeof auditSettings>, history: string | undefined): Promise<number> {
  const t0 = Date.now();
  const report: AuditReport = await audit(inv, options);
  const durationS = (Date.now() - t0) / 1000;
  const mask = inv.masker.mask.bind(inv.masker);
  const warning = recordHistory(history, [auditRecord(report, { durationS, warnDays: options.warnDays, critDays: options.critDays })], mask);
  if (warning) out.error(`lbdeploy audit: ${mask(warning)}`);
  // The history (this audit included) feeds the drill gauges and the report's trends.
  const past = v.html || target.format === 'prometheus' ? pastOf(history, (w) => out.error(`lbdeploy audit: ${mask(w)}`)) : [];
  const text = target.format === 'json' ? JSON.stringify(report, null, 2) + '\n'
    : target.format === 'junit' ? auditJunit(report)
    : target.format === 'prometheus' ? auditPrometheus(report, durationS, lastDrills(past))
    : auditTable(report) + '\n';
  if (target.file) writeAtomic(resolve(target.file), mask(text));
  else process.stdout.write(mask(text));
  if (v.html) writeAtomic(resolve(v.html), mask(auditHtml(report, past)));
  return EXIT_OF[report.status];
}

/**
 * The exporter until SIGINT/SIGTERM. The inventory is read again before each audit, so an edit
 * takes effect without a restart; an invalid edit makes that audit fail (up 0) and keeps the last.
 */
async function serve(inv: Inventory, listen: { host: string; port: number }, intervalS: number, options: Parameters<typeof audit>[1], history: string | undefined): Promise<number> {
  const file = inv.file;
  let masker = inv.masker;
  const log = (line: string) => out.error(`${new Date().toISOString()} ${line}`);
  const exporter = await startExporter({
    ...listen, intervalMs: intervalS * 1000, inventory: inv.source.shownName,
    runAudit: async () => {
      const fresh = await loadInventory(file);
      masker = fresh.masker;
      const t0 = Date.now();
      const report = await audit(fresh, options);
      const warning = recordHistory(history, [auditRecord(report, { durationS: (Date.now() - t0) / 1000, ...options })], (t) => masker.mask(t));
      if (warning) log(masker.mask(warning));
      return report;
    },
    // The drills failover-test recorded, read again at each audit.
    drills: () => lastDrills(pastOf(history, (w) => log(masker.mask(w)))),
    mask: (t) => masker.mask(t),
    log,
  });
  const where = listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
  out.error(`lbdeploy audit exporter: http://${where}/metrics (an audit every ${intervalS} s; /healthz)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await exporter.stop();
  return EXIT.ok;
}

/** The history's records; what cannot be read is warned of, never fatal. */
function pastOf(file: string | undefined, warn: (line: string) => void): HistoryRecord[] {
  if (!file) return [];
  try {
    const { records, skipped } = readHistory(file);
    for (const line of skipped.slice(0, 3)) warn(line);
    if (skipped.length > 3) warn(`${file}: ${skipped.length - 3} more line(s) skipped`);
    return records;
  } catch (e) {
    warn(`history ${file} not read: ${(e as Error).message}`);
    return [];
  }
}
