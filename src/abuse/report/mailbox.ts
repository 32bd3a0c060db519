// The abuse mailbox: an SMTP listener of its own (port-25 style: no AUTH,
// STARTTLS when the node has a certificate) that takes complaints to abuse@ and
// postmaster@ of the configured domains (RFC 2142), ARF feedback loops
// (RFC 5965) or plain mail alike. Each report is stored durably before the 250
// (store.ts), parsed (parse.ts: source, time and where each came from), joined
// to who held the source then (the directory, when the wiring has one), and
// then published (`abuse.report`) and handed to the abuse engine as a `report`
// signal. A report that cannot be parsed is still stored and answered 250: the
// desk reads it. A store that fails answers 451 4.3.0 and keeps nothing; a
// nearly full disk defers at MAIL (452 4.3.1).
import type { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { accept, refuse, REPLIES as R, type Clock, type Logger, type Verdict } from '../../core/index.ts';
import {
  BodyError, SmtpServer, defaultListenerOptions,
  type MailFrom, type RcptTo, type SaslExchange, type SessionInfo, type SmtpHandler, type Transaction,
} from '../../smtp/index.ts';
import { buildReceived, protocolName, traceMailbox } from '../../message/index.ts';
import type { EventBus } from '../../events/index.ts';
import type { HolderLookup } from '../../directory/index.ts';
import type { Signal, SignalSink } from '../types.ts';
import { parseReport, type ParsedReport } from './parse.ts';
import type { ReportRow, ReportStore, ReportWriter } from './store.ts';

export interface MailboxOptions {
  /** The greeting and EHLO name, and the "by" of the Received field we add. */
  hostname: string;
  /** Recipient domains (abuse@ and postmaster@ each); empty: any recipient. */
  domains: readonly string[];
  /** SIZE advertised and enforced (RFC 1870). */
  maxReportBytes: number;
  /**
   * Free space the reports' filesystem must keep (it is the data directory's: the spool lives there
   * too); below it a report is deferred with 452 4.3.1 before its data. Default: 1 GiB or four
   * largest reports, whichever is more.
   */
  minFreeBytes?: number;
}

export interface MailboxDeps {
  store: ReportStore;
  /** The provider's own space (netpolicy pools, the directory's prefixes): a Received hop from it is the source. */
  isOwn: (address: string) => boolean;
  /** Who held an address at a time; absent: reports carry no subscriber (the engine asks when it runs). */
  holders?: Pick<HolderLookup, 'holdersAt'>;
  /** The abuse engine; absent: reports are stored and published only. */
  sink?: SignalSink;
  bus?: EventBus;
  logger: Logger;
  clock: Clock;
}

const LOCAL_PARTS = new Set(['abuse', 'postmaster']);

export class AbuseMailbox implements SmtpHandler {
  private readonly opts: MailboxOptions;
  private readonly deps: MailboxDeps;
  private readonly domains: Set<string>;
  private readonly slots = new Slots(2);

  constructor(opts: MailboxOptions, deps: MailboxDeps) {
    this.opts = opts;
    this.deps = deps;
    this.domains = new Set(opts.domains.map((d) => d.toLowerCase().replace(/\.$/u, '')));
  }

  authMechanisms(): readonly string[] { return []; }
  authStart(): SaslExchange | null { return null; }
  /** Any sender (feedback loops send from <>), unless the disk is nearly full: 452 4.3.1 before the data is sent. */
  async mailFrom(_s: SessionInfo, _from: MailFrom): Promise<Verdict> {
    const free = await this.deps.store.freeBytes().catch(() => Infinity);
    const minFree = this.opts.minFreeBytes ?? Math.max(1 << 30, 4 * this.opts.maxReportBytes);
    if (free >= minFree) return accept();
    this.deps.logger.warn({ event: 'abuse-mailbox', free, minFree }, 'the reports\' filesystem is nearly full: reports deferred');
    return refuse(R.storage);
  }

  rcptTo(_s: SessionInfo, _tx: Transaction, rcpt: RcptTo): Verdict {
    const local = rcpt.localPart.toLowerCase();
    // RFC 5321 §4.5.1: <Postmaster> without a domain is always accepted.
    if (rcpt.domain === '') return local === 'postmaster' ? accept() : refuse(R.mailboxUnknown);
    if (this.domains.size === 0) return accept();
    return LOCAL_PARTS.has(local) && this.domains.has(rcpt.domain.toLowerCase().replace(/\.$/u, '')) ? accept() : refuse(R.mailboxUnknown);
  }

  async data(session: SessionInfo, tx: Transaction, body: Readable): Promise<Verdict> {
    const { store, logger } = this.deps;
    const receivedAt = this.deps.clock.now();
    const id = store.newId(receivedAt);
    let w: ReportWriter;
    try {
      w = await store.create(id);
    } catch (err) {
      body.resume();
      logger.error({ event: 'abuse-mailbox', report: id, err: String(err) }, 'cannot write the report file');
      return refuse(R.internal);
    }
    let size = 0;
    let failed: unknown = null;
    const write = async (b: Buffer): Promise<void> => { if (failed === null) await w.write(b).catch((err: unknown) => { failed = err; }); };
    try {
      await write(this.trace(session, tx, id, receivedAt));
      // Streamed to the file as it arrives (the engine stops reading the socket while a write is pending);
      // after a failed write the rest is read and dropped, so the session stays in step.
      for await (const c of body as AsyncIterable<Buffer>) {
        size += c.length;
        if (size <= this.opts.maxReportBytes) await write(c);
      }
      if (size > this.opts.maxReportBytes) { await w.abort(); return refuse(R.sizeExceeded); }
      if (failed === null) await w.commit().catch((err: unknown) => { failed = err; });
    } catch (err) {
      await w.abort().catch(() => {});
      if (err instanceof BodyError) return refuse(err.reply);
      failed = err;
    }
    if (failed !== null) {
      await w.abort().catch(() => {});
      await store.discard(id).catch(() => {});
      logger.error({ event: 'abuse-mailbox', report: id, err: String(failed) }, 'cannot write the report file');
      return refuse(R.internal);
    }
    const env = { reporter: tx.mailFrom.address, recipient: tx.rcptTo[0]?.address ?? '', clientIp: session.remoteAddress };
    const row = await this.index(id, receivedAt, env);
    if (!row) return refuse(R.internal);
    return accept(R.reportStored(id));
  }

  /**
   * Parses, joins to the holder, writes the row, then publishes and signals.
   * Null when the row could not be written; a report not answered yet
   * (`answered` false) then loses its file too: the client is told 451 and
   * sends it again. A recovered one (answered 250 before) keeps it for the next start.
   */
  private async index(id: string, receivedAt: number, env: { reporter: string; recipient: string; clientIp: string }, answered = false): Promise<ReportRow | null> {
    const { store, logger } = this.deps;
    let p: ParsedReport;
    let size: number;
    // A few parses at a time: a report is read back whole for mailparser, so this bounds the memory reports take.
    await this.slots.take();
    try {
      const file = await store.readFile(id);
      const raw = file.subarray(traceEnd(file));
      size = raw.length;
      p = await parseReport(raw, { isOwn: this.deps.isOwn, maxBytes: this.opts.maxReportBytes });
    } catch (err) {
      logger.error({ event: 'abuse-mailbox', report: id, err: String(err) }, 'cannot read the report file back');
      if (!answered) await store.discard(id).catch(() => {});
      return null;
    } finally {
      this.slots.give();
    }
    const at = p.at ?? receivedAt;
    const subscriber = p.source ? await this.holderOf(id, p, at) : null;
    const row: ReportRow = {
      id, receivedAt, kind: p.kind, feedbackType: p.feedbackType, userAgent: p.userAgent, reportedMessageId: p.reportedMessageId,
      source: p.source, sourcePort: p.sourcePort, sourceFrom: p.sourceFrom, at: p.at, atFrom: p.atFrom, subscriber,
      ...env, subject: p.subject, size,
    };
    try {
      await store.insert(row);
    } catch (err) {
      logger.error({ event: 'abuse-mailbox', report: id, err: String(err) }, 'cannot store the report');
      if (!answered) await store.discard(id).catch(() => {});
      return null;
    }
    this.deps.bus?.publish('abuse.report', { report: id, kind: p.kind, feedbackType: p.feedbackType, source: p.source, sourceFrom: p.sourceFrom, at, subscriber, subject: p.subject });
    if (p.source && this.deps.sink) {
      const s: Signal = {
        class: 'report', at, address: p.source, port: p.sourcePort, subscriber, account: null, amount: 1, origin: `mailbox:${id}`,
        detail: { report: id, kind: p.kind, feedbackType: p.feedbackType, sourceFrom: p.sourceFrom, atFrom: p.atFrom, reportedMessageId: p.reportedMessageId },
      };
      if (!this.deps.sink.ingest(s)) logger.warn({ event: 'abuse-mailbox', report: id }, 'the abuse engine\'s queue is full: the report\'s signal was dropped');
    }
    return row;
  }

  /** The one subscriber who held the source then; null when none did, several did (CGNAT without a port) or the directory failed. */
  private async holderOf(id: string, p: ParsedReport, at: number): Promise<string | null> {
    if (!this.deps.holders || !p.source) return null;
    try {
      const subs = new Set((await this.deps.holders.holdersAt(p.source, at, p.sourcePort)).map((h) => h.subscriber));
      if (subs.size > 1) this.deps.logger.info({ event: 'abuse-mailbox', report: id, source: p.source, holders: subs.size }, 'several subscribers held the source then (no port in the report)');
      return subs.size === 1 ? [...subs][0] : null;
    } catch (err) {
      this.deps.logger.error({ event: 'abuse-mailbox', report: id, err: String(err) }, 'directory lookup failed; report stored without a subscriber');
      return null;
    }
  }

  /** Return-Path and Received (RFC 5321 §4.4), as a final delivery writes them; recover() reads the envelope back from them. */
  private trace(session: SessionInfo, tx: Transaction, id: string, at: number): Buffer {
    const utf8 = !!tx.mailFrom.params.smtputf8;
    const received = buildReceived({
      heloName: session.helo ?? session.remoteAddress, clientIp: session.remoteAddress, hostname: this.opts.hostname,
      protocol: protocolName({ esmtp: session.esmtp, tls: !!session.tls, auth: false, utf8 }),
      tls: session.tls ? { version: session.tls.protocol, cipher: session.tls.cipher } : undefined,
      queueId: id, forRcpt: tx.rcptTo[0]?.address, date: new Date(at), utf8,
    });
    return Buffer.from(`Return-Path: <${traceMailbox(tx.mailFrom.address, utf8)}>\r\nReceived: ${received}\r\n`, 'utf8');
  }

  /** Indexes report files that have no row (a crash or power cut after the fsync): once each, at start. */
  async recover(): Promise<number> {
    await this.deps.store.clearTemp();
    let n = 0;
    for (const id of await this.deps.store.unindexed()) {
      const file = await this.deps.store.readFile(id);
      const head = file.subarray(0, traceEnd(file)).toString('utf8');
      const env = {
        reporter: /^Return-Path: <([^>]*)>/u.exec(head)?.[1] ?? '',
        recipient: / for <([^>]*)>/u.exec(head)?.[1] ?? '',
        clientIp: /\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]/u.exec(head)?.[1] ?? '',
      };
      const receivedAt = parseInt(id.slice(1, 10), 36); // the id is the receipt time to the ms (the Received date has seconds)
      if (await this.index(id, receivedAt, env, true)) n++;
    }
    if (n) this.deps.logger.warn({ event: 'abuse-mailbox', recovered: n }, 'report files without a row were indexed again');
    return n;
  }
}

