/**
 * Drill scenarios that more than one kind offers: a systemd service stopped, killed or hung on the VIP
 * holder, VRRP blocked between it and its peers. A kind lists the ones that apply to what it deployed.
 */
import { sh, type ShellCommand } from '../connection/shell.js';
import type { Host } from '../inventory/model.js';
import type { DrillSpec } from './types.js';

/** `systemctl stop` and start again: the polite stop (keepalived gives the VIP up with a priority-0 advert). */
export const stopService = (unit: string): DrillSpec => ({ scenario: `stop-${unit}`, title: `systemctl stop ${unit}`, stop: sh`systemctl stop ${unit}`, start: sh`systemctl start ${unit}` });

/**
 * SIGKILL to every process of the unit: no goodbye. systemd may restart it (Restart=) before VRRP reacts,
 * so the VIP may move or stay; what counts is how soon requests succeed again.
 */
export const killService = (unit: string): DrillSpec => ({
  scenario: `kill-${unit}`, title: `SIGKILL ${unit}`, expect: 'any',
  stop: sh`systemctl kill --signal=SIGKILL ${unit}`,
  // Started again unless systemd already did.
  start: sh`systemctl is-active --quiet ${unit} || systemctl start ${unit}`,
});

/** keepalived hung (SIGSTOP): it neither adverts nor gives the VIP up, so a backup takes over while the hung node still holds it. */
export const hangKeepalived = (unit = 'keepalived'): DrillSpec => ({
  scenario: 'hang-keepalived', title: `SIGSTOP ${unit}`, splitBrain: true, matrix: true,
  stop: sh`systemctl kill --signal=SIGSTOP ${unit}`, start: sh`systemctl kill --signal=SIGCONT ${unit}`,
});

/**
 * VRRP (IP protocol 112) dropped in and out of the holder: its peers stop hearing it and one takes over
 * while it keeps the VIP: both claim it (split brain) until the rules go.
 */
export const blockVrrp = (): DrillSpec => {
  const rule = (op: '-I' | '-D') => sh`for t in iptables ip6tables; do command -v $t >/dev/null || { echo "$t is not installed: the drill drops VRRP with it" >&2; exit 1; }; $t ${op} INPUT -p 112 -j DROP && $t ${op} OUTPUT -p 112 -j DROP || exit 1; done`;
  return { scenario: 'block-vrrp', title: 'VRRP dropped on the holder', splitBrain: true, matrix: true, stop: rule('-I'), start: rule('-D') };
};

/**
 * The node powered off and on by the operator's own commands on the machine running lbdeploy (IPMI,
 * virsh, the lab's `docker kill`): offered only when both are given.
 */
export function powerOff(commands: (holder: Host) => { stop: ShellCommand; start: ShellCommand }): DrillSpec {
  return { scenario: 'power-off', title: 'node powered off', matrix: true, local: commands, stop: sh`true`, start: sh`true` };
}

/**
 * One backend gone: on the backend host, routes to the LB nodes prohibited (iproute2, nothing else
 * needed), so their connections to it time out as to a dead host. The VIP stays; the balancer's health
 * checks take the server out, and requests sent to it meanwhile fail unless retried elsewhere in time.
 */
export function backendDown(backend: Host, lbAddresses: readonly string[]): DrillSpec {
  const routes = (op: 'add' | 'del') => sh`for a in ${[...lbAddresses]}; do case $a in *:*) ip -6 route ${op} prohibit $a || exit 1;; *) ip route ${op} prohibit $a || exit 1;; esac; done`;
  return { scenario: 'backend-down', title: `${backend.name} unreachable from the LB nodes`, expect: 'stay', matrix: true, target: backend, stop: routes('add'), start: routes('del') };
}

/**
 * The holder's link down for `seconds`, then up again, by a detached script on the holder itself (the
 * way back does not need the network). Linux drops the interface's IPv6 addresses and default routes
 * with the link: the script puts back the ones it saw (not the VIPs: keepalived owns those).
 */
export function linkDown(iface: string, vips: readonly string[], seconds: number): DrillSpec {
  // Inside the detached script's double quotes the outer shell fills in what it saw ($v6, $r4, $r6);
  // \$a is the inner loop's own variable.
  const stop = sh`set -e
v6=$(ip -6 -o addr show dev ${iface} scope global | awk '{print $4}' | grep -v -F ${vips.flatMap((v) => ['-e', `${v}/`])} || true)
r4=$(ip -4 route show default dev ${iface} | head -1); r6=$(ip -6 route show default dev ${iface} | head -1)
setsid sh -c "ip link set ${iface} down; sleep ${seconds}; ip link set ${iface} up; sleep 0.5
for a in $v6; do ip -6 addr add \\$a dev ${iface} nodad 2>/dev/null; done
[ -z '$r4' ] || ip -4 route replace $r4 dev ${iface}; [ -z '$r6' ] || ip -6 route replace $r6 dev ${iface}; true" >/dev/null 2>&1 </dev/null &
exit 0`;
  return { scenario: 'link-down', title: `${iface} down ${seconds} s on the holder`, matrix: true, cutsHolder: seconds,
    stop, start: sh`i=0; while ! ip link show ${iface} | grep -q 'state UP' && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; true` };
}
