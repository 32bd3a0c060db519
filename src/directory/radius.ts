// The RADIUS accounting server (RFC 2866) on one UDP socket (an IPv6 wildcard
// socket takes IPv4 too). A packet from an address no client line covers, or
// whose Request Authenticator does not verify with that client's secret, is
// dropped without an answer and counted per reason. An Accounting-Response goes
// out only after every directory write of the record resolved (RFC 2866 §2: the
// server answers once it has recorded the packet); a store failure sends
// nothing, so the NAS retransmits. A retransmission (same source address and
// port, Identifier and Request Authenticator within `dedupeMs`, RFC 5080 §2.2.2)
// is answered again without being applied again.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { formatIp, parseIp, systemClock, type Clock, type Logger } from '../core/index.ts';
import type { DirectoryRepository } from './types.ts';
import { toRecord, type Refusal } from './accounting.ts';
import { AccountingApplier } from './accounting-apply.ts';
import { ACCOUNTING_REQUEST, accountingResponse, decodePacket, verifyAccountingRequest, type RadiusPacket } from './radius-codec.ts';
import { fieldsFromAttributes } from './radius-fields.ts';
import { DirectoryError } from './input.ts';
import { matchClient, type RadiusClient } from './radius-clients.ts';

/** Packets not answered, by reason. */
export type DropReason = 'unknown-client' | 'malformed' | 'not-accounting' | 'bad-authenticator' | 'busy' | 'store-error';
/** Authenticated records answered but not applied, by reason. */
export type RefuseReason = Refusal | 'malformed';

export interface SourceCounts { accepted: number; duplicates: number; dropped: Partial<Record<DropReason, number>>; refused: Partial<Record<RefuseReason, number>> }

export interface RadiusServerOptions {
  repo: DirectoryRepository;
  clients: RadiusClient[];
  clock?: Clock;
  logger: Logger;
  /** How long a request is remembered for retransmissions (RFC 5080 §2.2.2 suggests the NAS's retry span). */
  dedupeMs?: number;
  /** Requests being applied at once; beyond this new ones are dropped (the NAS retransmits). */
  maxInFlight?: number;
  /** Told of every record's outcome (the node's metrics). */
  onOutcome?: (outcome: 'accepted' | 'refused' | 'dropped', reason?: string) => void;
  applier?: AccountingApplier;
}

interface Seen { expires: number; response?: Buffer }

export class RadiusServer {
  readonly counts: SourceCounts = { accepted: 0, duplicates: 0, dropped: {}, refused: {} };
  private clients: RadiusClient[];
  private readonly o: RadiusServerOptions;
  private readonly clock: Clock;
  private readonly applier: AccountingApplier;
  private readonly seen = new Map<string, Seen>();
  private readonly dedupeMs: number;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private idle: Array<() => void> = [];
  private socket: Socket | undefined;

  constructor(o: RadiusServerOptions) {
    this.o = o;
    this.clients = o.clients;
    this.clock = o.clock ?? systemClock;
    this.applier = o.applier ?? new AccountingApplier(o.repo);
    this.dedupeMs = o.dedupeMs ?? 30_000;
    this.maxInFlight = o.maxInFlight ?? 1024;
  }

  /** New client lines (SIGHUP or a changed secret file); requests under way keep the secret they were checked with. */
  setClients(clients: RadiusClient[]): void { this.clients = clients; }

