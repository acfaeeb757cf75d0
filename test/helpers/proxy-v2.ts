/** A PROXY protocol v2 header (TCP over IPv4), as haproxy's send-proxy-v2 writes it. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export function proxyV2Header(src: string, dst: string, srcPort: number, dstPort: number): Buffer {
  const addr = (ip: string) => {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
    return Buffer.from(parts);
  };
  const body = Buffer.alloc(12);
  addr(src).copy(body, 0);
  addr(dst).copy(body, 4);
  body.writeUInt16BE(srcPort, 8);
  body.writeUInt16BE(dstPort, 10);
  const head = Buffer.from([0x21, 0x11, 0x00, 12]); // v2 + PROXY, AF_INET + STREAM, length 12
  return Buffer.concat([PROXY_V2_SIGNATURE, head, body]);
}

/** The same bytes as a printf(1) format: every byte as \xHH. */
export function printfEscapes(bytes: Buffer): string {
  return [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}
