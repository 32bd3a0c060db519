// DNSBL listings of the provider's own addresses in use (RFC 5782): every
// interval, each address (IPv4 reversed octets, IPv6 reversed nibbles) is asked
// of each configured zone through the configured resolvers. An A record in
// 127.0.0.0/8 is a listing; 127.255.255.x is the zone refusing the query
// (Spamhaus's "public resolver" and "too many queries" codes) and NXDOMAIN is
// no listing; a timeout or SERVFAIL tells nothing and changes nothing. An
// address newly listed (not listed at its previous check) is published as
// `dnsbl.listed` and handed to the abuse engine as a `dnsbl` signal, with the
// zone's TXT reason (client text: encoded). A round is capped and continues
// where the previous one stopped; queries run a few at a time, spread over part
// of the interval, so a large space never bursts at a public zone.
import { Resolver } from 'node:dns/promises';
import { visible, type Clock, type Logger } from '../core/index.ts';
import { formatIp, maskIp, parseIp } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Db, DbMigration } from '../store/index.ts';
import type { SignalSink } from './types.ts';

export const DNSBL_MIGRATIONS: readonly DbMigration[] = [{
  id: 'abuse-dnsbl/001-listings',
  sqlite: 'CREATE TABLE abuse_dnsbl_listings (zone TEXT NOT NULL, address TEXT NOT NULL, answer TEXT NOT NULL, since BIGINT NOT NULL, PRIMARY KEY (zone, address))',
  postgres: 'CREATE TABLE abuse_dnsbl_listings (zone TEXT NOT NULL, address TEXT NOT NULL, answer TEXT NOT NULL, since BIGINT NOT NULL, PRIMARY KEY (zone, address))',
}];

/** Where the listings found stand between restarts (only listings are kept: no row is "not listed"). */
export interface DnsblState {
  listed(): Promise<Array<{ zone: string; address: string }>>;
  set(zone: string, address: string, listing: { answer: string; since: number } | null): Promise<void>;
}

/** One standing listing of one of our addresses in an outside zone. */
export interface DnsblListing { zone: string; address: string; answer: string; since: number }

/** The standing listings of some addresses (the "Am I blocked?" answer: policy.explain). */
export interface DnsblListings {
  of(addresses: readonly string[]): Promise<DnsblListing[]>;
}

/** The listings in the state store, so that a restart does not signal a listing it already signalled. */
export async function dnsblStateStore(store: { readonly db: Db; migrate(m: readonly DbMigration[]): Promise<void> }): Promise<DnsblState & DnsblListings> {
  await store.migrate(DNSBL_MIGRATIONS);
  const db = store.db;
  return {
    listed: async () => (await db.all<{ zone: string; address: string }>('SELECT zone, address FROM abuse_dnsbl_listings')).map((r) => ({ zone: r.zone, address: r.address })),
    async of(addresses) {
      const list = [...new Set(addresses)].slice(0, 16);
      if (!list.length) return [];
      const rows = await db.all<{ zone: string; address: string; answer: string; since: number }>(
        `SELECT zone, address, answer, since FROM abuse_dnsbl_listings WHERE address IN (${list.map(() => '?').join(', ')}) ORDER BY zone, address`, list);
      return rows.map((r) => ({ zone: r.zone, address: r.address, answer: r.answer, since: Number(r.since) }));
    },
    async set(zone, address, l) {
      if (!l) { await db.run('DELETE FROM abuse_dnsbl_listings WHERE zone = ? AND address = ?', [zone, address]); return; }
      await db.run('INSERT INTO abuse_dnsbl_listings (zone, address, answer, since) VALUES (?, ?, ?, ?) ON CONFLICT (zone, address) DO UPDATE SET answer = excluded.answer',
        [zone, address, l.answer, l.since]);
    },
  };
}

export interface DnsblOptions {
  zones: readonly string[];
  /** "host" or "host:port" ("[v6]:port"); the system's resolvers when empty. */
  servers: readonly string[];
  intervalMs: number;
  /** The provider's addresses in use: IPv4 single hosts and IPv6 addresses or prefixes (a prefix is asked by its first address). */
  addresses: () => Promise<readonly string[]>;
  /** Addresses per round at most (default 10 000); the next round goes on from there. */
  maxPerRound?: number;
  /** Queries in flight at once (default 8). */
  concurrency?: number;
  /** The share of the interval a full round's query starts are spread over, at most 1 s apart (default 0.5; 0: as fast as the concurrency allows). */
  spread?: number;
  /** Per query (default 5000 ms), one try per server. */
  timeoutMs?: number;
  /** Listings kept across restarts; absent: in memory only (a restart signals a standing listing again). */
  state?: DnsblState;
  bus?: EventBus;
  sink?: SignalSink;
  logger: Logger;
  clock: Clock;
}

