/**
 * Network pre-flight for a VRRP cluster, before keepalived is changed: does VRRP (IP protocol 112) pass
 * between every pair of its nodes, and does a foreign VRRP router on the segment already advertise one
 * of its VRIDs? Each node listens on a raw protocol-112 socket (socat) for a bounded time while every
 * node sends each peer a marked probe packet; what arrived is read back as hex and parsed here (the
 * probe's mark, or VRRP adverts: version, VRID, priority, addresses). Raw packets are never printed:
 * a VRRPv2 advert carries its PASS authentication in clear.
 */
import { join, sh, type ShellCommand } from '../connection/shell.js';

/** One VRRP instance of a cluster, as the pre-flight needs it. */
export interface VrrpInstanceView {
  name: string;
  vrid: number;
  /** The VIP, without prefix. */
  vip: string;
  v6: boolean;
}

/** A cluster's VRRP as keepalived will run it. */
export interface VrrpSegment {
  interface: string;
  unicast: boolean;
  instances: VrrpInstanceView[];
  /** Each node's address per family (the one VRRP uses). */
  addresses: Record<string, { v4?: string; v6?: string }>;
}

const MARK = 'lbdeploy-preflight:';
/** The probe payload: the mark, the sender's index (4 digits) and the run's nonce (8 hex): 32 bytes. */
export const probePayload = (index: number, nonce: string) => `${MARK}${String(index).padStart(4, '0')}:${nonce}`;
const PROBE_BYTES = probePayload(0, '00000000').length;

/** The script one node runs: listen `seconds` on both families, send its probes meanwhile, print what arrived. */
export function preflightScript(seg: VrrpSegment, node: string, nodes: string[], nonce: string, seconds: number): ShellCommand {
  const families = [...new Set(seg.instances.map((i) => (i.v6 ? 6 : 4)))];
  const iface = seg.interface;
  const listen = families.map((f) => {
    const group = f === 4 ? sh`,ip-add-membership=${`224.0.0.18:${iface}`}` : sh`,ipv6-join-group=${`[ff02::12]:${iface}`}`;
    return sh`( timeout ${seconds} socat -u ${sh`IP${f}-RECV:112`}${group} - 2>/dev/null | od -An -tx1 -v | tr -d ' \n' > "$d/${f}" ) &`;
  });
  const me = nodes.indexOf(node);
  const sends = families.flatMap((f) => {
    const targets = seg.unicast ? nodes.filter((n) => n !== node).map((n) => seg.addresses[n]?.[f === 4 ? 'v4' : 'v6']).filter((a): a is string => !!a).map((a) => (f === 6 ? `[${a}]` : a))
      : [f === 4 ? '224.0.0.18' : `[ff02::12%${iface}]`];
    const opts = seg.unicast ? sh`` : f === 4 ? sh`,ip-multicast-if=${seg.addresses[node]?.v4 ?? '0.0.0.0'},ip-multicast-ttl=255` : sh`,ipv6-multicast-hops=255`;
    return targets.map((t) => sh`printf '%s' ${probePayload(me, nonce)} | socat -u - ${sh`IP${f}-SENDTO:`}${t}${sh`:112`}${opts} 2>/dev/null || echo "SENDFAIL ${f} ${t}"`);
  });
  return sh`command -v socat >/dev/null || { echo NO-SOCAT; exit 0; }
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
${join(listen)}
# Probes every 0.5 s while listening: a peer whose command starts late (a loaded host) still hears one.
n=0; while [ $n -lt ${Math.max(1, seconds * 2 - 1)} ]; do
sleep 0.5
${sends.length > 0 ? join(sends) : sh`true`}
n=$((n+1)); done
wait
for f in 4 6; do [ -f "$d/$f" ] && echo "V$f $(cat "$d/$f")"; done
exit 0`;
}

export interface Advert { version: number; vrid: number; priority: number; addresses: string[] }

const hexToBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const v4 = (b: Uint8Array, i: number) => `${b[i]}.${b[i + 1]}.${b[i + 2]}.${b[i + 3]}`;
function v6(b: Uint8Array, i: number): string {
  const words = Array.from({ length: 8 }, (_, k) => ((b[i + 2 * k]! << 8) | b[i + 2 * k + 1]!).toString(16));
  return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/** The probes (sender indexes with the run's nonce) and adverts in one family's received bytes. */
export function parseReceived(hex: string, family: 4 | 6, nonce: string): { probes: number[]; adverts: Advert[]; junk: boolean } {
  const b = hexToBytes(hex);
  const probes: number[] = [];
  const adverts: Advert[] = [];
  const mark = new TextEncoder().encode(MARK);
  let i = 0;
  while (i < b.length) {
    if (mark.every((c, k) => b[i + k] === c)) {
      const text = new TextDecoder().decode(b.slice(i, i + PROBE_BYTES));
      const m = /^lbdeploy-preflight:(\d{4}):([0-9a-f]{8})$/.exec(text);
      if (m && m[2] === nonce) probes.push(Number(m[1]));
      i += PROBE_BYTES;
      continue;
    }
    const version = b[i]! >> 4;
    const type = b[i]! & 0x0f;
    const count = b[i + 3] ?? 0;
    if (type !== 1 || (version !== 2 && version !== 3)) return { probes, adverts, junk: true };
    const addrLen = family === 4 ? 4 : 16;
    const len = 8 + addrLen * count + (version === 2 ? 8 : 0);
    if (i + len > b.length) return { probes, adverts, junk: true };
    const addresses = Array.from({ length: count }, (_, k) => (family === 4 ? v4(b, i + 8 + 4 * k) : v6(b, i + 8 + 16 * k)));
    adverts.push({ version, vrid: b[i + 1]!, priority: b[i + 2]!, addresses });
    i += len;
  }
  return { probes, adverts, junk: false };
}

export interface PreflightIssue {
  host: string;
  message: string;
  hint: string;
}

/** Compare an IPv6 address in any spelling. */
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase() || (a.includes(':') && expand(a) === expand(b));
function expand(a: string): string {
  const [head, tail] = a.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const mid = tail !== undefined ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...mid, ...t].map((x) => x.padStart(4, '0')).join(':');
}

