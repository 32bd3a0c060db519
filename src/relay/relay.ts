// The queue runner: takes messages from active/ (at start, on every commit,
// and when a deferred one falls due), splits each message's open recipients
// by destination (the smarthost, or each recipient domain in MX mode), runs
// one transaction per destination over reused connections, and files each
// recipient's outcome: 2xx done, 4xx deferred with backoff, 5xx (or still 4xx
// past the maximum queue lifetime) failed. Failures are reported to the
// sender in a DSN queued in the same spool before the outcome is recorded
// (a crash in between repeats a notice, never loses one); a message whose
// recipients are all final is then deleted.
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Clock, Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import { REPLIES, replyLine, systemClock, silentLogger } from '../core/index.ts';
import type { Envelope, Spool, StatusRecord } from '../spool/index.ts';
import { BodyDamaged } from '../spool/index.ts';
import type { ClientTimeouts, SmarthostOptions } from './client.ts';
import type { DsnEntry, DsnKind, DsnSpec } from './dsn.ts';
import { dsnEnvelope, dsnMessage, statusOf } from './dsn.ts';
import type { MxRouteOptions } from './mx.ts';
import { MxRoute } from './mx.ts';
import type { Hop } from './pool.ts';
import { Pool } from './pool.ts';
import type { Destination, Route } from './route.ts';
import { SmarthostRoute } from './route.ts';

export interface RetryOptions {
  /** Seconds to wait after the 1st, 2nd, … deferral; the last value repeats. */
  schedule?: number[];
  /** Seconds after acceptance when deferred recipients are given up. */
  maxAge?: number;
  /** ± fraction applied to each delay, so a backlog does not retry in lockstep. */
  jitter?: number;
}

/** A recipient's outcome: delivered (2xx), deferred for a retry (4xx), or failed for good (5xx, or expired). */
export type RelayOutcome = 'sent' | 'deferred' | 'bounced';


export type RelayRoute = ({ kind: 'smarthost' } & SmarthostOptions) | MxRouteOptions;

export interface DsnOptions {
  /** Name in MAILER-DAEMON@ and Reporting-MTA; default the EHLO name. */
  hostname?: string;
  /** Seconds after acceptance when one delay warning goes out; 0 = never. Default 4 h. */
  delayWarning?: number;
  /** A failure notice returns the whole message up to this size (bytes), else its headers. Default 10 MB. */
  returnLimit?: number;
}

export interface RelayOptions {
  spool: Spool;
  /** Where mail goes; `smarthost` alone is the older spelling of { kind: 'smarthost', … }. */
  route?: RelayRoute;
  smarthost?: SmarthostOptions;
  ehloName: string;
  /** Messages in delivery at once. */
  concurrency?: number;
  retry?: RetryOptions;
  dsn?: DsnOptions;
  logger?: Logger;
  clock?: Clock;
  timeouts?: Partial<ClientTimeouts>;
  /** How often deferred/ is checked for messages that fell due (real time, ms). */
  pollMs?: number;
  /** Messages per connection before it is closed, and how long an idle one is kept (ms). */
  maxPerConnection?: number;
  idleMs?: number;
  random?: () => number;
  /**
   * DKIM (RFC 6376), applied last: gets the message as it will be sent and returns the
   * header field(s) to put in front, or '' when none of our keys covers its author.
   */
  sign?: (message: Readable) => Promise<string>;
  /** Where the relay says what happened: relay.outcome per recipient per attempt, relay.attempt per transaction. */
  bus?: EventBus;
}

const DEFAULT_SCHEDULE = [60, 300, 900, 1800, 3600, 7200, 14400];
const DESTINATIONS_PER_MESSAGE = 10;

/** One recipient's result of an attempt. */
interface Outcome {
  reply: string;
  /** The host that gave the reply; absent when it was made up here. */
  remote?: string;
  /** That host announced DSN, so it reports success itself (RFC 3461 §4). */
  remoteDsn?: boolean;
}

/** NOTIFY says whether the sender wants this kind of notice; none given = FAILURE,DELAY (RFC 3461 §4.1). */
function wants(notify: readonly string[] | undefined, what: 'FAILURE' | 'DELAY' | 'SUCCESS'): boolean {
  if (!notify?.length) return what !== 'SUCCESS';
  return !notify.includes('NEVER') && notify.includes(what);
}

