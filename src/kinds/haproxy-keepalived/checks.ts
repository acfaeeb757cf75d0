/** The haproxy-keepalived probes and checks (pure): VIP holders, keepalived and haproxy running, backends UP per the stats socket. */
import { sh } from '../../connection/shell.js';
import type { FactRequest } from '../../operations/types.js';
import { activeRequest } from '../../operations/service.js';
import type { Check } from '../../checks/check.js';
import type { BackendView } from '../types.js';
import { probeError, probeOut, type NodeProbe } from '../../checks/probe.js';
import { ADDRESSES_FACT, holdsAddress, unreachableCheck, vipHolderChecks, type Vip } from '../../checks/vip.js';
import { HAPROXY_SOCKET, STATE_DIR } from './model.js';

export const HA_NODE_PROBES: FactRequest[] = [
  ADDRESSES_FACT,
  activeRequest('keepalived'),
  activeRequest('haproxy'),
  // keepalived's own view of each instance (its notify script's record): FAULT means it cannot take the VIP.
  { key: 'vrrp-state', command: sh`for f in ${STATE_DIR}/*; do [ -f "$f" ] && printf '%s %s\n' "\${f##*/}" "$(cat "$f")"; done; true` },
  { key: 'haproxy-stat', command: sh`echo 'show stat' | socat -t 2 stdio ${`unix-connect:${HAPROXY_SOCKET}`}` },
];

export interface ServerState {
  proxy: string;
  server: string;
  status: string;
}

/** haproxy's `show stat` CSV: the servers (not FRONTEND/BACKEND rows) and their status. */
export function parseShowStat(csv: string): ServerState[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const cols = header.slice(2).split(',');
  const px = cols.indexOf('pxname');
  const sv = cols.indexOf('svname');
  const st = cols.indexOf('status');
  return lines.filter((l) => !l.startsWith('#')).map((l) => l.split(',')).filter((f) => f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND')
    .map((f) => ({ proxy: f[px] ?? '', server: f[sv] ?? '', status: f[st] ?? '' }));
}

/** keepalived's instance states as its notify script recorded them: `NAME STATE` per line. */
export function parseVrrpStates(text: string): { instance: string; state: string }[] {
  return text.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 2 && f[0] && f[1]).map(([instance, state]) => ({ instance: instance!, state: state! }));
}

/** A server haproxy sends traffic to: UP (also "UP 1/3", going down) or without a health check ("no check"). */
const serving = (status: string) => status.startsWith('UP') || status === 'no check';

/**
 * A cluster's nodes: each VIP held once; keepalived and haproxy active on every node (stopped on
 * one: a warning, the others still serve); each service's backends UP (some down: warning, all:
 * critical).
 */
export function evaluateHaNodes(vips: readonly Vip[], services: readonly { name: string; servers: number }[], probes: ReadonlyMap<string, NodeProbe>): Check[] {
  const checks = vipHolderChecks(vips, probes);
  for (const [node, p] of probes) {
    const error = probeError(p);
    if (error) {
      checks.push(unreachableCheck(node, error));
      continue;
    }
    const holds = vips.some((vip) => holdsAddress(probeOut(p, ADDRESSES_FACT.key), vip.address));
    const faults = parseVrrpStates(probeOut(p, 'vrrp-state')).filter((x) => x.state === 'FAULT').map((x) => x.instance);
    for (const unit of ['keepalived', 'haproxy']) {
      const state = probeOut(p, unit).trim() || 'unknown';
      const active = state === 'active';
      const fault = active && unit === 'keepalived' && faults.length > 0;
      checks.push({
        check: unit, target: node, severity: active && !fault ? 'ok' : 'warning', value: active && !fault ? 1 : 0,
        detail: fault ? `active, FAULT in ${faults.join(', ')}: a tracked check, process or interface failed there, so this node cannot take the VIP over`
          : active && unit === 'keepalived' ? `active, ${holds ? 'MASTER' : 'BACKUP'}` : `${unit} ${state}`,
      });
    }
    const servers = parseShowStat(probeOut(p, 'haproxy-stat'));
    for (const s of services) {
      const mine = servers.filter((x) => x.proxy === s.name);
      const up = mine.filter((x) => serving(x.status));
      const down = mine.filter((x) => !serving(x.status)).map((x) => `${x.server} ${x.status}`);
      checks.push({
        check: 'backends', topic: 'backends', target: `${node} ${s.name}`, value: up.length,
        severity: mine.length === 0 ? 'warning' : up.length === 0 ? 'critical' : up.length < s.servers || down.length > 0 ? 'warning' : 'ok',
        detail: mine.length === 0 ? 'no state from the stats socket' : `${up.length}/${s.servers} UP${down.length ? ` (${down.join(', ')})` : ''}`,
      });
    }
  }
  return checks;
}

/** The servers of the deployed services as one node's stats socket shows them (UP, DOWN, MAINT, NOLB...). */
export function haBackends(serviceNames: readonly string[], p: NodeProbe): BackendView[] {
  const servers = parseShowStat(probeOut(p, 'haproxy-stat'));
  return servers.filter((s) => serviceNames.includes(s.proxy)).map((s) => ({
    service: s.proxy, server: s.server, detail: s.status || 'no status',
    state: serving(s.status) ? 'up' as const : s.status.startsWith('DOWN') ? 'down' as const : 'other' as const,
  }));
}
