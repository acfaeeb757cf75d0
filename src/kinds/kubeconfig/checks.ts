/** The kubeconfig kind's checks: certificate expiry of every kubeconfig on the target nodes (audit), read without the key leaving the host. */
import { sh } from '../../connection/shell.js';
import { certInfo } from '../../kube/cert.js';
import type { FactRequest } from '../../operations/types.js';
import type { Check, Severity } from '../../checks/check.js';
import type { AuditThresholds } from '../types.js';

/** Only the certificate line of each kubeconfig in the folder: the key never leaves the host. */
export function certProbe(dir: string): FactRequest {
  return { key: `kubeconfig-certs:${dir}`, command: sh`for f in ${dir}/*.conf; do [ -f "$f" ] || continue; printf '%s\\t%s\\n' "$f" "$(sed -n 's/^ *client-certificate-data: *//p' "$f" | head -n 1)"; done` };
}

/** One cert per line: `FILE<TAB>base64 client-certificate-data` (never the key). */
export function parseCertLines(stdout: string): { file: string; certData: string }[] {
  return stdout.split('\n').map((l) => l.split('\t')).filter((p) => p.length === 2 && p[0] && p[1]).map(([file, certData]) => ({ file: file!, certData: certData! }));
}

/** Days left on each certificate: under critDays (or expired, not yet valid, unreadable) critical, under warnDays a warning. */
export function certChecks(host: string, stdout: string, t: AuditThresholds, now = Date.now()): Check[] {
  return parseCertLines(stdout).map(({ file, certData }): Check => {
    try {
      const c = certInfo(Buffer.from(certData, 'base64').toString('utf8'), now);
      const severity: Severity = c.state !== 'valid' || c.daysLeft < t.critDays ? 'critical' : c.daysLeft < t.warnDays ? 'warning' : 'ok';
      const detail = c.state === 'valid' ? `${c.daysLeft} days left (until ${c.notAfter}), ${c.subject}` : `${c.state} (notAfter ${c.notAfter})`;
      return { check: 'kubeconfig certificate', topic: 'certificate', target: `${host} ${file}`, severity, detail, value: c.daysLeft };
    } catch (e) {
      return { check: 'kubeconfig certificate', topic: 'certificate', target: `${host} ${file}`, severity: 'critical', detail: `unreadable certificate: ${(e as Error).message}` };
    }
  });
}

/**
 * Every kubeconfig in the folder used for a real authenticated read through `server` (the
 * control-plane endpoint), by the check script the playbook installs (kubectl where present, else
 * curl with the credentials in a private folder): `FILE<TAB>EXIT<TAB>last line it said` (on success, the client that read). The files
 * are read at once, each within THROUGH_TIMEOUT_S (1 s: under the 2 s a readiness round allows a node at the least): an endpoint that does not answer costs the
 * node's probe (which carries the other kinds' probes too) that long, not once per file.
 */
export function throughProbe(dir: string, server: string, check: string): FactRequest {
  return {
    key: `kubeconfig-through:${dir}:${server}`,
    command: sh`for f in ${dir}/*.conf; do [ -f "$f" ] || continue; ( out=$(LBDEPLOY_CHECK_TIMEOUT=${String(THROUGH_TIMEOUT_S)} ${check} "$f" ${server} 2>&1); rc=$?; printf '%s\t%s\t%s\n' "$f" "$rc" "$(printf '%s\n' "$out" | tail -n 1)" ) & done; wait`,
  };
}

const THROUGH_TIMEOUT_S = 1;

/** One check per kubeconfig: ok when the read through the endpoint worked; none at all is critical too. */
export function throughChecks(host: string, server: string, stdout: string, probeFailed?: string): Check[] {
  // The node's probe itself failed (unreachable, timed out): said as such, not as no kubeconfig.
  if (probeFailed) return [{ check: 'kubeconfig via endpoint', target: `${host} ${server}`, severity: 'critical', detail: `not read: ${probeFailed}` }];
  // Read at once, they answer in any order: reported by file.
  const rows = stdout.split('\n').map((l) => l.split('\t')).filter((p) => p.length >= 2 && p[0]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  if (rows.length === 0) return [{ check: 'kubeconfig via endpoint', target: `${host} ${server}`, severity: 'critical', detail: 'no kubeconfig on the node to read with' }];
  return rows.map(([file, rc, said]): Check => ({
    check: 'kubeconfig via endpoint', target: `${host} ${file}`,
    severity: rc === '0' ? 'ok' : 'critical',
    // On success the check's last line names the client that read (kubectl, or curl where there is no kubectl).
    detail: rc === '0' ? `read the API through ${server} with its credentials${said ? ` (${said})` : ''}` : `the read through ${server} failed (exit ${rc}): ${said || 'no output'}`,
  }));
}