export class Relay {
  private readonly spool: Spool;
  private readonly sign: RelayOptions['sign'];
  private readonly bus: EventBus | undefined;
  private readonly route: Route;
  private readonly concurrency: number;
  private readonly schedule: number[];
  private readonly maxAgeMs: number;
  private readonly jitter: number;
  private readonly hostname: string;
  private readonly delayWarningMs: number;
  private readonly returnLimit: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly random: () => number;
  private readonly pool: Pool;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private running = false;
  private unsubscribe: (() => void) | null = null;
  private poller: NodeJS.Timeout | null = null;
  private promoting = false;

  constructor(o: RelayOptions) {
    this.spool = o.spool;
    this.sign = o.sign;
    this.bus = o.bus;
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.schedule = o.retry?.schedule?.length ? o.retry.schedule : DEFAULT_SCHEDULE;
    this.maxAgeMs = (o.retry?.maxAge ?? 5 * 86400) * 1000;
    this.jitter = o.retry?.jitter ?? 0.1;
    this.hostname = o.dsn?.hostname ?? o.ehloName;
    this.delayWarningMs = (o.dsn?.delayWarning ?? 4 * 3600) * 1000;
    this.returnLimit = o.dsn?.returnLimit ?? 10_240_000;
    this.logger = (o.logger ?? silentLogger).child({ part: 'relay' });
    this.clock = o.clock ?? systemClock;
    this.pollMs = o.pollMs ?? 1000;
    this.random = o.random ?? Math.random;
    this.pool = new Pool(o.maxPerConnection ?? 100, o.idleMs ?? 5000);
    const timeouts: ClientTimeouts = { connect: 30_000, greeting: 30_000, socket: 300_000, ...o.timeouts };
    const r = o.route ?? (o.smarthost ? { kind: 'smarthost' as const, ...o.smarthost } : undefined);
    if (!r) throw new Error('relay: a route (or smarthost) is required');
    this.route = r.kind === 'mx' ? new MxRoute(r, o.ehloName, timeouts, this.random) : new SmarthostRoute(r, o.ehloName, timeouts, this.logger);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.spool.onActive((id) => this.enqueue(id));
    for (const id of this.spool.list('active')) this.enqueue(id);
    this.poller = setInterval(() => void this.promoteDue(false), this.pollMs);
    this.poller.unref();
    void this.promoteDue(false);
  }

  /** Finishes deliveries in flight and closes connections; the rest stays queued on disk. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    this.queue.length = 0;
    this.queued.clear();
    await Promise.all(this.inFlight.values());
    this.pool.closeIdle();
  }

  /** Deliver now: every deferred message, due or not (like `postqueue -f`). */
  async kick(): Promise<void> {
    await this.promoteDue(true);
    this.pump();
  }

  private async promoteDue(all: boolean): Promise<void> {
    if (!this.running || this.promoting) return;
    this.promoting = true;
    try {
      const ids = all ? this.spool.list('deferred') : this.spool.due(this.clock.now());
      for (const id of ids) {
        if (this.spool.stateOf(id) === 'deferred') await this.spool.release(id); // onActive enqueues it
      }
    } catch (err) {
      this.logger.error({ err: String(err) }, 'cannot promote deferred messages');
    } finally {
      this.promoting = false;
    }
  }

  private enqueue(id: string): void {
    if (!this.running || this.queued.has(id) || this.inFlight.has(id)) return;
    this.queued.add(id);
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (this.running && this.inFlight.size < this.concurrency && this.queue.length) {
      const id = this.queue.shift()!;
      this.queued.delete(id);
      const p = this.deliver(id)
        .catch((err: unknown) => this.logger.error({ queueId: id, err: String(err) }, 'delivery bug; message left in place'))
        .finally(() => { this.inFlight.delete(id); this.pump(); });
      this.inFlight.set(id, p);
    }
  }

