/** A VRRP advert of a foreign router, for tests that plant one on the lab's segment. */

/** VRRPv2 advertisement (RFC 3768): no authentication, one IPv4 address, checksum filled in. */
export function vrrpV2Advert(vrid: number, priority: number, address: string): string {
  const b = [0x21, vrid, priority, 1, 0, 1, 0, 0, ...address.split('.').map(Number), 0, 0, 0, 0, 0, 0, 0, 0];
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const ck = ~sum & 0xffff;
  b[6] = ck >> 8;
  b[7] = ck & 0xff;
  return Buffer.from(b).toString('hex');
}

/**
 * A shell command for a lab host: send the advert (hex) to each address over a raw protocol-112 socket
 * with perl (perl-base is on every Debian host), every 0.25 s, `count` times: bounded.
 */
export function sendAdverts(hex: string, to: string[], count: number): string {
  return `perl -MSocket -e 'socket(my $s, PF_INET, SOCK_RAW, 112) or die "raw socket: $!"; my $p = pack("H*", shift @ARGV); for (1..${count}) { for my $a (@ARGV) { send($s, $p, 0, sockaddr_in(0, inet_aton($a))) or die "send: $!" } select(undef, undef, undef, 0.25) }' ${hex} ${to.join(' ')}`;
}