/**
 * What the nodes received: a probe missing from a pair is VRRP blocked between them; an advert for one
 * of the cluster's VRIDs that does not carry exactly its VIP is a foreign router on the segment.
 */
export function evaluatePreflight(seg: VrrpSegment, nodes: string[], outputs: Map<string, string>, nonce: string): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const families = [...new Set(seg.instances.map((i) => (i.v6 ? 6 : 4)))] as (4 | 6)[];
  // A node whose command did not run (unreachable) is reported by the caller: neither receiver nor sender here.
  const ran = (n: string) => !(outputs.get(n) ?? '').startsWith('ERROR ') && !(outputs.get(n) ?? '').includes('NO-SOCAT');
  for (const node of nodes) {
    const out = outputs.get(node) ?? '';
    if (out.startsWith('ERROR ')) continue;
    if (out.includes('NO-SOCAT')) {
      issues.push({ host: node, message: `${node}: socat is not installed, so VRRP cannot be probed there`, hint: 'install socat (haproxy-keepalived\'s packages step does), then run lbdeploy preflight again' });
      continue;
    }
    for (const f of families) {
      const line = out.split('\n').find((l) => l.startsWith(`V${f} `) || l === `V${f}`);
      const { probes, adverts } = parseReceived(line?.slice(3).trim() ?? '', f, nonce);
      const vrids = seg.instances.filter((i) => (f === 6) === i.v6);
      for (const [k, from] of nodes.entries()) {
        if (from === node || probes.includes(k) || !ran(from)) continue;
        const a = seg.addresses[from]?.[f === 4 ? 'v4' : 'v6'];
        const b = seg.addresses[node]?.[f === 4 ? 'v4' : 'v6'];
        issues.push({
          host: node,
          message: `VRRP (IP protocol 112, IPv${f}) from ${from}${a ? ` (${a})` : ''} does not reach ${node}${b ? ` (${b})` : ''} on ${seg.interface}: VRID ${vrids.map((i) => i.vrid).join(', ')} would elect two masters`,
          hint: `allow IP protocol 112 between the LB nodes in both directions (on ${node}, e.g. ${f === 4 ? 'iptables' : 'ip6tables'} -I INPUT -p 112 -j ACCEPT; and on any firewall or security group between them)`,
        });
      }
      for (const inst of vrids) {
        const foreign = adverts.filter((ad) => ad.vrid === inst.vrid && !(ad.addresses.length === 1 && same(ad.addresses[0]!, inst.vip)));
        const seen = new Set<string>();
        for (const ad of foreign) {
          const key = ad.addresses.join(',');
          if (seen.has(key)) continue;
          seen.add(key);
          issues.push({
            host: node,
            message: `a foreign VRRP router already advertises VRID ${inst.vrid} on ${node}'s segment (VRRPv${ad.version}, priority ${ad.priority}, addresses ${ad.addresses.join(', ') || 'none'}): ${inst.name} (${inst.vip}) would fight it for the VIP`,
            hint: `give ${inst.name} a virtual_router_id no other router on the segment uses`,
          });
        }
      }
    }
  }
  return issues;
}

/** The VRIDs keepalived runs on a node now (its keepalived.conf), one per line: the pre-flight is needed only where they change. */
export const CURRENT_VRIDS = sh`sed -n 's/^ *virtual_router_id *\\([0-9][0-9]*\\).*/\\1/p' /etc/keepalived/keepalived.conf 2>/dev/null; true`;

/** Does any node run other VRIDs than the cluster will (a new cluster, a new node, a changed id)? */
export function vridsChange(seg: VrrpSegment, current: readonly string[]): boolean {
  const want = seg.instances.map((i) => i.vrid).sort((a, b) => a - b).join(' ');
  return current.some((out) => out.split('\n').map((l) => l.trim()).filter(Boolean).map(Number).sort((a, b) => a - b).join(' ') !== want);
}
