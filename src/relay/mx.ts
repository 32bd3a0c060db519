// Direct delivery: one destination per recipient domain, found in DNS the way
// RFC 5321 §5.1 says. MX records in preference order (equal preferences
// shuffled); no MX at all → the domain itself as the only host (implicit MX);
// a null MX ("MX 0 .", RFC 7505) → permanent failure 5.1.10 without trying
// anything. Each host's AAAA then A addresses are tried in turn until one
// greets us. TLS is opportunistic and unverified (Postfix's `may`): STARTTLS
// when offered, and a failed handshake falls back to plain text on the same
// address, because most MX hosts carry certificates no one could verify
// against an MX name anyway (that is what DANE and MTA-STS are for).
// Only public unicast addresses are connected to, and address literals are
// not delivered to, unless `allowPrivate` (a lab): see destinations.ts.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { REPLIES, replyLine } from '../core/index.ts';
import type { Envelope } from '../spool/index.ts';
import type { Client, ClientTimeouts } from './client.ts';
import { connectClient } from './client.ts';
import type { Connected, Destination, Route } from './route.ts';
import { LITERAL_REPLY, nonPublicRange } from './destinations.ts';

export interface MxRouteOptions {
  kind: 'mx';
  /** Port of every MX host: 25, but tests use their own. */
  port?: number;
  /** DNS servers as "ip" or "ip:port"; default the system's. */
  resolver?: { servers?: string[]; timeout?: number; tries?: number };
  /** 'opportunistic' (default) or 'none'. */
  tls?: 'none' | 'opportunistic';
  /** Transactions in flight per recipient domain (default 20). */
  perDomain?: number;
  /** Try IPv6 addresses (default true; AAAA before A). */
  ipv6?: boolean;
  /** Addresses tried per attempt before giving up for now (default 5, like Postfix). */
  maxAddresses?: number;
  /** A lab: connect to loopback, private and other non-public addresses, and deliver to address literals (default false). */
  allowPrivate?: boolean;
}

export interface MxHost { name: string; addresses: string[] }

export type Resolution = { ok: true; hosts: MxHost[] } | { ok: false; reply: string };

type Lookup = { ok: true; value: string[] } | { ok: false; nxdomain: boolean; nodata: boolean; code: string };

async function lookup(fn: () => Promise<string[]>): Promise<Lookup> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? err);
    return { ok: false, nxdomain: code === 'ENOTFOUND', nodata: code === 'ENODATA', code };
  }
}

/** The ASCII form of a recipient's domain ('' when it cannot be one), or an address literal as written. */
export function destinationOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '';
  const domain = address.slice(at + 1);
  if (domain.startsWith('[') && domain.endsWith(']')) return domain.toLowerCase();
  return domainToASCII(domain).replace(/\.$/, '');
}

export async function resolveDestination(r: Resolver, domain: string, ipv6: boolean, random: () => number): Promise<Resolution> {
  if (!domain) return { ok: false, reply: replyLine(REPLIES.relayBadMailbox) };
  if (domain.startsWith('[')) {
    const lit = domain.slice(1, -1).replace(/^ipv6:/, '');
    if (!isIP(lit)) return { ok: false, reply: replyLine(REPLIES.relayBadLiteral) };
    return { ok: true, hosts: [{ name: lit, addresses: [lit] }] };
  }
  const mx = await lookup(async () => {
    const recs = await r.resolveMx(domain);
    // RFC 7505 §3: a null MX is the only record; a stray "." among real ones is just skipped.
    if (recs.length === 1 && recs[0].exchange === '') return [''];
    const sorted = recs.filter((m) => m.exchange !== '').map((m) => ({ ...m, k: random() }));
    sorted.sort((a, b) => a.priority - b.priority || a.k - b.k);
    return sorted.map((m) => m.exchange.replace(/\.$/, ''));
  });
  let names: string[];
  if (mx.ok) {
    if (mx.value.length === 1 && mx.value[0] === '') return { ok: false, reply: replyLine(REPLIES.relayNullMx(domain)) };
    names = mx.value;
  } else if (mx.nodata) {
    names = [domain]; // RFC 5321 §5.1: no MX, the domain is its own host
  } else if (mx.nxdomain) {
    return { ok: false, reply: replyLine(REPLIES.relayNoDomain(domain)) };
  } else {
    return { ok: false, reply: replyLine(REPLIES.relayMxLookup(domain, mx.code)) };
  }
  const hosts: MxHost[] = [];
  let temporary = '';
  const found = await Promise.all(names.map(async (name) => {
    const [v6, v4] = await Promise.all([
      ipv6 ? lookup(() => r.resolve6(name)) : Promise.resolve<Lookup>({ ok: true, value: [] }),
      lookup(() => r.resolve4(name)),
    ]);
    return { name, v6, v4 };
  }));
  for (const { name, v6, v4 } of found) {
    for (const l of [v6, v4]) if (!l.ok && !l.nodata && !l.nxdomain) temporary = l.code;
    const addresses = [...(v6.ok ? v6.value : []), ...(v4.ok ? v4.value : [])];
    if (addresses.length) hosts.push({ name, addresses });
  }
  if (hosts.length) return { ok: true, hosts };
  if (temporary) return { ok: false, reply: replyLine(REPLIES.relayHostLookup(names.join(', '), temporary)) };
  return { ok: false, reply: replyLine(REPLIES.relayNoAddress(domain)) };
}

