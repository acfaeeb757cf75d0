/**
 * haproxy-keepalived: a VIP held by keepalived across the LB nodes, haproxy in TCP mode in front of
 * the backends (seed 000: ingress NodePorts with PROXY protocol v2; seed 001: kube-apiservers on
 * 6443), and the nginx side that accepts the PROXY protocol on the `ingress` group.
 */
import { sh } from '../../connection/shell.js';
import { shippedFile } from '../../files.js';
import { drainWith, holderLast } from '../../lb-blocks/rolling.js';
import { command } from '../../operations/command.js';
import { directory, file } from '../../operations/file.js';
import { sysctl } from '../../operations/kernel.js';
import { packages } from '../../operations/package.js';
import { onFamily, platformNotes } from '../../operations/platform.js';
import { RHEL_HAPROXY_TMPFILES } from '../../operations/os-family.js';
import { service } from '../../operations/service.js';
import { definePlaybook } from '../../playbook/define.js';
import { frontendPorts, renderHaproxy } from '../../render/haproxy.js';
import { renderKeepalived } from '../../render/keepalived.js';
import { nginxSnippetValidate, renderNginxProxyProtocol } from '../../render/nginx.js';
import { CHECK_SCRIPT_PATH, DRAIN_FILE, HAPROXY_DOWN_EXEC, HAPROXY_DOWN_FILE, HAPROXY_DOWN_TRACK, STATE_SCRIPT_PATH, haChecks, hasIpv6Vip, haproxyFor, keepalivedFor, lbGroupOf, lbNodes, vipsOf, type HaVars } from './model.js';
import { haVarsSchema } from './schema.js';

export const RELOAD_HAPROXY = '/usr/local/sbin/lbdeploy-reload-haproxy';

/** For a play of the operator's own over haproxy-keepalived nodes: drain the VIP holder before a step marked `disruptive`. */
export const haproxyKeepalivedDrain = drainWith(DRAIN_FILE, (h) => vipsOf(h.vars as unknown as HaVars).map((x) => x.address));
/** haproxy restarted at once after a crash; with keepalived.track_process, keepalived told at once that it stopped and that it serves again. */
export const haproxyDropin = (tracked: boolean) => [
  '# Managed by lbdeploy: haproxy restarted at once after a crash (Debian waits 100 ms)',
  ...(tracked ? [`# and ${HAPROXY_DOWN_FILE} kept in step with it: keepalived's track_file ${HAPROXY_DOWN_TRACK} puts the node in FAULT while it is 1.`] : []),
  '[Service]', 'RestartSec=0', ...(tracked ? HAPROXY_DOWN_EXEC : []), '',
].join('\n');

