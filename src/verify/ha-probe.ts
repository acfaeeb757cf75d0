/** Read-only probes of an HA deployment and their parsers (pure), shared by verify, failover-test and audit. */
import { sh } from '../connection/shell.js';
import type { FactRequest } from '../operations/types.js';
import { HAPROXY_SOCKET } from '../lb/ha.js';

/** Every address on the host: who holds a VIP. */
export const ADDRESSES_FACT: FactRequest = { key: 'addresses', command: sh`ip -o addr show` };

export const HA_NODE_PROBES: FactRequest[] = [
  ADDRESSES_FACT,
  { key: 'keepalived', command: sh`systemctl is-active keepalived` },
  { key: 'haproxy', command: sh`systemctl is-active haproxy` },
  { key: 'haproxy-stat', command: sh`echo 'show stat' | socat -t 2 stdio ${`unix-connect:${HAPROXY_SOCKET}`}` },
];

/** Does `ip -o addr show` list this address? */
export function holdsAddress(ipAddrOutput: string, address: string): boolean {
  const family = address.includes(':') ? 'inet6' : 'inet';
  return ipAddrOutput.split('\n').some((l) => {
    const m = new RegExp(`\\s${family}\\s+([^/\\s]+)/`).exec(l);
    return m?.[1] === address;
  });
}

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

/** What the lab's (and any cooperating) backend page says: `host=web1 ... client=198.18.0.30 ...`. */
export function parsePage(body: string): { host?: string; client?: string } {
  return { host: /(?:^|\s)host=(\S+)/.exec(body)?.[1], client: /(?:^|\s)client=(\S+)/.exec(body)?.[1] };
}
