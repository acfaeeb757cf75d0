/**
 * IPVS virtual services as data: parse `ipvsadm -Sn` and `ipvsadm -ln`, compute the ipvsadm
 * commands that turn the current table into the desired one (only the differences), and render
 * the rules file that restores them at boot (`ipvsadm -R`).
 */

export type Forward = 'route' | 'masq' | 'tunnel';

export interface RealServer {
  address: string;
  port: number;
  forward: Forward;
  weight: number;
}

export interface VirtualService {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  scheduler: string;
  /** Persistence timeout in seconds, if any. */
  persistent?: number;
  realServers: RealServer[];
}

const FLAG: Record<Forward, string> = { route: '-g', masq: '-m', tunnel: '-i' };
const FORWARD_OF: Record<string, Forward> = { '-g': 'route', '--gatewaying': 'route', '-m': 'masq', '--masquerading': 'masq', '-i': 'tunnel', '--ipip': 'tunnel', Route: 'route', Masq: 'masq', Tunnel: 'tunnel' };

/** `[fd00::1]:80` or `198.18.0.1:80` -> address and port. */
export function splitHostPort(s: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`not an address:port: ${s}`);
  return { address: m[1]!, port: Number(m[2]) };
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function serviceKey(v: Pick<VirtualService, 'protocol' | 'address' | 'port'>): string {
  return `${v.protocol} ${hostPort(v.address, v.port)}`;
}

/** `ipvsadm -Sn` (the save format): one `-A` line per service, one `-a` line per real server. */
export function parseIpvsadmSave(text: string): VirtualService[] {
  const services = new Map<string, VirtualService>();
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const words = line.split(/\s+/);
    const opt = (names: string[]) => {
      const i = words.findIndex((w) => names.includes(w));
      return i >= 0 ? words[i + 1] : undefined;
    };
    const protoFlag = words.find((w) => w === '-t' || w === '-u' || w === '--tcp-service' || w === '--udp-service');
    const target = protoFlag ? words[words.indexOf(protoFlag) + 1] : undefined;
    if (!protoFlag || !target) continue;
    const protocol = protoFlag === '-u' || protoFlag === '--udp-service' ? 'udp' : 'tcp';
    const { address, port } = splitHostPort(target);
    const key = serviceKey({ protocol, address, port });
    if (words[0] === '-A' || words[0] === '--add-service') {
      const persistent = opt(['-p', '--persistent']);
      services.set(key, { protocol, address, port, scheduler: opt(['-s', '--scheduler']) ?? 'wlc', ...(persistent ? { persistent: Number(persistent) } : {}), realServers: [] });
    } else if (words[0] === '-a' || words[0] === '--add-server') {
      const rs = opt(['-r', '--real-server']);
      const svc = services.get(key);
      if (!rs || !svc) continue;
      const fwd = words.find((w) => FORWARD_OF[w] && w.startsWith('-'));
      svc.realServers.push({ ...splitHostPort(rs), forward: fwd ? FORWARD_OF[fwd]! : 'route', weight: Number(opt(['-w', '--weight']) ?? 1) });
    }
  }
  return [...services.values()];
}

/** `ipvsadm -ln`: the table as an operator reads it (also what verify checks). */
export function parseIpvsadmList(text: string): VirtualService[] {
  const out: VirtualService[] = [];
  let current: VirtualService | undefined;
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP)\s+(\S+)\s+(\S+)(?:\s+persistent\s+(\d+))?/.exec(line.trim());
    if (svc && !line.startsWith(' ')) {
      current = { protocol: svc[1] === 'UDP' ? 'udp' : 'tcp', ...splitHostPort(svc[2]!), scheduler: svc[3]!, ...(svc[4] ? { persistent: Number(svc[4]) } : {}), realServers: [] };
      out.push(current);
      continue;
    }
    const rs = /^\s*->\s+(\S+)\s+(Route|Masq|Tunnel|Local)\s+(\d+)/.exec(line);
    if (rs && current) current.realServers.push({ ...splitHostPort(rs[1]!), forward: rs[2] === 'Local' ? 'route' : FORWARD_OF[rs[2]!]!, weight: Number(rs[3]) });
  }
  return out;
}

function serviceArgs(v: VirtualService): string[] {
  return [v.protocol === 'udp' ? '-u' : '-t', hostPort(v.address, v.port), '-s', v.scheduler, ...(v.persistent ? ['-p', String(v.persistent)] : [])];
}

function serverArgs(v: VirtualService, r: RealServer): string[] {
  return [v.protocol === 'udp' ? '-u' : '-t', hostPort(v.address, v.port), '-r', hostPort(r.address, r.port), FLAG[r.forward], '-w', String(r.weight)];
}