export default definePlaybook({
  name: 'haproxy-keepalived',
  description: 'keepalived VIP + haproxy (TCP, PROXY protocol) on group `lb`; nginx PROXY-protocol site on group `ingress`',
  vars: haVarsSchema,
  check: (hosts) => haChecks(hosts, (h) => h.vars as unknown as HaVars),
  plays: [
    {
      name: 'load balancers',
      // The group named by lb_group (default lb).
      hosts: (vars) => lbGroupOf({ vars }),
      // Converge the backups first and the node that holds a VIP last, so the VIP moves at most once.
      ...holderLast((h) => vipsOf(h.vars as unknown as HaVars).map((x) => x.address)),
      // A holder about to take a disruptive change (a package installed or upgraded) is drained first.
      drain: haproxyKeepalivedDrain,
      steps: (h) => {
        const v = h.vars as unknown as HaVars;
        const model = haproxyFor(v, h.inventory);
        const haproxy = renderHaproxy(model);
        const keepalived = renderKeepalived(keepalivedFor(h, v, h.inventory));
        return [
          platformNotes({ vrrp: true, ports: frontendPorts(model), tags: ['platform'] }),
          packages({ names: ['haproxy', 'keepalived', 'socat', 'curl', 'iproute2'], tags: ['packages'], disruptive: true }),
          sysctl({ file: '/etc/sysctl.d/60-lbdeploy-ha.conf', values: { 'net.ipv4.ip_nonlocal_bind': v.ha_sysctl_nonlocal_bind, ...(hasIpv6Vip(v) ? { 'net.ipv6.ip_nonlocal_bind': v.ha_sysctl_nonlocal_bind } : {}) }, tags: ['sysctl'] }),
          directory({ path: '/etc/keepalived', mode: '0755' }),
          file({ path: CHECK_SCRIPT_PATH, content: shippedFile('check_haproxy.sh'), mode: '0755', tags: ['keepalived'] }),
          file({ path: STATE_SCRIPT_PATH, content: shippedFile('vrrp_state.sh'), mode: '0755', tags: ['keepalived'] }),
          file({ path: RELOAD_HAPROXY, content: shippedFile('reload_haproxy.sh'), mode: '0755', tags: ['haproxy'] }),
          file({ path: '/etc/haproxy/haproxy.cfg', content: haproxy, mode: '0640', group: 'haproxy', validate: (tmp) => sh`haproxy -c -q -f ${tmp}`, notify: 'reload haproxy', tags: ['haproxy'] }),
          file({ path: '/etc/keepalived/keepalived.conf', content: keepalived, mode: '0600', validate: (tmp) => sh`keepalived -t -f ${tmp}`, notify: 'reload keepalived', tags: ['keepalived'] }),
          // Restarted at once after a crash: every ms of the restart is refused requests on the VIP holder.
          file({ path: '/etc/systemd/system/haproxy.service.d/lbdeploy-restart.conf', content: haproxyDropin(v.keepalived.track_process), mode: '0644', notify: 'daemon-reload', tags: ['haproxy'] }),
          // RHEL's haproxy package makes no /run/haproxy for the stats socket (Debian's does, in tmpfiles.d).
          onFamily('rhel', file({ path: RHEL_HAPROXY_TMPFILES.path, content: RHEL_HAPROXY_TMPFILES.content, mode: '0644', tags: ['haproxy'] })),
          onFamily('rhel', command({ cmd: sh`systemd-tmpfiles --create ${RHEL_HAPROXY_TMPFILES.path}`, creates: '/run/haproxy', title: 'create /run/haproxy (systemd-tmpfiles)', tags: ['haproxy'] })),
          service({ name: 'haproxy', enabled: true, state: 'started', tags: ['haproxy'] }),
          service({ name: 'keepalived', enabled: true, state: 'started', tags: ['keepalived'] }),
        ];
      },
      handlers: {
        'daemon-reload': command({ cmd: sh`systemctl daemon-reload`, title: 'systemctl daemon-reload' }),
        // haproxy: a seamless master-worker reload (no dropped connections);
        // keepalived: SIGHUP, never a restart that would move the VIP.
        'reload haproxy': command({ cmd: sh`${RELOAD_HAPROXY}`, title: 'reload haproxy (confirmed)' }),
        'reload keepalived': service({ name: 'keepalived', state: 'reloaded' }),
      },
    },
    {
      name: 'ingress accepts the PROXY protocol',
      hosts: 'ingress',
      steps: (h) => {
        const v = h.vars as unknown as HaVars;
        const lbs = lbNodes(h.inventory, v.lb_group).filter((l) => l.vars.keepalived !== undefined);
        const site = renderNginxProxyProtocol({
          listen: v.ingress.listen,
          trustedProxies: [...lbs.map((l) => l.address), ...new Set(lbs.flatMap((l) => vipsOf(l.vars as unknown as HaVars).map((x) => x.address)))],
          upstream: v.ingress.upstream,
        });
        return [
          packages({ names: ['nginx'], tags: ['ingress'] }),
          file({ path: '/etc/nginx/conf.d/lbdeploy-proxy-protocol.conf', content: site, validate: nginxSnippetValidate, notify: 'reload nginx', tags: ['ingress'] }),
          service({ name: 'nginx', enabled: true, state: 'started', tags: ['ingress'] }),
        ];
      },
      handlers: { 'reload nginx': service({ name: 'nginx', state: 'reloaded' }) },
    },
  ],
});
