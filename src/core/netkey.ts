// Keys for counting connections per client address and per client network. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an
// IPv4 peer) is the IPv4 address, so one client has one key whichever way it came.
// Networks are masked on the bytes and printed in RFC 5952 form.
import { isIPv4, isIPv6 } from 'node:net';
import { zeroRunLength, zeroRunStart } from './ipv6.ts';

export interface ClientKeys {
  /** The address, normalised ("192.0.2.7", "2001:db8::7"). */
  address: string;
  /** Its network: "192.0.2.0/24", "2001:db8:0:1::/64". */
  network: string;
}

/** The keys of a peer address, or null when it is not an IP address. */
export function clientKeys(ip: string, v4len: number, v6len: number): ClientKeys | null {
  const b = ipBytes(ip);
  if (!b) return null;
  const len = b.length === 4 ? v4len : v6len;
  return { address: format(b), network: `${format(mask(b, len))}/${len}` };
}

function ipBytes(input: string): Uint8Array | null {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIPv4(s)) return Uint8Array.from(s.split('.'), Number);
  if (!isIPv6(s)) return null;
  const groups: number[] = [];
  const lastColon = s.lastIndexOf(':');
  let tail: number[] = [];
  if (s.includes('.', lastColon)) {
    const v4 = s.slice(lastColon + 1).split('.').map(Number);
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    s = s.slice(0, lastColon + 1) + 'x'; // a placeholder group for the split below
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, ''];
  const hs = head ? head.split(':') : [];
  const ts = rest ? rest.split(':') : [];
  if (tail.length) (ts.length ? ts : hs).pop();
  const parsed = (l: string[]): number[] => l.map((g) => parseInt(g, 16));
  const fill = 8 - hs.length - ts.length - tail.length;
  groups.push(...parsed(hs), ...new Array<number>(Math.max(0, fill)).fill(0), ...parsed(ts), ...tail);
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    b[2 * i] = groups[i] >> 8;
    b[2 * i + 1] = groups[i] & 0xff;
  }
  const mapped = b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0);
  return mapped ? b.slice(12) : b;
}

function mask(b: Uint8Array, len: number): Uint8Array {
  return b.map((x, i) => x & ((0xff00 >> Math.max(0, Math.min(8, len - 8 * i))) & 0xff));
}

function format(b: Uint8Array): string {
  if (b.length === 4) return b.join('.');
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  const hex = (x: number[]): string => x.map((n) => n.toString(16)).join(':');
  const at = zeroRunStart(g);
  return at < 0 ? hex(g) : `${hex(g.slice(0, at))}::${hex(g.slice(at + zeroRunLength(g, at)))}`;
}
