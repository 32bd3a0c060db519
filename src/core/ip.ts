// Client addresses as every part keys them (limits, the engine's connection counts):
// IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports for IPv4 peers)
// is the IPv4 address, so one client has one key; prefixes are masked on the bytes
// and printed in RFC 5952 form so that every node (and Redis) sees the same key for
// the same /24, /64 or /56.
import { isIPv4, isIPv6 } from 'node:net';
import { zeroRunLength, zeroRunStart } from './ipv6.ts';

export interface IpAddr {
  readonly v: 4 | 6;
  readonly b: Uint8Array;
}

function parseV4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) out[at + i] = Number(parts[i]);
  return true;
}

export function parseIp(input: string): IpAddr | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIPv4(s)) {
    const b = new Uint8Array(4);
    parseV4(s, b, 0);
    return { v: 4, b };
  }
  if (!isIPv6(s)) return null;
  const b = new Uint8Array(16);
  let tail = 16;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    parseV4(s.slice(lastColon + 1), b, 12);
    s = s.slice(0, lastColon + 1) + '0:0'; // placeholder groups, overwritten below
    tail = 12;
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const hs = head ? head.split(':') : [];
  const ts = rest ? rest.split(':') : [];
  const groups = new Array<number>(8).fill(0);
  hs.forEach((g, i) => { groups[i] = parseInt(g, 16); });
  ts.forEach((g, i) => { groups[8 - ts.length + i] = parseInt(g, 16); });
  for (let i = 0; i < tail / 2; i++) {
    b[2 * i] = groups[i] >> 8;
    b[2 * i + 1] = groups[i] & 0xff;
  }
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  return mapped ? { v: 4, b: b.slice(12) } : { v: 6, b };
}

export function formatIp(a: IpAddr): string {
  if (a.v === 4) return `${a.b[0]}.${a.b[1]}.${a.b[2]}.${a.b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((a.b[2 * i] << 8) | a.b[2 * i + 1]);
  // RFC 5952 §4.2: compress the longest run (first on a tie) of two or more zero groups.
  const best = zeroRunStart(g);
  const hex = (x: number[]): string => x.map((n) => n.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + zeroRunLength(g, best)))}`;
}

export function maskIp(a: IpAddr, len: number): IpAddr {
  const b = new Uint8Array(a.b.length);
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, len - 8 * i));
    b[i] = a.b[i] & ((0xff00 >> bits) & 0xff);
  }
  return { v: a.v, b };
}

/** "203.0.113.0/24" or "2001:db8:0:100::/56" for the address's family. */
export function prefixKey(a: IpAddr, v4len: number, v6len: number): string {
  const len = a.v === 4 ? v4len : v6len;
  return `${formatIp(maskIp(a, len))}/${len}`;
}

/** True when `a` lies in `prefix` ("192.0.2.0/24", "2001:db8::/32", or a bare address); false for a prefix that does not parse. */
export function inPrefix(prefix: string, a: IpAddr): boolean {
  const slash = prefix.indexOf('/');
  const n = parseIp(slash < 0 ? prefix : prefix.slice(0, slash));
  if (!n || n.v !== a.v) return false;
  const max = a.v === 4 ? 32 : 128;
  const bits = slash < 0 ? max : Number(prefix.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return false;
  const x = maskIp(n, bits).b, y = maskIp(a, bits).b;
  return x.every((v, i) => v === y[i]);
}