export class MxRoute implements Route {
  readonly limit: number;
  private readonly resolver: Resolver;
  private readonly port: number;
  private readonly tls: 'none' | 'opportunistic';
  private readonly ipv6: boolean;
  private readonly maxAddresses: number;
  private readonly allowPrivate: boolean;
  private readonly ehloName: string;
  private readonly timeouts: ClientTimeouts;
  private readonly random: () => number;

  constructor(o: MxRouteOptions, ehloName: string, timeouts: ClientTimeouts, random: () => number) {
    this.limit = Math.max(1, o.perDomain ?? 20);
    this.resolver = new Resolver({ timeout: o.resolver?.timeout ?? 5000, tries: o.resolver?.tries ?? 3 });
    if (o.resolver?.servers?.length) this.resolver.setServers(o.resolver.servers);
    this.port = o.port ?? 25;
    this.tls = o.tls ?? 'opportunistic';
    this.ipv6 = o.ipv6 ?? true;
    this.maxAddresses = Math.max(1, o.maxAddresses ?? 5);
    this.allowPrivate = o.allowPrivate ?? false;
    this.ehloName = ehloName;
    this.timeouts = timeouts;
    this.random = random;
  }

  split(env: Envelope, indices: number[]): Destination[] {
    const by = new Map<string, number[]>();
    for (const i of indices) {
      const key = destinationOf(env.recipients[i].address).toLowerCase();
      const list = by.get(key);
      if (list) list.push(i); else by.set(key, [i]);
    }
    return [...by].map(([key, idx]) => ({ key, indices: idx }));
  }

  async connect(domain: string): Promise<Connected> {
    if (domain.startsWith('[') && !this.allowPrivate) return { ok: false, reply: LITERAL_REPLY };
    const res = await resolveDestination(this.resolver, domain, this.ipv6, this.random);
    if (!res.ok) return res;
    const errors: string[] = [];
    const refused: string[] = [];
    let tried = 0;
    for (const host of res.hosts) {
      for (const addr of host.addresses) {
        const range = this.allowPrivate ? null : nonPublicRange(addr);
        if (range) { refused.push(`${host.name}[${addr}] (${range})`); continue; }
        if (tried++ >= this.maxAddresses) break;
        try {
          return { ok: true, client: await this.open(host.name, addr), remote: host.name };
        } catch (err) {
          errors.push(`${host.name}[${addr}]:${this.port}: ${(err as Error).message}`);
        }
      }
    }
    // As for a host that does not answer: retried, and bounced once the queue lifetime is over (4.4.7).
    if (!errors.length) return { ok: false, reply: replyLine(REPLIES.relayNonPublic(domain, refused.join(', '))) };
    return { ok: false, reply: replyLine(REPLIES.relayNoAnswer(domain, [...errors, ...refused.map((r) => `${r} not public`)].join('; '))) };
  }

  private async open(name: string, addr: string): Promise<Client> {
    const target = { host: addr, port: this.port, rejectUnauthorized: false, ...(isIP(name) ? {} : { servername: name }) };
    try {
      return await connectClient({ ...target, tls: this.tls }, this.ehloName, this.timeouts);
    } catch (err) {
      if (this.tls === 'opportunistic' && (err as { tlsFailed?: boolean }).tlsFailed) {
        return connectClient({ ...target, tls: 'none' }, this.ehloName, this.timeouts);
      }
      throw err;
    }
  }
}
