/** haproxy.cfg: a typed model (TCP load balancing, PROXY protocol, monitor, stats) and a pure renderer. */
import { revealText, type Secret } from '../inventory/secret.js';

export type SendProxy = 'v1' | 'v2' | 'v2-ssl' | 'v2-ssl-cn';

export interface HaproxyServer {
  name: string;
  address: string;
  port: number;
  weight?: number;
  maxconn?: number;
  sendProxy?: SendProxy;
  /** Health checks: `check inter <inter> rise <rise> fall <fall>`; false for none. */
  check?: false | { inter?: string; rise?: number; fall?: number; downinter?: string; ssl?: boolean };
  /** Ramp a server's weight up over this time after it comes back (no burst onto a cold server). */
  slowstart?: string;
  /** Requests queued for this server beyond maxconn before they go elsewhere. */
  maxqueue?: number;
}

export interface HaproxyListen {
  name: string;
  /** address:port, e.g. `198.18.0.100:80` or `*:6443` */
  binds: string[];
  balance?: 'roundrobin' | 'leastconn' | 'source' | 'first';
  servers: HaproxyServer[];
  /** `option tcp-check`, with an optional exchange: send this, expect this string back. */
  tcpCheck?: { send?: string; expect?: string };
  /** `option httpchk GET path` and `http-check expect status N` (a TLS server's checks: its `check.ssl`). */
  httpCheck?: { path: string; expectStatus?: number };
  /** `tcp-request inspect-delay`: how long to wait for the first bytes (for content rules). */
  inspectDelay?: string;
  /** Extra lines for this section (trusted playbook/inventory input; haproxy -c checks them with the rest). */
  options?: string[];
}

export interface HaproxyConfig {
  global: {
    maxconn: number;
    /** The runtime API: `stats socket <path> mode 600 level admin`. */
    statsSocket: string;
    user?: string;
    group?: string;
    chroot?: string;
    log?: string;
    /** Raw lines at the end of the section. */
    extra?: string[];
  };
  defaults: {
    timeoutConnect: string;
    timeoutClient: string;
    timeoutServer: string;
    timeoutCheck?: string;
    retries?: number;
    /** `option redispatch`: the last retry of a refused connection goes to another server. */
    redispatch?: boolean;
    /** Raw lines at the end of the section. */
    extra?: string[];
  };
  /** `monitor-uri` frontend: answers 200 while haproxy runs (for upstream checks). */
  monitor?: { bind: string; uri: string };
  /** The stats page; its password is a secret. */
  stats?: { bind: string; uri: string; user: string; password: string | Secret; refresh?: string; admin?: boolean };
  listens: HaproxyListen[];
}

