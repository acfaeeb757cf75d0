/** `lbdeploy audit INVENTORY`: the scheduled health audit. Exit 0 healthy, 1 warning, 2 critical. */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from '../shell-local.js';
import { audit } from '../audit/run.js';
import { auditHtml, auditJunit, auditPrometheus, auditTable, type AuditReport } from '../audit/formats.js';
import { cronJob, crontabLine, parseEvery, systemdUnits, type ScheduleTarget } from '../audit/schedule.js';
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out } from '../report/console.js';
import { failure, parse, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

const EXIT_OF = { ok: EXIT.ok, warning: 1, critical: 2 } as const;

/** Write a file so that a reader (node_exporter) sees the old or the new one, never a half. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export async function runAudit(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, {
      format: { type: 'string', default: 'table' }, output: { type: 'string', short: 'o' }, html: { type: 'string' },
      'warn-days': { type: 'string', default: '30' }, 'crit-days': { type: 'string', default: '7' }, 'host-timeout': { type: 'string', default: '10' },
      'no-drift': { type: 'boolean' }, 'install-timer': { type: 'boolean' }, 'print-schedule': { type: 'boolean' }, every: { type: 'string', default: '15m' },
      'textfile-dir': { type: 'string', default: '/var/lib/node_exporter/textfile_collector' }, 'unit-dir': { type: 'string', default: '/etc/systemd/system' },
      help: { type: 'boolean', short: 'h' },
    }, USAGES.audit);
    if (!parsed) return EXIT.ok;
    const v = parsed.values;
    const formats = ['table', 'json', 'junit', 'prometheus'];
    if (!formats.includes(v.format)) throw new UsageError(`--format must be one of ${formats.join(', ')}, not '${v.format}'`);
    const warnDays = Number(v['warn-days']);
    const critDays = Number(v['crit-days']);
    const hostTimeout = Number(v['host-timeout']);
    if (!(critDays >= 0 && warnDays >= critDays && hostTimeout > 0)) throw new UsageError('need 0 <= --crit-days <= --warn-days and --host-timeout > 0');
    inv = await requireInventory(parsed.positionals, USAGES.audit);

    if (v['install-timer'] || v['print-schedule']) {
      let every;
      try {
        every = parseEvery(v.every);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const textfile = join(resolve(v['textfile-dir']), 'lbdeploy_audit.prom');
      const main = resolve(dirname(fileURLToPath(import.meta.url)), 'main.js');
      const target: ScheduleTarget = { argv: [process.execPath, main, 'audit', inv.file, '--format', 'prometheus', '--output', textfile], inventory: inv.file, textfile, every };
      if (v['print-schedule']) {
        out.line(`# crontab (/etc/cron.d/lbdeploy-audit):\n${crontabLine(target)}\n\n# Kubernetes CronJob:\n${cronJob(target)}`);
        return EXIT.ok;
      }
      const units = systemdUnits(target);
      const dir = resolve(v['unit-dir']);
      writeAtomic(join(dir, 'lbdeploy-audit.service'), units.service);
      writeAtomic(join(dir, 'lbdeploy-audit.timer'), units.timer);
      mkdirSync(resolve(v['textfile-dir']), { recursive: true });
      out.line(`installed ${join(dir, 'lbdeploy-audit.service')} and lbdeploy-audit.timer (every ${every.minutes} min, writes ${textfile})`);
      if (existsSync('/run/systemd/system') && dir === '/etc/systemd/system') {
        await $`systemctl daemon-reload`.quiet();
        await $`systemctl enable --now lbdeploy-audit.timer`.quiet();
        out.line('enabled and started lbdeploy-audit.timer');
      } else {
        out.line('systemd is not running here (or the units went elsewhere): run `systemctl daemon-reload && systemctl enable --now lbdeploy-audit.timer` where they belong');
      }
      return EXIT.ok;
    }

    const report: AuditReport = await audit(inv, { warnDays, critDays, hostTimeoutMs: hostTimeout * 1000, drift: !v['no-drift'], forks: 20 });
    const mask = inv.masker.mask.bind(inv.masker);
    const text = v.format === 'json' ? JSON.stringify(report, null, 2) + '\n'
      : v.format === 'junit' ? auditJunit(report)
      : v.format === 'prometheus' ? auditPrometheus(report)
      : auditTable(report) + '\n';
    if (v.output) writeAtomic(resolve(v.output), mask(text));
    else process.stdout.write(mask(text));
    if (v.html) writeAtomic(resolve(v.html), mask(auditHtml(report)));
    return EXIT_OF[report.status];
  } catch (e) {
    return failure(e, inv);
  }
}
