// Keys for counting connections per client address and per client network. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an
// IPv4 peer) is the IPv4 address, so one client has one key whichever way it came.
// Networks are masked on the bytes and printed in RFC 5952 form.
import { formatIp, parseIp, prefixKey } from './ip.ts';

export interface ClientKeys {
  /** The address, normalised ("192.0.2.7", "2001:db8::7"). */
  address: string;
  /** Its network: "192.0.2.0/24", "2001:db8:0:1::/64". */
  network: string;
}

/** The keys of a peer address, or null when it is not an IP address. */
export function clientKeys(ip: string, v4len: number, v6len: number): ClientKeys | null {
  const a = parseIp(ip);
  return a && { address: formatIp(a), network: prefixKey(a, v4len, v6len) };
}