  private async deliver(id: string): Promise<void> {
    if (this.spool.stateOf(id) !== 'active') return;
    const m = await this.spool.read(id);
    if (!m) return; // gone, or damaged and moved to corrupt/ by read()
    const env = m.envelope;
    const todo = env.recipients.flatMap((r, i) => (r.state === 'pending' || r.state === 'deferred' ? [i] : []));
    let signature: Buffer | null = null;
    if (this.sign) {
      try {
        const field = await this.sign(this.spool.body(id));
        if (field) signature = Buffer.from(field, 'latin1');
      } catch (err) {
        if (err instanceof BodyDamaged) {
          this.logger.error({ queueId: id }, 'queue file damaged; moved to corrupt/, not delivered');
          await this.spool.move(id, 'corrupt');
          return;
        }
        // Signing is not worth losing mail over: send unsigned and say so.
        this.logger.error({ queueId: id, err: String(err) }, 'DKIM signing failed; sending unsigned');
      }
    }
    const outcomes = new Map<number, Outcome>();
    let damaged = false;
    // Destinations of one message in parallel, but not hundreds of sessions for one wide mailing.
    const dests = this.route.split(env, todo);
    const worker = async (): Promise<void> => {
      for (let d = dests.shift(); d; d = dests.shift()) {
        const r = await this.attempt(id, env, m.bodyLength, d, signature);
        if (r === 'damaged') damaged = true;
        else for (const [i, o] of r) outcomes.set(i, o);
      }
    };
    await Promise.all(Array.from({ length: Math.min(DESTINATIONS_PER_MESSAGE, dests.length) }, worker));
    if (damaged) {
      // The body stream checks the END record before the final dot: no destination got this message.
      this.logger.error({ queueId: id }, 'queue file damaged while sending; moved to corrupt/, not delivered');
      await this.spool.move(id, 'corrupt');
      return;
    }
    await this.file(env, m.bodyLength, outcomes);
  }

  /** One transaction to one destination, on a pooled connection within the destination's limit. */
  private async attempt(id: string, env: Envelope, size: number, d: Destination, signature: Buffer | null): Promise<Map<number, Outcome> | 'damaged'> {
    const release = await this.pool.slot(d.key, this.route.limit);
    const started = performance.now();
    let replies: Iterable<Outcome> = [];
    try {
      let hop: Hop | undefined = this.pool.take(d.key);
      if (!hop) {
        const c = await this.route.connect(d.key);
        if (!c.ok) {
          const failed = new Map(d.indices.map((i) => [i, { reply: c.reply }]));
          replies = failed.values();
          return failed;
        }
        hop = { client: c.client, remote: c.remote, sent: 0 };
      }
      const body = this.spool.body(id);
      const r = signature
        ? await hop.client.deliver(env, d.indices, size + signature.length, Readable.from(prepend(signature, body)))
        : await hop.client.deliver(env, d.indices, size, body);
      const remoteDsn = hop.client.dsn;
      this.pool.put(d.key, hop, r.reusable && this.running);
      if (r.damaged) return 'damaged';
      const out = new Map<number, Outcome>();
      for (const [i, reply] of r.replies) out.set(i, r.local.has(i) ? { reply } : { reply, remote: hop.remote, remoteDsn });
      replies = out.values();
      return out;
    } finally {
      release();
      this.bus?.publish('relay.attempt', { queueId: id, outcome: leastFinal(replies), ms: performance.now() - started });
    }
  }

