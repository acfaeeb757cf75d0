/** OpenSSH known_hosts: parsing and host key verification (plain and hashed host names). */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { globToRegExp } from '../util/glob.js';

export interface KnownHostEntry {
  /** Host patterns as written (`host`, `[host]:port`, or one hashed `|1|salt|hash`). */
  patterns: string[];
  keyType: string;
  /** The public key blob, as the server sends it in the key exchange. */
  key: Buffer;
  marker?: '@revoked' | '@cert-authority';
  line: number;
}

export type HostKeyVerdict = 'match' | 'mismatch' | 'unknown' | 'revoked';

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) return;
    entries.push({ patterns: hosts.split(','), keyType, key: Buffer.from(b64, 'base64'), marker, line: i + 1 });
  });
  return entries;
}

/** The name under which OpenSSH records a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    const want = Buffer.from(hash, 'base64');
    return want.length === mac.length && timingSafeEqual(mac, want);
  }
  if (pattern.startsWith('!')) return false;
  if (!/[*?]/.test(pattern)) return pattern === name;
  return globToRegExp(pattern).test(name);
}

function hostMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.patterns.some((p) => p.startsWith('!') && patternMatches(p.slice(1), name))) return false;
  return entry.patterns.some((p) => patternMatches(p, name));
}

/** Decide whether a presented key is the recorded one for host:port. */
export function verifyHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && hostMatches(e, name));
  if (mine.some((e) => e.marker === '@revoked' && e.key.equals(key))) return 'revoked';
  const plain = mine.filter((e) => e.marker === undefined);
  if (plain.length === 0) return 'unknown';
  return plain.some((e) => e.key.equals(key)) ? 'match' : 'mismatch';
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

/** One known_hosts line for a newly accepted key. */
export function formatKnownHostsLine(host: string, port: number, key: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}
