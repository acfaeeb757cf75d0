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

/** How a service is proven end to end: HTTP(S) requests (backends answer in turn) or a TCP connection. */
export interface EndToEnd {
  target: ServiceTarget;
  mode: 'http' | 'https' | 'tcp';
  /** http(s): the path asked (default /). */
  path?: string;
  /** http(s): every answer's body must contain this. */
  expectBody?: string;
  /** https: the CA file on the client that the server's certificate must chain to (default: the client's system CAs). */
  caFile?: string;
  /** https: the name the certificate must carry, sent as SNI (default: the VIP). */
  serverName?: string;
}

/** What the lab's (and any cooperating) backend page says: `host=web1 ... client=198.18.0.30 ...`. */
export function parsePage(body: string): { host?: string; client?: string } {
  return { host: /(?:^|\s)host=(\S+)/.exec(body)?.[1], client: /(?:^|\s)client=(\S+)/.exec(body)?.[1] };
}

const BEGIN = '@@lbdeploy-request';
const STATUS = '@@lbdeploy-status=';

/** `count` requests from the client, each answer framed: its body, then its HTTP status (000: no answer). */
export function curlScript(e: EndToEnd, count: number): ShellCommand {
  const t = e.target;
  const bare = t.vip.replace(/^\[|\]$/g, '');
  const path = e.path ?? '/';
  const tls = e.mode === 'https';
  const host = tls && e.serverName ? e.serverName : t.vip;
  const resolveTo = tls && e.serverName ? ['--resolve', `${e.serverName}:${t.port}:${bare.includes(':') ? `[${bare}]` : bare}`] : [];
  const ca = tls && e.caFile ? ['--cacert', e.caFile] : [];
  const url = `${tls ? 'https' : 'http'}://${host}:${t.port}${path}`;
  const args = ['-g', '-sS', '-m', '2', '-w', `\n${STATUS}%{http_code}\n`, ...ca, ...resolveTo, url];
  return sh`i=0; while [ $i -lt ${count} ]; do echo ${BEGIN}; curl ${args} || echo ${`${STATUS}000`}; i=$((i+1)); done`;
}

/** Each answer's status and body, from curlScript's output. */
export function parseAnswers(output: string): { status: number; body: string }[] {
  return output.split(`${BEGIN}\n`).slice(1).map((chunk) => {
    const at = chunk.lastIndexOf(STATUS);
    const status = at < 0 ? 0 : Number(chunk.slice(at + STATUS.length).trim().split('\n')[0]) || 0;
    return { status, body: at < 0 ? chunk : chunk.slice(0, at) };
  });
}

export function evaluateCurl(e: EndToEnd, output: string, count: number, clientAddress?: string): Check[] {
  const t = e.target;
  const answers = parseAnswers(output).slice(0, count);
  const none = count - answers.filter((a) => a.status !== 0).length;
  const badStatus = answers.filter((a) => a.status >= 400).map((a) => a.status);
  const badBody = e.expectBody === undefined ? [] : answers.filter((a) => a.status > 0 && a.status < 400 && !a.body.includes(e.expectBody!));
  const good = answers.filter((a) => a.status > 0 && a.status < 400 && (e.expectBody === undefined || a.body.includes(e.expectBody)));
  const pages = good.map((a) => parsePage(a.body));
  const seen = [...new Set(pages.map((p) => p.host).filter((h): h is string => !!h))].sort();
  const expected = t.servers.map((s) => s.name).sort();
  const problems = [
    ...(none > 0 ? [`${none} without an answer`] : []),
    ...(badStatus.length > 0 ? [`${badStatus.length} answered ${[...new Set(badStatus)].map((c) => `HTTP ${c}`).join(', ')}`] : []),
    ...(badBody.length > 0 ? [`${badBody.length} without '${e.expectBody}' in the body`] : []),
  ];
  const checks: Check[] = [{
    check: e.mode === 'https' ? 'https via vip' : 'curl via vip', topic: 'vip-request', vip: t.vip.replace(/^\[|\]$/g, ''), target: `${t.name} ${t.vip}:${t.port}`, value: good.length,
    severity: good.length === count ? 'ok' : good.length > 0 ? 'warning' : 'critical',
    detail: `${good.length}/${count} answered${problems.length > 0 ? ` (${problems.join('; ')})` : ''}; backends reached: ${seen.join(', ') || 'none'}`,
  }];
  if (seen.length > 0 && t.sticky) {
    checks.push({ check: 'persistence', target: t.name, severity: seen.length === 1 ? 'ok' : 'warning', detail: seen.length === 1 ? `every answer from ${seen[0]} (one client sticks to one backend)` : `answers from ${seen.join(', ')}: the client did not stick to one backend` });
  } else if (seen.length > 0) {
    const missing = expected.filter((x) => !seen.includes(x));
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
      const e = services.find((x) => x.target === t)!;
      const r = await s.run(curlScript(e, count));
      // The backends see the client's address of the VIP's family (an IPv6 one from its `addresses`).
      checks.push(...evaluateCurl(e, r.stdout, count, familyAddress(client, t.vip.includes(':')) ?? client.address));
    }
  } catch (e) {
    checks.push({ check: 'curl via vip', target: client.name, severity: 'critical', detail: `client unreachable: ${(e as Error).message}` });
  }
  return checks;
}
