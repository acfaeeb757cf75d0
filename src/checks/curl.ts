/** Requests through a VIP from a client host: what verify and audit send, and how they read the answers. */
import { sh, type ShellCommand } from '../connection/shell.js';
import type { ConnectionPool } from '../connection/pool.js';
import type { Host } from '../inventory/model.js';
import type { Check } from './check.js';
import { familyAddress } from '../util/net.js';

/** A service behind a VIP and the backends that should answer it. */
export interface ServiceTarget {
  name: string;
  /** The address the client connects to (an IPv6 one in brackets). */
  vip: string;
  port: number;
  /** haproxy passes the client address with the PROXY protocol: the backends must see the client. */
  sendProxy?: string;
  /** IPVS persistence: one client sticks to one backend, so all answers come from one. */
  sticky?: boolean;
  servers: { name: string; address: string; port: number }[];
}

/** How a service is proven end to end: HTTP requests (backends answer in turn) or a TCP connection. */
export interface EndToEnd {
  target: ServiceTarget;
  mode: 'http' | 'tcp';
}

/** What the lab's (and any cooperating) backend page says: `host=web1 ... client=198.18.0.30 ...`. */
export function parsePage(body: string): { host?: string; client?: string } {
  return { host: /(?:^|\s)host=(\S+)/.exec(body)?.[1], client: /(?:^|\s)client=(\S+)/.exec(body)?.[1] };
}

export function curlScript(t: ServiceTarget, count: number): ShellCommand {
  return sh`i=0; while [ $i -lt ${count} ]; do curl -g -sS -m 2 http://${t.vip}:${t.port}/ || echo 'lbdeploy-curl-failed'; echo; i=$((i+1)); done`;
}

export function evaluateCurl(t: ServiceTarget, output: string, count: number, clientAddress?: string): Check[] {
  const bodies = output.split('\n').filter((l) => l.trim() !== '');
  const failed = bodies.filter((b) => b.includes('lbdeploy-curl-failed')).length;
  const pages = bodies.filter((b) => !b.includes('lbdeploy-curl-failed')).map(parsePage);
  const seen = [...new Set(pages.map((p) => p.host).filter((h): h is string => !!h))].sort();
  const expected = t.servers.map((s) => s.name).sort();
  const answered = count - failed;
  const checks: Check[] = [{
    check: 'curl via vip', topic: 'vip-request', vip: t.vip.replace(/^\[|\]$/g, ''), target: `${t.name} ${t.vip}:${t.port}`, value: answered,
    severity: failed === 0 && pages.length === count ? 'ok' : answered > 0 ? 'warning' : 'critical',
    detail: `${answered}/${count} answered; backends reached: ${seen.join(', ') || 'none'}`,
  }];
  if (seen.length > 0 && t.sticky) {
    checks.push({ check: 'persistence', target: t.name, severity: seen.length === 1 ? 'ok' : 'warning', detail: seen.length === 1 ? `every answer from ${seen[0]} (one client sticks to one backend)` : `answers from ${seen.join(', ')}: the client did not stick to one backend` });
  } else if (seen.length > 0) {
    const missing = expected.filter((e) => !seen.includes(e));
    checks.push({ check: 'round robin', target: t.name, severity: missing.length === 0 ? 'ok' : 'warning', detail: missing.length === 0 ? `all ${expected.length} backends answered` : `not reached: ${missing.join(', ')}` });
  }
  if (t.sendProxy && clientAddress) {
    const wrong = pages.filter((p) => p.client !== clientAddress).map((p) => p.client ?? '?');
    checks.push({
      check: 'client address', target: t.name, severity: wrong.length === 0 && pages.length > 0 ? 'ok' : 'critical',
      detail: wrong.length === 0 ? `backends saw ${clientAddress} (PROXY ${t.sendProxy})` : `backends saw ${[...new Set(wrong)].join(', ')}, not ${clientAddress}`,
    });
  }
  return checks;
}

/** From the client, each service in turn: HTTP rounds (2 per backend) or one TCP connection. */
export async function endToEndChecks(pool: ConnectionPool, client: Host | undefined, services: readonly EndToEnd[]): Promise<Check[]> {
  if (services.length === 0) return [];
  if (!client) return [{ check: 'curl via vip', target: '-', severity: 'warning', detail: 'no verify_from host and no `clients` group: end-to-end requests not tried' }];
  const checks: Check[] = [];
  try {
    const s = await pool.session(client);
    for (const { target: t, mode } of services) {
      if (mode === 'tcp') {
        const r = await s.run(sh`timeout 3 bash -c ${`exec 3<>/dev/tcp/${t.vip.replace(/^\[|\]$/g, '')}/${t.port}`}`);
        checks.push({ check: 'tcp via vip', topic: 'vip-request', vip: t.vip.replace(/^\[|\]$/g, ''), target: `${t.name} ${t.vip}:${t.port}`, severity: r.code === 0 ? 'ok' : 'critical', detail: r.code === 0 ? 'connected' : 'no connection' });
        continue;
      }
      const count = Math.max(2 * t.servers.length, 2);
      const r = await s.run(curlScript(t, count));
      // The backends see the client's address of the VIP's family (an IPv6 one from its `addresses`).
      checks.push(...evaluateCurl(t, r.stdout, count, familyAddress(client, t.vip.includes(':')) ?? client.address));
    }
  } catch (e) {
    checks.push({ check: 'curl via vip', target: client.name, severity: 'critical', detail: `client unreachable: ${(e as Error).message}` });
  }
  return checks;
}