export type DnsblAnswer =
  | { state: 'listed'; answer: string }
  | { state: 'not-listed' }
  | { state: 'refused'; answer: string }
  | { state: 'unknown'; why: string };

export interface RoundResult { checked: number; listed: number; newlyListed: number; delisted: number; unknown: number; refused: number }

const MAX_REASON = 512;
/** Spread queries start at most this far apart (a small space is not dragged over half an hour). */
const MAX_GAP_MS = 1000;

/** The RFC 5782 query name of an address in a zone; null for what is no address. */
export function dnsblName(address: string, zone: string): string | null {
  const a = parseIp(address);
  if (!a) return null;
  if (a.v === 4) return `${[...a.b].reverse().join('.')}.${zone}`;
  const nibbles: string[] = [];
  for (const byte of a.b) nibbles.push((byte >> 4).toString(16), (byte & 15).toString(16));
  return `${nibbles.reverse().join('.')}.${zone}`;
}

/** What is asked for an address source's entry: an IPv4 host, or an IPv6 address (a prefix by its first address); null otherwise. */
export function queryAddress(entry: string): string | null {
  const [addr, len] = entry.split('/');
  const a = parseIp(addr);
  if (!a) return null;
  const bits = len === undefined ? (a.v === 4 ? 32 : 128) : Number(len);
  if (a.v === 4) return bits === 32 ? formatIp(a) : null;
  return Number.isInteger(bits) && bits >= 0 && bits <= 128 ? formatIp(maskIp(a, bits)) : null;
}

export class DnsblChecker {
  private readonly o: DnsblOptions;
  private readonly resolver: Resolver;
  /** "zone address" → listed at the last check that told something. */
  private readonly listed = new Map<string, boolean>();
  private readonly warned = new Set<string>();
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RoundResult> | null = null;
  private stopped = false;
  private loaded = false;
  /** Wakes the workers sleeping between spread queries (stop does not wait out a sleep). */
  private readonly sleepers = new Set<() => void>();

  constructor(o: DnsblOptions) {
    this.o = o;
    this.resolver = new Resolver({ timeout: o.timeoutMs ?? 5000, tries: 1 });
    if (o.servers.length) this.resolver.setServers([...o.servers]);
  }