/** A string as one haproxy word: quoted, with `\r\n` written as haproxy's escapes. */
function haproxyString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`;
}

function server(s: HaproxyServer): string {
  const parts = [`server ${s.name} ${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`];
  if (s.sendProxy) parts.push(`send-proxy${s.sendProxy === 'v1' ? '' : `-${s.sendProxy}`}`);
  if (s.weight !== undefined) parts.push(`weight ${s.weight}`);
  if (s.maxconn !== undefined) parts.push(`maxconn ${s.maxconn}`);
  if (s.maxqueue !== undefined) parts.push(`maxqueue ${s.maxqueue}`);
  if (s.slowstart) parts.push(`slowstart ${s.slowstart}`);
  if (s.check !== false) {
    const c = s.check ?? {};
    parts.push('check');
    if (c.inter) parts.push(`inter ${c.inter}`);
    if (c.downinter) parts.push(`downinter ${c.downinter}`);
    if (c.rise !== undefined) parts.push(`rise ${c.rise}`);
    if (c.fall !== undefined) parts.push(`fall ${c.fall}`);
    // A TLS server (kube-apiserver) is checked over TLS; the check does not verify its certificate.
    if (c.ssl) parts.push('check-ssl verify none');
  }
  return parts.join(' ');
}

export function renderHaproxy(c: HaproxyConfig): string {
  const g = c.global;
  const out: string[] = ['# Managed by lbdeploy: changes here are overwritten.', 'global'];
  if (g.log) out.push(`    log ${g.log}`);
  if (g.chroot) out.push(`    chroot ${g.chroot}`);
  // mode 600: the runtime API can drain servers and read state; root only.
  out.push(`    stats socket ${g.statsSocket} mode 600 level admin expose-fd listeners`, '    stats timeout 30s');
  if (g.user) out.push(`    user ${g.user}`);
  if (g.group) out.push(`    group ${g.group}`);
  out.push(`    maxconn ${g.maxconn}`);
  for (const line of g.extra ?? []) out.push(`    ${line.trim()}`);
  const d = c.defaults;
  out.push('', 'defaults', '    log global', '    mode tcp', '    option tcplog', '    option dontlognull',
    `    timeout connect ${d.timeoutConnect}`, `    timeout client ${d.timeoutClient}`, `    timeout server ${d.timeoutServer}`);
  if (d.timeoutCheck) out.push(`    timeout check ${d.timeoutCheck}`);
  if (d.retries !== undefined) out.push(`    retries ${d.retries}`);
  // A connection a server refuses is retried on another server (the last retry), not failed: a backend
  // gone is absorbed before the health checks take it out.
  if (d.redispatch) out.push('    option redispatch');
  for (const line of d.extra ?? []) out.push(`    ${line.trim()}`);
  if (c.monitor) {
    out.push('', 'frontend monitor', `    bind ${c.monitor.bind}`, '    mode http', '    option dontlog-normal', `    monitor-uri ${c.monitor.uri}`);
  }
  if (c.stats) {
    const s = c.stats;
    out.push('', 'listen stats', `    bind ${s.bind}`, '    mode http', '    stats enable', `    stats uri ${s.uri}`,
      `    stats refresh ${s.refresh ?? '10s'}`, '    stats hide-version', `    stats auth ${s.user}:${revealText(s.password)}`);
    if (s.admin) out.push('    stats admin if TRUE');
  }
  for (const l of c.listens) {
    out.push('', `listen ${l.name}`, ...l.binds.map((b) => `    bind ${b}`), '    mode tcp', `    balance ${l.balance ?? 'roundrobin'}`);
    if (l.inspectDelay) out.push(`    tcp-request inspect-delay ${l.inspectDelay}`);
    if (l.tcpCheck) {
      out.push('    option tcp-check');
      if (l.tcpCheck.send !== undefined || l.tcpCheck.expect !== undefined) out.push('    tcp-check connect');
      if (l.tcpCheck.send !== undefined) out.push(`    tcp-check send ${haproxyString(l.tcpCheck.send)}`);
      if (l.tcpCheck.expect !== undefined) out.push(`    tcp-check expect string ${haproxyString(l.tcpCheck.expect)}`);
    }
    if (l.httpCheck) out.push(`    option httpchk GET ${l.httpCheck.path}`, `    http-check expect status ${l.httpCheck.expectStatus ?? 200}`);
    for (const o of l.options ?? []) out.push(`    ${o.trim()}`);
    for (const s of l.servers) out.push(`    ${server(s)}`);
  }
  return out.join('\n') + '\n';
}

/** The TCP ports haproxy listens on (listens, monitor, stats), sorted: what a firewall must let in. */
export function frontendPorts(c: HaproxyConfig): number[] {
  const binds = [...c.listens.flatMap((l) => l.binds), ...(c.monitor ? [c.monitor.bind] : []), ...(c.stats ? [c.stats.bind] : [])];
  const ports = binds.map((b) => Number(/:(\d+)$/.exec(b.split(/\s+/)[0]!)?.[1])).filter((p) => Number.isInteger(p) && p > 0);
  return [...new Set(ports)].sort((a, b) => a - b);
}