  /**
   * Applies one attempt's outcomes: notices first (queued and synced), then
   * the progress records, then the message moves to where it now belongs.
   */
  private async file(env: Envelope, bodyLength: number, outcomes: Map<number, Outcome>): Promise<void> {
    const id = env.id;
    const now = this.clock.now();
    const age = now - env.receivedAt;
    const expired = age >= this.maxAgeMs;
    const progress: StatusRecord[] = [];
    const failed: DsnEntry[] = [];
    const relayed: DsnEntry[] = [];
    let lastTransient: string | undefined;
    for (const [i, o] of outcomes) {
      const rc = env.recipients[i];
      const code = Number(o.reply.slice(0, 3));
      let state: 'done' | 'deferred' | 'failed' = code >= 200 && code < 300 ? 'done' : code >= 500 ? 'failed' : 'deferred';
      const timedOut = state === 'deferred' && expired;
      if (timedOut) state = 'failed';
      rc.state = state;
      rc.reply = timedOut ? `expired after ${Math.round(age / 1000)}s: ${o.reply}` : o.reply;
      progress.push({ t: 'rcpt', i, state, reply: rc.reply, at: now });
      if (state === 'deferred') lastTransient = o.reply;
      const entry = { index: i, reply: o.reply, remote: o.remote, at: now };
      if (state === 'failed' && wants(rc.notify, 'FAILURE')) failed.push({ ...entry, action: 'failed', status: timedOut ? '4.4.7' : statusOf(o.reply) });
      if (state === 'done' && !o.remoteDsn && wants(rc.notify, 'SUCCESS')) relayed.push({ ...entry, action: 'relayed', status: statusOf(o.reply) });
    }
    const bounceable = env.mailFrom.address !== ''; // never a notice about a notice (RFC 3461 §6.2)
    if (bounceable && failed.length && !(await this.notify('failure', env, bodyLength, failed, now))) {
      // Not reported, so not final yet: try these recipients again later rather than lose the news.
      for (const e of failed) {
        env.recipients[e.index].state = 'deferred';
        progress.push({ t: 'rcpt', i: e.index, state: 'deferred', reply: env.recipients[e.index].reply, at: now });
        lastTransient = replyLine(REPLIES.relayDsnNotQueued);
      }
    }
    if (bounceable && relayed.length) await this.notify('success', env, bodyLength, relayed, now);
    // One event per recipient, with its state as filed (the log line of the delivery and the metric).
    for (const [i, o] of outcomes) {
      const rc = env.recipients[i];
      this.bus?.publish('relay.outcome', {
        queueId: id, recipient: rc.address, outcome: rc.state === 'done' ? 'sent' : rc.state === 'failed' ? 'bounced' : 'deferred',
        remote: o.remote ?? null, reply: rc.reply ?? o.reply, delayMs: age,
      });
    }
    const states = env.recipients.map((r) => r.state);
    if (states.every((s) => s === 'done' || s === 'failed')) {
      await this.spool.delete(id);
      return;
    }
    const warn = bounceable && this.delayWarningMs > 0 && env.delayWarnedAt === undefined && age >= this.delayWarningMs;
    if (warn) {
      const delayed: DsnEntry[] = env.recipients.flatMap((r, i) => (r.state === 'deferred' || r.state === 'pending') && wants(r.notify, 'DELAY')
        ? [{ index: i, action: 'delayed' as const, status: statusOf(r.reply ?? '4'), reply: r.reply ?? 'not yet attempted', remote: outcomes.get(i)?.remote, at: now }]
        : []);
      if (!delayed.length || await this.notify('delay', env, bodyLength, delayed, now)) progress.push({ t: 'warned', at: now });
    }
    const base = this.schedule[Math.min(env.attempts, this.schedule.length - 1)] * 1000;
    const delay = Math.max(0, Math.round(base * (1 + this.jitter * (2 * this.random() - 1))));
    await this.spool.defer(id, now + delay, lastTransient, progress);
  }

  /** Queues a DSN to the sender through the same spool; false if it could not be queued. */
  private async notify(kind: DsnKind, env: Envelope, bodyLength: number, entries: DsnEntry[], now: number): Promise<boolean> {
    const spec: DsnSpec = {
      kind, hostname: this.hostname, env, bodyLength, entries, now,
      retryUntil: env.receivedAt + this.maxAgeMs, returnLimit: this.returnLimit,
    };
    const w = this.spool.create(dsnEnvelope(spec));
    try {
      for await (const chunk of dsnMessage(spec, w.id, this.spool.body(env.id))) {
        if (!w.stream.write(chunk)) await once(w.stream, 'drain');
      }
      await w.commit();
    } catch (err) {
      await w.abort();
      this.logger.error({ queueId: env.id, kind, err: String(err) }, 'cannot queue delivery status notification');
      return false;
    }
    this.logger.info({ queueId: env.id, dsn: w.id, kind, to: env.mailFrom.address, recipients: entries.map((e) => env.recipients[e.index].address) }, 'notification queued');
    return true;
  }
}

/** deferred if any reply was transient (or the attempt broke off), else bounced if any was permanent, else sent. */
function leastFinal(outcomes: Iterable<Outcome>): RelayOutcome {
  let out: RelayOutcome | null = null;
  for (const o of outcomes) {
    const c = o.reply[0];
    if (c !== '2' && c !== '5') return 'deferred';
    if (c === '5') out = 'bounced';
    else out ??= 'sent';
  }
  return out ?? 'deferred';
}

async function* prepend(first: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  yield first;
  for await (const chunk of rest) yield chunk as Buffer;
}