  /** The first round at once, then one per interval (never two at a time). */
  start(): void {
    this.stopped = false;
    const tick = (): void => {
      if (this.stopped) return;
      const began = this.o.clock.now();
      void this.round().catch((err: unknown) => this.o.logger.error({ event: 'dnsbl', err: String(err) }, 'DNSBL round failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, Math.max(1000, began + this.o.intervalMs - this.o.clock.now())).unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const wake of this.sleepers) wake();
    await this.running?.catch(() => {});
    this.resolver.cancel();
  }

  /** One round (tests call it directly). */
  round(): Promise<RoundResult> {
    if (!this.running) this.running = this.runRound().finally(() => { this.running = null; });
    return this.running;
  }

  private async runRound(): Promise<RoundResult> {
    if (!this.loaded && this.o.state) {
      for (const l of await this.o.state.listed()) this.listed.set(`${l.zone} ${l.address}`, true);
      this.loaded = true;
    }
    const all = [...new Set((await this.o.addresses()).map(queryAddress).filter((a): a is string => a !== null))].sort();
    const max = this.o.maxPerRound ?? 10_000;
    if (this.cursor >= all.length) this.cursor = 0;
    const batch = all.length <= max ? all : [...all, ...all].slice(this.cursor, this.cursor + max);
    this.cursor = all.length <= max ? 0 : (this.cursor + max) % all.length;
    const tasks = batch.flatMap((address) => this.o.zones.map((zone) => ({ address, zone })));
    const r: RoundResult = { checked: tasks.length, listed: 0, newlyListed: 0, delisted: 0, unknown: 0, refused: 0 };
    const gap = tasks.length ? Math.min(MAX_GAP_MS, (this.o.intervalMs * (this.o.spread ?? 0.5)) / tasks.length) : 0;
    let next = 0;
    const t0 = Date.now();
    const worker = async (): Promise<void> => {
      while (!this.stopped) {
        const i = next++;
        if (i >= tasks.length) return;
        // Query i starts no earlier than i gaps into the round, whichever worker takes it.
        const wait = t0 + i * gap - Date.now();
        if (wait >= 1) await this.sleep(wait);
        await this.checkOne(tasks[i].address, tasks[i].zone, r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 8, tasks.length) }, worker));
    this.o.logger.info({ event: 'dnsbl', ...r, addresses: all.length }, 'DNSBL round done');
    return r;
  }

  private async remember(zone: string, address: string, l: { answer: string; since: number } | null): Promise<void> {
    try { await this.o.state?.set(zone, address, l); } catch (err) {
      this.o.logger.error({ event: 'dnsbl', zone, address, err: String(err) }, 'cannot record the listing state');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      const done = (): void => { clearTimeout(t); this.sleepers.delete(done); res(); };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private async checkOne(address: string, zone: string, r: RoundResult): Promise<void> {
    const a = await this.query(address, zone);
    const key = `${zone} ${address}`;
    const was = this.listed.get(key) ?? false;
    if (a.state === 'unknown') { r.unknown++; return; }
    if (a.state === 'refused') {
      r.refused++;
      this.warnOnce(`${zone} ${a.answer}`, { zone, answer: a.answer }, 'the DNSBL zone refused the query (an error code, not a listing): check abuse.dnsbl.servers');
      return;
    }
    if (a.state === 'not-listed') {
      this.listed.set(key, false);
      if (!was) return;
      r.delisted++;
      this.o.logger.info({ event: 'dnsbl-delisted', address, zone }, 'no longer listed');
      await this.remember(zone, address, null);
      return;
    }
    r.listed++;
    this.listed.set(key, true);
    if (was) return;
    r.newlyListed++;
    // Recorded before it is signalled: a crash in between loses one signal, never repeats one.
    await this.remember(zone, address, { answer: a.answer, since: this.o.clock.now() });
    const reason = await this.reason(address, zone);
    this.o.bus?.publish('dnsbl.listed', { address, zone, answer: a.answer, reason });
    this.o.sink?.ingest({
      class: 'dnsbl', at: this.o.clock.now(), address, port: null, subscriber: null, account: null, amount: 1, origin: `dnsbl:${zone}`,
      detail: { zone, answer: a.answer, reason: reason === null ? null : visible(reason) },
    });
  }

  /** The A records asked of the zone, judged per RFC 5782. */
  async query(address: string, zone: string): Promise<DnsblAnswer> {
    const name = dnsblName(address, zone);
    if (!name) return { state: 'unknown', why: 'not an address' };
    let answers: string[];
    try {
      answers = await this.resolver.resolve4(name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOTFOUND' || code === 'ENODATA') return { state: 'not-listed' };
      return { state: 'unknown', why: code || String(err) };
    }
    const sorted = [...answers].sort();
    const refused = sorted.filter((x) => x.startsWith('127.255.255.'));
    const listing = sorted.filter((x) => x.startsWith('127.') && !x.startsWith('127.255.255.'));
    if (listing.length) return { state: 'listed', answer: listing.join(',') };
    if (refused.length) return { state: 'refused', answer: refused.join(',') };
    // Outside 127/8: a resolver that rewrites NXDOMAIN to an address of its own; no listing.
    this.warnOnce(`${zone} outside`, { zone, answer: sorted.join(',') }, 'the DNSBL answer is outside 127.0.0.0/8 (a resolver rewriting NXDOMAIN?); taken as no listing');
    return { state: 'unknown', why: 'answer outside 127/8' };
  }

  private async reason(address: string, zone: string): Promise<string | null> {
    try {
      const txt = await this.resolver.resolveTxt(dnsblName(address, zone)!);
      const text = txt.map((chunks) => chunks.join('')).join(' ; ');
      return text ? text.slice(0, MAX_REASON) : null;
    } catch {
      return null;
    }
  }

  private warnOnce(key: string, fields: Record<string, unknown>, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.logger.warn({ event: 'dnsbl', ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? visible(v) : v])) }, msg);
  }
}
