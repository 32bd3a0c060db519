// The address a portal request comes from: the connection's own, unless that is
// one of portal.trustedProxies, in which case X-Forwarded-For is read from the
// right and the first address that is not a trusted proxy is the client (every
// hop left of it could have been written by the client itself). A forwarded
// request carries no usable source port. Without trusted proxies the header is
// never read: "Am I blocked?" must not answer for an address a client typed.
import type { FastifyRequest } from 'fastify';
import { formatIp, inPrefix, parseIp } from '../../core/index.ts';

export interface ClientAddress {
  address: string;
  /** The connection's source port (behind CGNAT it names the subscriber); null when forwarded. */
  port: number | null;
  forwarded: boolean;
}

const canonical = (s: string | undefined): string | null => {
  const a = s ? parseIp(s) : null;
  return a ? formatIp(a) : null;
};

/** null: the address cannot be told (a trusted proxy forwarded something that is not an address). */
export function clientAddress(req: FastifyRequest, trustedProxies: readonly string[]): ClientAddress | null {
  const peer = canonical(req.socket.remoteAddress);
  if (!peer) return null;
  const trusted = (a: string): boolean => { const ip = parseIp(a)!; return trustedProxies.some((p) => inPrefix(p, ip)); };
  if (!trustedProxies.length || !trusted(peer)) return { address: peer, port: req.socket.remotePort ?? null, forwarded: false };
  const raw = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(raw) ? raw.join(',') : raw ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  if (!hops.length) return { address: peer, port: req.socket.remotePort ?? null, forwarded: false };
  for (let i = hops.length - 1; i >= 0; i--) {
    // "198.51.100.7", "[2001:db8::7]:443" or "198.51.100.7:5000" as some proxies write them.
    const h = hops[i].replace(/^\[([^\]]+)\](?::\d+)?$/, '$1').replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1');
    const a = canonical(h);
    if (!a) return null;
    if (!trusted(a)) return { address: a, port: null, forwarded: true };
  }
  // Every hop is a proxy of ours: the left-most is where the chain began.
  return { address: canonical(hops[0].replace(/^\[([^\]]+)\](?::\d+)?$/, '$1'))!, port: null, forwarded: true };
}