/** ipvsadm argument lists that turn `current` into `desired`, touching only what differs. */
export function diffIpvs(desired: readonly VirtualService[], current: readonly VirtualService[]): string[][] {
  const cmds: string[][] = [];
  const cur = new Map(current.map((v) => [serviceKey(v), v]));
  const want = new Map(desired.map((v) => [serviceKey(v), v]));
  for (const [key, v] of cur) {
    if (!want.has(key)) cmds.push(['-D', v.protocol === 'udp' ? '-u' : '-t', hostPort(v.address, v.port)]);
  }
  for (const [key, v] of want) {
    const c = cur.get(key);
    if (!c) {
      cmds.push(['-A', ...serviceArgs(v)]);
      for (const r of v.realServers) cmds.push(['-a', ...serverArgs(v, r)]);
      continue;
    }
    if (c.scheduler !== v.scheduler || (c.persistent ?? 0) !== (v.persistent ?? 0)) cmds.push(['-E', ...serviceArgs(v)]);
    const rkey = (r: RealServer) => hostPort(r.address, r.port);
    const cr = new Map(c.realServers.map((r) => [rkey(r), r]));
    const wr = new Map(v.realServers.map((r) => [rkey(r), r]));
    for (const [k] of cr) if (!wr.has(k)) cmds.push(['-d', v.protocol === 'udp' ? '-u' : '-t', hostPort(v.address, v.port), '-r', k]);
    for (const [k, r] of wr) {
      const old = cr.get(k);
      if (!old) cmds.push(['-a', ...serverArgs(v, r)]);
      else if (old.forward !== r.forward || old.weight !== r.weight) cmds.push(['-e', ...serverArgs(v, r)]);
    }
  }
  return cmds;
}

/** The rules file for `ipvsadm -R` at boot (Debian: /etc/ipvsadm.rules with AUTO="true"). */
export function renderIpvsRules(desired: readonly VirtualService[]): string {
  const lines = desired.flatMap((v) => [['-A', ...serviceArgs(v)], ...v.realServers.map((r) => ['-a', ...serverArgs(v, r)])].map((a) => a.join(' ')));
  return lines.join('\n') + '\n';
}

/** One spelling per address (IPv6 compressed, lower case), so `2004:0::1` and `2004::1` compare equal. */
export function normalAddress(a: string): string {
  if (!a.includes(':')) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a.toLowerCase();
  }
}

const FORWARD_NAME: Record<Forward, string> = { route: 'Route (DR)', masq: 'Masq (NAT)', tunnel: 'Tunnel' };

/**
 * What differs between the table the inventory describes and the one the kernel has, in an
 * operator's words (one line each); empty when they match. Counters are not compared.
 */
export function describeIpvsDifferences(expected: readonly VirtualService[], actual: readonly VirtualService[]): string[] {
  const key = (v: Pick<VirtualService, 'protocol' | 'address' | 'port'>) => serviceKey({ ...v, address: normalAddress(v.address) });
  const rkey = (r: RealServer) => hostPort(normalAddress(r.address), r.port);
  const have = new Map(actual.map((v) => [key(v), v]));
  const want = new Set(expected.map(key));
  const out: string[] = [];
  for (const v of expected) {
    const name = `${v.protocol.toUpperCase()} ${hostPort(v.address, v.port)}`;
    const a = have.get(key(v));
    if (!a) {
      out.push(`${name}: missing`);
      continue;
    }
    if (a.scheduler !== v.scheduler) out.push(`${name}: scheduler ${a.scheduler}, expected ${v.scheduler}`);
    if ((a.persistent ?? 0) !== (v.persistent ?? 0)) out.push(`${name}: persistence ${a.persistent ?? 'off'}, expected ${v.persistent ?? 'off'}`);
    const ar = new Map(a.realServers.map((r) => [rkey(r), r]));
    const wr = new Set(v.realServers.map(rkey));
    for (const r of v.realServers) {
      const got = ar.get(rkey(r));
      if (!got) out.push(`${name}: real server ${hostPort(r.address, r.port)} missing (its health check may be failing)`);
      else {
        if (got.forward !== r.forward) out.push(`${name}: ${hostPort(r.address, r.port)} forwards by ${FORWARD_NAME[got.forward]}, expected ${FORWARD_NAME[r.forward]}`);
        if (got.weight !== r.weight) out.push(`${name}: ${hostPort(r.address, r.port)} weight ${got.weight}, expected ${r.weight}`);
      }
    }
    for (const [k] of ar) if (!wr.has(k)) out.push(`${name}: unexpected real server ${k}`);
  }
  for (const [k, a] of have) if (!want.has(k)) out.push(`${a.protocol.toUpperCase()} ${hostPort(a.address, a.port)}: not in the inventory`);
  return out;
}
