// Addresses are stored in one canonical text form so that a lookup finds the
// row whatever spelling the abuse report used: IPv4 dotted quad (also for
// IPv4-mapped IPv6), IPv6 compressed and lower-case as RFC 5952 prints it.
import { isIP } from 'node:net';

export function canonicalIp(input: string): string | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const kind = isIP(s);
  if (kind === 4) return s;
  if (kind !== 6) return null;
  // The WHATWG URL serialiser prints IPv6 hosts in RFC 5952 form (mapped
  // IPv4 comes out as ::ffff:hhhh:hhhh and is turned back into IPv4 below).
  const host = new URL(`http://[${s.toLowerCase()}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (m) {
    const hi = parseInt(m[1], 16), lo = parseInt(m[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return host;
}

/** "IP", "IPv4:PORT" or "[IPv6]:PORT" → parts; null when it is not an address. */
export function parseEndpoint(input: string): { ip: string; port?: number } | null {
  const s = input.trim();
  const v6 = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s);
  const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(s);
  const m = v6 ?? v4;
  if (m) {
    const ip = canonicalIp(m[1]);
    const port = Number(m[2]);
    return ip && port <= 65535 ? { ip, port } : null;
  }
  const ip = canonicalIp(s);
  return ip ? { ip } : null;
}
