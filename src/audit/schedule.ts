/** Scheduling the audit: a systemd service + timer, the equivalent crontab line, a Kubernetes CronJob. */

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

export function cronSpec(e: Every): string {
  if (e.minutes < 60) return `*/${e.minutes} * * * *`;
  if (e.minutes % 60 === 0 && e.minutes < 24 * 60) return `0 */${e.minutes / 60} * * *`;
  return '0 0 * * *';
}

export interface ScheduleTarget {
  /** The command that runs the audit, absolute paths. */
  argv: string[];
  inventory: string;
  textfile: string;
  every: Every;
}

const q = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/["\\$`]/g, '\\$&')}"`);

export function systemdUnits(t: ScheduleTarget): { service: string; timer: string } {
  return {
    service: `# Managed by lbdeploy (audit --install-timer)
[Unit]
Description=lbdeploy health audit of ${t.inventory}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${t.argv.map(q).join(' ')}
# 1 (warning) and 2 (critical) are audit results, written to the textfile; not failures of the unit.
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

/** A CronJob that runs the same audit from inside a cluster (inventory and SSH key from a Secret). */
export function cronJob(t: ScheduleTarget): string {
  return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: lbdeploy-audit
  namespace: kube-system
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
          containers:
            - name: audit
              image: node:20-bookworm-slim
              command: ["npx", "--yes", "lbdeploy", "audit", "/etc/lbdeploy/inventory.yaml", "--format", "json"]
              volumeMounts:
                - { name: lbdeploy, mountPath: /etc/lbdeploy, readOnly: true }
          volumes:
            - name: lbdeploy
              secret:
                secretName: lbdeploy-audit   # inventory.yaml, the SSH key and known_hosts it names
                defaultMode: 0400
`;
}
