/** The receiving side of seed 000: an nginx server that accepts PROXY protocol and trusts only the LBs. */
import { sh, type ShellCommand } from '../connection/shell.js';

export interface NginxProxyProtocolSite {
  /** Ports that expect a PROXY protocol header (v1 or v2). */
  listen: number[];
  /** The load balancers' addresses or networks: only they may set the client address. */
  trustedProxies: string[];
  /** Pass requests on (with X-Real-IP / X-Forwarded-For from the PROXY header), or answer who the client is. */
  upstream?: string;
  serverName?: string;
}

export function renderNginxProxyProtocol(s: NginxProxyProtocolSite): string {
  const out = ['# Managed by lbdeploy: accepts the PROXY protocol from the load balancers (seed 000).', 'server {'];
  for (const p of s.listen) out.push(`    listen ${p} proxy_protocol;`);
  if (s.serverName) out.push(`    server_name ${s.serverName};`);
  for (const t of s.trustedProxies) out.push(`    set_real_ip_from ${t};`);
  out.push('    real_ip_header proxy_protocol;', '', '    location / {');
  if (s.upstream) {
    out.push('        proxy_set_header X-Real-IP $proxy_protocol_addr;', '        proxy_set_header X-Forwarded-For $proxy_protocol_addr;',
      '        proxy_set_header Host $http_host;', `        proxy_pass ${s.upstream};`);
  } else {
    out.push('        default_type text/plain;', '        return 200 "host=$hostname client=$remote_addr proxy=$realip_remote_addr\\n";');
  }
  out.push('    }', '}');
  return out.join('\n') + '\n';
}

/**
 * A validate command for a snippet: nginx -t on a throw-away main config that includes only the
 * candidate file, so the live configuration is not involved.
 */
export function nginxSnippetValidate(tmp: ShellCommand): ShellCommand {
  return sh`c=$(mktemp) && { echo 'events {}'; echo 'http {'; echo 'include /etc/nginx/mime.types;'; echo include ${tmp}\\;; echo '}'; } > "$c" && nginx -t -q -c "$c"; r=$?; rm -f "$c"; exit $r`;
}
