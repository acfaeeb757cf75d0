/** haproxy-keepalived as a deployment kind: one deployment per VRRP cluster (the nodes that carry the same instances). */
import { haInit } from './init.js';
import { familyAddress, hostAddresses } from '../../util/net.js';
import { drainCommands } from '../../lb-blocks/rolling.js';
import { sh, type ShellCommand } from '../../connection/shell.js';
import { clientHost, hostsNamed, type Deployment, type Kind } from '../types.js';
import { evaluateHaNodes, haBackends, HA_NODE_PROBES } from './checks.js';
import { clusters, DRAIN_FILE, serversOf, serviceTargets, vipsOf, type HaServiceVars, type HaVars } from './model.js';
import type { EndToEnd, ServiceTarget } from '../../checks/curl.js';
import { backendDown, blockVrrp, hangKeepalived, killService, linkDown, stopService } from '../scenarios.js';
import type { Host, Inventory } from '../../inventory/model.js';
import type { HostInfo } from '../../playbook/define.js';
import type { DrillSpec } from '../types.js';
import { RELOAD_HAPROXY } from './playbook.js';

/**
 * Planned maintenance on one node, as a rolling change does it: a node holding a VIP is drained first
 * (its peers take the VIP while it still serves), then keepalived restarts, then it is undrained.
 */
function rollingRestart(vips: string[]): ShellCommand {
  return sh`held=0; for v in ${vips}; do ip -o addr show | grep -q " $v/" && held=1; done
if [ $held = 1 ]; then
  echo 1 > ${DRAIN_FILE}; i=0
  while [ $i -lt 200 ]; do still=0; for v in ${vips}; do ip -o addr show | grep -q " $v/" && still=1; done; [ $still = 0 ] && break; sleep 0.1; i=$((i+1)); done
  [ $still = 0 ] || { echo 0 > ${DRAIN_FILE}; echo "the VIP did not leave this node within 20 s of the drain" >&2; exit 1; }
fi
systemctl restart keepalived || exit 1
[ $held = 1 ] && { sleep 1; echo 0 > ${DRAIN_FILE}; }
exit 0`;
}

/** How verify proves a service through its VIP: HTTPS with its certificate checked, HTTP, else a TCP connection. */
function endToEndOf(target: ServiceTarget, s: HaServiceVars | undefined): EndToEnd {
  if (s?.verify_tls) return { target, mode: 'https', path: s.verify_path, expectBody: s.verify_body, caFile: s.verify_tls.ca_file, serverName: s.verify_tls.server_name };
  if (s?.verify_http) return { target, mode: 'http', path: s.verify_path, expectBody: s.verify_body };
  return { target, mode: 'tcp' };
}

/** The first server of the first service verify requests over HTTP, when it is an inventory host (the backend-down drill's target). */
function firstBackend(v: HaVars, hosts: readonly HostInfo[], inventory: Inventory, nodes: readonly HostInfo[]): { host?: Host; lbs: string[] } | undefined {
  const s = v.haproxy.services.find((x) => x.verify_http) ?? v.haproxy.services[0];
  const server = s ? serversOf(s, hosts)[0] : undefined;
  return s && server ? { host: inventory.hosts.find((h) => h.address === server.address), lbs: nodes.flatMap((n) => hostAddresses(n)) } : undefined;
}

/** Faults on the holder, then planned work that must lose nothing: a reload on every node, the holder drained and back. */
function haDrills(v: HaVars, backend: { host?: Host; lbs: string[] } | undefined): DrillSpec[] {
  return [
    ...(backend?.host ? [backendDown(backend.host, backend.lbs)] : []),
    stopService('keepalived'), stopService('haproxy'), killService('haproxy'), linkDown(v.keepalived.interface, vipsOf(v).map((x) => x.address), 6), // Debian's keepalived is not restarted by systemd: the killed holder keeps its VIP (and haproxy serves it)
    // until a backup's master-down timer takes over, so two nodes hold it for a while.
    { ...killService('keepalived'), expect: 'move', splitBrain: true, matrix: true }, hangKeepalived(), blockVrrp(),
    { scenario: 'reload-haproxy', title: 'haproxy reloaded on every node', planned: true, matrix: true, expect: 'stay', everyNode: true, stop: sh`${RELOAD_HAPROXY}`, start: sh`true` },
    // The drain file lowers the holder's priority (no reload): a backup takes over once the holder's adverts lose; then back.
    { scenario: 'restart-keepalived', title: 'keepalived restarted on every node, the holder drained first', planned: true, matrix: true, everyNode: true, expect: 'any', stop: rollingRestart(vipsOf(v).map((x) => x.address)), start: sh`true` },
    { scenario: 'drain', title: 'holder drained and undrained', planned: true, matrix: true, stop: drainCommands(DRAIN_FILE).set, start: drainCommands(DRAIN_FILE).clear },
  ];
}
import playbook from './playbook.js';

export const haproxyKeepalived: Kind = {
  serves: true,
  name: 'haproxy-keepalived',
  playbook,
  init: haInit,
  deployments: ({ inventory, hosts, targeted }) => clusters(hosts.filter((h) => targeted.has(h.name))).map(({ nodes }): Deployment => {
    const v = nodes[0]!.vars as unknown as HaVars;
    const vips = vipsOf(v);
    const targets = serviceTargets(v, hosts);
    const services = v.haproxy.services.map((s) => ({ name: s.name, servers: serversOf(s, hosts).length }));
    return {
      kind: 'haproxy-keepalived',
      name: `${vips.map((x) => `${x.name} ${x.address}`).join(', ')} on ${nodes.map((n) => n.name).join(', ')}`,
      nodes: hostsNamed(inventory, nodes.map((n) => n.name)),
      vips,
      client: clientHost(inventory, v.verify_from),
      probes: HA_NODE_PROBES,
      evaluate: (probes) => evaluateHaNodes(vips, services, probes),
      backends: (probe) => haBackends(services.map((s) => s.name), probe),
      endToEnd: targets.map((t) => endToEndOf(t, v.haproxy.services.find((s) => s.name === t.name))),
      drills: haDrills(v, firstBackend(v, hosts, inventory, nodes)),
      vrrp: {
        interface: v.keepalived.interface, unicast: v.keepalived.unicast,
        instances: v.keepalived.instances.map((i) => ({ name: i.name, vrid: i.virtual_router_id, vip: i.vip.split('/')[0]!, v6: i.vip.includes(':') })),
        addresses: Object.fromEntries(nodes.map((n) => [n.name, { v4: familyAddress(n, false), v6: familyAddress(n, true) }])),
      },
      drain: drainCommands(DRAIN_FILE),
    };
  }),
};
