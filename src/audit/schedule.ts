/** Scheduling the audit: a systemd service + timer, the equivalent crontab line, a Kubernetes CronJob. */
import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';


/**
 * The names one inventory's schedule uses, so a second inventory gets its own timer, textfile,
 * CronJob and history: its file name, made safe, and a hash of its absolute path (two site/inventory.yaml differ).
 */
export function scheduleNames(inventoryPath: string): { unit: string; textfile: string; cronJob: string; history: string } {
  const stem = basename(inventoryPath, extname(inventoryPath)).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 30) || 'inventory';
  const hash = createHash('sha256').update(inventoryPath).digest('hex').slice(0, 8);
  return { unit: `lbdeploy-audit-${stem}-${hash}`, textfile: `lbdeploy_audit_${stem.replace(/-/g, '_')}_${hash}.prom`, cronJob: `lbdeploy-audit-${stem}-${hash}`, history: `${stem}-${hash}.jsonl` };
}

export interface Every {
  minutes: number;
}

export function parseEvery(text: string): Every {
  const m = /^(\d+)(m|min|h)$/.exec(text.trim());
  if (!m) throw new Error(`--every takes minutes or hours, like 15m or 1h, not '${text}'`);
  const minutes = Number(m[1]) * (m[2] === 'h' ? 60 : 1);
  if (minutes < 1 || minutes > 24 * 60) throw new Error('--every must be between 1m and 24h');
  return { minutes };
}

/**
 * The cron schedule that runs exactly every `e.minutes`. Cron steps restart each hour (minutes) and
 * each day (hours), so only periods that divide an hour or a day are regular; any other period
 * (7m, 90m, 5h) is refused rather than turned into something else. The systemd timer takes any.
 */
export function cronSpec(e: Every): string {
  const m = e.minutes;
  if (m < 60 && 60 % m === 0) return m === 1 ? '* * * * *' : `*/${m} * * * *`;
  if (m % 60 === 0 && (24 * 60) % m === 0) return m === 60 ? '0 * * * *' : m === 24 * 60 ? '0 0 * * *' : `0 */${m / 60} * * *`;
  throw new Error(`cron cannot run something every ${m} min: its steps restart each hour and each day`
    + ' (use a period that divides an hour, 1-30m, or a day, 1h-24h; --install-timer\'s systemd timer takes any period)');
}

export interface ScheduleTarget {
  /** The command that runs the audit, absolute paths. */
  argv: string[];
  inventory: string;
  textfile: string;
  every: Every;
  names: ReturnType<typeof scheduleNames>;
  /** The pinned lbdeploy image the CronJob runs (`lbdeploy image build`), e.g. registry.example/lbdeploy:0.1.0. */
  image: string;
  /** --history as given (a file or none); the CronJob keeps none unless told where (a mounted volume). */
  history?: string;
}

const q = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/["\\$`]/g, '\\$&')}"`);

export function systemdUnits(t: ScheduleTarget): { service: string; timer: string } {
  return {
    service: `# Managed by lbdeploy (audit --install-timer) for ${t.inventory}
[Unit]
Description=lbdeploy health audit of ${t.inventory}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${t.argv.map(q).join(' ')}
# 2 (warnings) and 1 (critical) are audit results, written to the textfile; not failures of the unit.
SuccessExitStatus=1 2
`,
    timer: `# Managed by lbdeploy (audit --install-timer)
[Unit]
Description=Run the lbdeploy audit every ${t.every.minutes} min

[Timer]
OnBootSec=2min
OnUnitActiveSec=${t.every.minutes}min
RandomizedDelaySec=30s
Persistent=true

[Install]
WantedBy=timers.target
`,
  };
}

export function crontabLine(t: ScheduleTarget): string {
  return `${cronSpec(t.every)} root ${t.argv.map(q).join(' ')} >/dev/null 2>&1`;
}

/**
 * A CronJob that runs the same audit from inside a cluster (inventory and SSH key from a Secret),
 * from a pinned lbdeploy image: nothing is downloaded at run time, so it works air-gapped.
 */
export function cronJob(t: ScheduleTarget): string {
  return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${t.names.cronJob}
  namespace: kube-system
  labels: { app.kubernetes.io/name: lbdeploy-audit }
spec:
  schedule: "${cronSpec(t.every)}"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 0
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: Never
          securityContext: { fsGroup: 65532 }   # the Secret's files readable by the image's user
          containers:
            - name: audit
              image: ${t.image}
              imagePullPolicy: IfNotPresent
              # A Job's pod keeps nothing: --history none, unless --history names a file on a volume you mount.
              args: ["audit", "/etc/lbdeploy/inventory.yaml", "--output", "json", "--history", ${JSON.stringify(t.history ?? 'none')}]
              securityContext: { runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true }
              volumeMounts:
                - { name: lbdeploy, mountPath: /etc/lbdeploy, readOnly: true }
          volumes:
            - name: lbdeploy
              secret:
                secretName: ${t.names.cronJob}   # inventory.yaml, the SSH key and known_hosts it names
                defaultMode: 0440
`;
}
