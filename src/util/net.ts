/** Addresses and prefixes, IPv4 and IPv6, as big integers: subnet membership and a subnet's network. */
import { isIP } from 'node:net';

function v6ToBig(a: string): bigint {
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToBig(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

function v4ToBig(a: string): bigint {
  return a.split('.').reduce((acc, p) => (acc << 8n) + BigInt(Number(p)), 0n);
}

/** The address as a number and its family's width in bits, or undefined when it is not an address. */
export function parseAddress(a: string): { value: bigint; bits: 32 | 128 } | undefined {
  const f = isIP(a);
  return f === 4 ? { value: v4ToBig(a), bits: 32 } : f === 6 ? { value: v6ToBig(a), bits: 128 } : undefined;
}

/** Is `address` inside `cidr` (address/prefix)? Different families are never inside each other. */
export function inSubnet(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const a = parseAddress(address);
  const b = parseAddress(base ?? '');
  if (!a || !b || a.bits !== b.bits) return false;
  const prefix = BigInt(bitsText === undefined ? b.bits : Number(bitsText));
  const shift = BigInt(a.bits) - prefix;
  return a.value >> shift === b.value >> shift;
}

/** The network of address/prefix, e.g. 198.18.0.100/24 -> 198.18.0.0/24, as a comparable key. */
export function subnetOf(cidr: string): string {
  const [base, bitsText] = cidr.split('/');
  const b = parseAddress(base ?? '');
  if (!b) return cidr;
  const prefix = BigInt(bitsText === undefined ? b.bits : Number(bitsText));
  const shift = BigInt(b.bits) - prefix;
  return `${b.bits === 32 ? 'v4' : 'v6'}:${((b.value >> shift) << shift).toString(16)}/${prefix}`;
}

type AddressedHost = { address: string; vars: Readonly<Record<string, unknown>> };

/** A host's addresses: its address and any listed in its `addresses` var (e.g. its IPv6 address). */
export function hostAddresses(h: AddressedHost): string[] {
  return [h.address, ...((h.vars.addresses as string[] | undefined) ?? [])];
}

/** The host's first address of one family (IPv6: usually from its `addresses` var), if it has one. */
export function familyAddress(h: AddressedHost, v6: boolean): string | undefined {
  return hostAddresses(h).find((a) => a.includes(':') === v6);
}

/** Does `ip -o addr show` list this address? IPv6 compared as numbers: 2001:2:0::201 is 2001:2::201. */
export function holdsAddress(ipAddrOutput: string, address: string): boolean {
  const family = address.includes(':') ? 'inet6' : 'inet';
  const want = parseAddress(address)?.value;
  return ipAddrOutput.split('\n').some((l) => {
    const m = new RegExp(`\\s${family}\\s+([^/\\s]+)/`).exec(l);
    return m !== null && (m[1] === address || (want !== undefined && parseAddress(m[1]!)?.value === want));
  });
}