  async listen(host: string, port: number): Promise<{ port: number }> {
    const s = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket = s;
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    s.on('error', (err) => this.o.logger.error({ event: 'radius', err: String(err) }, 'RADIUS socket error'));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, host, () => { s.off('error', reject); resolve(); });
    });
    return { port: s.address().port };
  }

  /** Stops reading, then waits for the records under way (their answers go out). */
  async close(): Promise<void> {
    const s = this.socket;
    if (!s) return;
    this.socket = undefined;
    s.removeAllListeners('message');
    if (this.inFlight) await new Promise<void>((r) => this.idle.push(r));
    await new Promise<void>((r) => s.close(() => r()));
  }

  private drop(reason: DropReason, from?: string): void {
    this.counts.dropped[reason] = (this.counts.dropped[reason] ?? 0) + 1;
    this.o.onOutcome?.('dropped', reason);
    if (from) this.warnOnce(reason, from);
  }

  /** A NAS with a wrong secret or a missing client line says so in the log: once a minute per address and reason (bounded). */
  private readonly warned = new Map<string, number>();
  private warnOnce(reason: DropReason, from: string): void {
    const now = this.clock.now(), key = `${reason}|${from}`;
    if ((this.warned.get(key) ?? -Infinity) > now - 60_000) return;
    if (this.warned.size >= 1024) this.warned.delete(this.warned.keys().next().value!);
    this.warned.delete(key);
    this.warned.set(key, now);
    this.o.logger.warn({ event: 'radius', client: from, dropped: reason },
      reason === 'unknown-client' ? 'RADIUS packet from an address no client line covers; dropped' : 'RADIUS packet whose authenticator does not verify with the client\'s secret; dropped');
  }

  private onMessage(msg: Buffer, from: string, port: number): void {
    const ip = parseIp(from);
    if (!ip) return this.drop('unknown-client');
    const address = formatIp(ip); // an IPv4 peer of the dual-stack socket as IPv4: one name in keys, logs and the NAS fallback
    const client = matchClient(this.clients, address);
    if (!client) return this.drop('unknown-client', address);
    const d = decodePacket(msg);
    if (!d.ok) return this.drop('malformed');
    const p = d.packet;
    if (p.code !== ACCOUNTING_REQUEST) return this.drop('not-accounting');
    if (!verifyAccountingRequest(p, client.secret)) return this.drop('bad-authenticator', address);
    const now = this.clock.now();
    const key = `${address}|${port}|${p.identifier}|${p.authenticator.toString('hex')}`;
    this.expire(now);
    const seen = this.seen.get(key);
    if (seen) {
      this.counts.duplicates++;
      if (seen.response) this.send(seen.response, from, port);
      return; // still being applied: its answer goes out when done
    }
    if (this.inFlight >= this.maxInFlight) return this.drop('busy');
    const entry: Seen = { expires: now + this.dedupeMs };
    this.seen.set(key, entry);
    this.inFlight++;
    void this.handle(p, address, now).then((ok) => {
      if (!ok) { this.seen.delete(key); return; }
      entry.response = accountingResponse(p, client.secret);
      this.send(entry.response, from, port);
    }).finally(() => {
      if (--this.inFlight === 0) for (const r of this.idle.splice(0)) r();
    });
  }

  /** True when the packet may be answered (applied, or refused for good); false on a store failure. */
  private refuse(r: RefuseReason, address: string): true {
    this.counts.refused[r] = (this.counts.refused[r] ?? 0) + 1;
    this.o.onOutcome?.('refused', r);
    this.o.logger.debug({ event: 'radius', client: address, refused: r }, 'RADIUS accounting record refused');
    return true; // retransmitting would not make it valid
  }

  private async handle(p: RadiusPacket, address: string, arrival: number): Promise<boolean> {
    const f = fieldsFromAttributes(p.attributes);
    const r = f === 'malformed' ? 'malformed' : toRecord(f, arrival, address);
    if (typeof r === 'string') return this.refuse(r, address);
    try {
      await this.applier.apply(r);
    } catch (err) {
      if (err instanceof DirectoryError) return this.refuse('invalid', address);
      this.drop('store-error');
      this.o.logger.error({ event: 'radius', client: address, err: String(err) }, 'RADIUS accounting record not stored; not answered');
      return false;
    }
    this.counts.accepted++;
    this.o.onOutcome?.('accepted');
    return true;
  }

  private send(buf: Buffer, address: string, port: number): void {
    this.socket?.send(buf, port, address);
  }

  /** Insertion order is expiry order (one fixed window), so the oldest are at the front. */
  private expire(now: number): void {
    for (const [k, v] of this.seen) {
      if (v.expires > now && this.seen.size < 100_000) break;
      if (!v.response && v.expires > now) break; // under way: kept
      this.seen.delete(k);
    }
  }
}