/** A counting semaphore (parses in flight). */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) { this.free = n; }
  async take(): Promise<void> {
    if (this.free > 0) { this.free--; return; }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next(); else this.free++;
  }
}

/** Where the two trace lines we wrote end. */
function traceEnd(file: Buffer): number {
  let at = 0;
  for (let i = 0; i < 2; i++) {
    const nl = file.indexOf(10, at);
    if (nl < 0) return at;
    at = nl + 1;
  }
  return at;
}

export interface MailboxListen {
  host: string;
  port: number;
  /** The node's TLS context: STARTTLS is offered when there is one. */
  secureContext?: () => SecureContext;
}

/** The listener: recovers unindexed files, then binds. */
export async function startMailbox(opts: MailboxOptions & MailboxListen, deps: MailboxDeps): Promise<{ handler: AbuseMailbox; server: SmtpServer; port: number; close(): Promise<void> }> {
  const handler = new AbuseMailbox(opts, deps);
  await handler.recover();
  const server = new SmtpServer({
    listeners: [defaultListenerOptions({
      name: 'abuse-mailbox', host: opts.host, port: opts.port, hostname: opts.hostname, tls: opts.secureContext ? 'starttls' : 'none',
      requireTls: false, authRequiresTls: true, maxMessageSize: opts.maxReportBytes, maxRecipients: 100,
      maxConnections: 200, maxConnectionsPerIp: 20, maxConnectionsPerNetwork: 50,
    })],
    handler, logger: deps.logger, ...(opts.secureContext ? { secureContext: opts.secureContext } : {}),
  });
  await server.listen();
  const port = server.addresses()[0]?.port ?? opts.port;
  return { handler, server, port, close: () => server.close({ drainMs: 5000 }) };
}
