/**
 * baseline: the shared base of every load-balancer host: packages, kernel settings that survive
 * a reboot (sysctl.d, modules-load.d), and a log drop-in for haproxy validated before it goes live.
 */
import { sh } from '../../connection/shell.js';
import { file } from '../../operations/file.js';
import { kernelModules, sysctl } from '../../operations/kernel.js';
import { packages } from '../../operations/package.js';
import { service } from '../../operations/service.js';
import { definePlaybook } from '../../playbook/define.js';

export const BASELINE_SYSCTL_FILE = '/etc/sysctl.d/60-lbdeploy.conf';
export const BASELINE_MODULES_FILE = '/etc/modules-load.d/lbdeploy.conf';
export const BASELINE_RSYSLOG_FILE = '/etc/rsyslog.d/30-lbdeploy.conf';

export default definePlaybook({
  name: 'baseline',
  description: 'packages, sysctl, kernel modules and logging for every LB host (group `lb`)',
  vars: {
    type: 'object',
    properties: {
      baseline_packages: {
        type: 'array', items: { type: 'string', pattern: '^[a-z0-9][a-z0-9+.-]*$' },
        default: ['rsyslog', 'curl', 'socat', 'jq', 'conntrack'],
        description: 'packages every LB host gets',
      },
      baseline_sysctl: {
        type: 'object', additionalProperties: { type: ['string', 'number'] },
        propertyNames: { pattern: '^[a-z0-9_]+(\\.[A-Za-z0-9_-]+)+$' },
        // A backup node must bind the VIP before it holds it; LBs forward.
        default: { 'net.ipv4.ip_nonlocal_bind': 1, 'net.ipv4.ip_forward': 1 },
        description: 'kernel settings, persisted in ' + BASELINE_SYSCTL_FILE + ' and applied now',
      },
      baseline_modules: {
        type: 'array', items: { type: 'string', pattern: '^[a-z0-9_-]+$' }, default: ['nf_conntrack', 'overlay'],
        description: 'kernel modules, persisted in ' + BASELINE_MODULES_FILE + ' and loaded now',
      },
      baseline_log_file: { type: 'string', pattern: '^/', default: '/var/log/haproxy.log', description: 'where haproxy (syslog local0) logs go' },
      baseline_rsyslog_extra: { type: 'string', default: '', description: 'extra rsyslog lines for the drop-in' },
    },
  },
  plays: [
    {
      name: 'LB host base',
      hosts: 'lb',
      steps: (h) => {
        const v = h.vars as {
          baseline_packages: string[]; baseline_sysctl: Record<string, string | number>; baseline_modules: string[];
          baseline_log_file: string; baseline_rsyslog_extra: string;
        };
        return [
          ...(v.baseline_packages.length > 0 ? [packages({ names: v.baseline_packages, tags: ['packages'] })] : []),
          sysctl({ file: BASELINE_SYSCTL_FILE, values: v.baseline_sysctl, tags: ['sysctl'] }),
          kernelModules({ file: BASELINE_MODULES_FILE, modules: v.baseline_modules, tags: ['modules'] }),
          file({
            path: BASELINE_RSYSLOG_FILE,
            content: rsyslogDropIn(v.baseline_log_file, v.baseline_rsyslog_extra),
            validate: (tmp) => sh`rsyslogd -N1 -f ${tmp}`,
            notify: 'restart rsyslog',
            tags: ['logging'],
          }),
          service({ name: 'rsyslog', enabled: true, state: 'started', tags: ['logging'] }),
        ];
      },
      handlers: {
        'restart rsyslog': service({ name: 'rsyslog', state: 'restarted' }),
      },
    },
  ],
});

export function rsyslogDropIn(logFile: string, extra: string): string {
  return [
    '# Managed by lbdeploy (baseline): haproxy logs to syslog facility local0.',
    `local0.* -${logFile}`,
    '& stop',
    ...(extra ? [extra] : []),
    '',
  ].join('\n');
}
