// The queue runner: takes messages from active/ (at start, on every commit,
// and when a deferred one falls due), delivers them to the smarthost over a
// small pool of reused connections, and files each recipient's outcome:
// 2xx done, 4xx deferred with backoff, 5xx failed. A message leaves the spool
// only when every recipient is done; permanent failures go to hold/ until
// DSN bounces exist (never a silent delete).
import type { Clock, Logger } from '../core/index.ts';
import { systemClock, silentLogger } from '../core/index.ts';
import type { Envelope, Spool, StatusRecord } from '../spool/index.ts';
import type { Client, ClientTimeouts, SmarthostOptions } from './client.ts';
import { connectClient } from './client.ts';

export interface RetryOptions {
  /** Seconds to wait after the 1st, 2nd, … deferral; the last value repeats. */
  schedule?: number[];
  /** Seconds after acceptance when deferred recipients are given up. */
  maxAge?: number;
  /** ± fraction applied to each delay, so a backlog does not retry in lockstep. */
  jitter?: number;
}

export interface RelayOptions {
  spool: Spool;
  smarthost: SmarthostOptions;
  ehloName: string;
  concurrency?: number;
  retry?: RetryOptions;
  logger?: Logger;
  clock?: Clock;
  timeouts?: Partial<ClientTimeouts>;
  /** How often deferred/ is checked for messages that fell due (real time, ms). */
  pollMs?: number;
  /** Messages per connection before it is closed, and how long an idle one is kept (ms). */
  maxPerConnection?: number;
  idleMs?: number;
  random?: () => number;
}

const DEFAULT_SCHEDULE = [60, 300, 900, 1800, 3600, 7200, 14400];

interface Pooled { client: Client; sent: number; timer?: NodeJS.Timeout }

export class Relay {
  private readonly spool: Spool;
  private readonly host: SmarthostOptions;
  private readonly ehloName: string;
  private readonly concurrency: number;
  private readonly schedule: number[];
  private readonly maxAgeMs: number;
  private readonly jitter: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timeouts: ClientTimeouts;
  private readonly pollMs: number;
  private readonly maxPerConnection: number;
  private readonly idleMs: number;
  private readonly random: () => number;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly idle: Pooled[] = [];
  private running = false;
  private unsubscribe: (() => void) | null = null;
  private poller: NodeJS.Timeout | null = null;
  private promoting = false;

  constructor(o: RelayOptions) {
    this.spool = o.spool;
    this.host = o.smarthost;
    this.ehloName = o.ehloName;
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.schedule = o.retry?.schedule?.length ? o.retry.schedule : DEFAULT_SCHEDULE;
    this.maxAgeMs = (o.retry?.maxAge ?? 5 * 86400) * 1000;
    this.jitter = o.retry?.jitter ?? 0.1;
    this.logger = (o.logger ?? silentLogger).child({ part: 'relay' });
    this.clock = o.clock ?? systemClock;
    this.timeouts = { connect: 30_000, greeting: 30_000, socket: 300_000, ...o.timeouts };
    this.pollMs = o.pollMs ?? 1000;
    this.maxPerConnection = o.maxPerConnection ?? 100;
    this.idleMs = o.idleMs ?? 5000;
    this.random = o.random ?? Math.random;
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
    for (const p of this.idle.splice(0)) { clearTimeout(p.timer); p.client.quit(); }
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

  private async acquire(): Promise<Pooled> {
    while (this.idle.length) {
      const p = this.idle.pop()!;
      clearTimeout(p.timer);
      if (p.client.alive) return p;
    }
    return { client: await connectClient(this.host, this.ehloName, this.timeouts), sent: 0 };
  }

  private release(p: Pooled, reusable: boolean): void {
    p.sent++;
    if (!reusable || !p.client.alive || !this.running || p.sent >= this.maxPerConnection) { p.client.quit(); return; }
    p.timer = setTimeout(() => {
      const i = this.idle.indexOf(p);
      if (i >= 0) this.idle.splice(i, 1);
      p.client.quit();
    }, this.idleMs);
    p.timer.unref();
    this.idle.push(p);
  }

  private async deliver(id: string): Promise<void> {
    if (this.spool.stateOf(id) !== 'active') return;
    const m = await this.spool.read(id);
    if (!m) return; // gone, or damaged and moved to corrupt/ by read()
    const env = m.envelope;
    const todo = env.recipients.flatMap((r, i) => (r.state === 'pending' || r.state === 'deferred' ? [i] : []));
    let replies: Map<number, string>;
    if (!todo.length) {
      replies = new Map();
    } else {
      let pooled: Pooled;
      try {
        pooled = await this.acquire();
      } catch (err) {
        const reply = `451 4.4.1 Next hop ${this.host.host}:${this.host.port} unreachable: ${(err as Error).message}`;
        return this.file(env, new Map(todo.map((i) => [i, reply])));
      }
      const r = await pooled.client.deliver(env, todo, m.bodyLength, this.spool.body(id));
      this.release(pooled, r.reusable);
      if (r.damaged) {
        this.logger.error({ queueId: id }, 'queue file damaged while sending; moved to corrupt/, not delivered');
        await this.spool.move(id, 'corrupt');
        return;
      }
      replies = r.replies;
    }
    await this.file(env, replies);
  }

  /** Applies one attempt's replies and moves the message to where it now belongs. */
  private async file(env: Envelope, replies: Map<number, string>): Promise<void> {
    const id = env.id;
    const now = this.clock.now();
    const expired = now - env.receivedAt >= this.maxAgeMs;
    const progress: StatusRecord[] = [];
    let lastTransient: string | undefined;
    for (const [i, reply] of replies) {
      const rc = env.recipients[i];
      const code = Number(reply.slice(0, 3));
      let state: 'done' | 'deferred' | 'failed' = code >= 200 && code < 300 ? 'done' : code >= 500 ? 'failed' : 'deferred';
      if (state === 'deferred' && expired) state = 'failed';
      rc.state = state;
      rc.reply = state === 'failed' && expired && code < 500 ? `expired after ${Math.round((now - env.receivedAt) / 1000)}s: ${reply}` : reply;
      progress.push({ t: 'rcpt', i, state, reply: rc.reply, at: now });
      if (state === 'deferred') lastTransient = reply;
      const level = state === 'failed' ? 'warn' : 'info';
      this.logger[level]({ queueId: id, to: rc.address, relay: `${this.host.host}:${this.host.port}`, status: state === 'done' ? 'sent' : state, reply, delay: (now - env.receivedAt) / 1000 }, 'delivery');
    }
    const states = env.recipients.map((r) => r.state);
    if (states.every((s) => s === 'done')) {
      await this.spool.delete(id);
      return;
    }
    if (states.some((s) => s === 'deferred' || s === 'pending')) {
      const base = this.schedule[Math.min(env.attempts, this.schedule.length - 1)] * 1000;
      const delay = Math.max(0, Math.round(base * (1 + this.jitter * (2 * this.random() - 1))));
      await this.spool.defer(id, now + delay, lastTransient, progress);
      return;
    }
    // Every recipient is done or failed, some failed: no DSN yet, so keep it for an operator.
    const why = env.recipients.filter((r) => r.state === 'failed').map((r) => `<${r.address}>: ${r.reply ?? 'failed'}`);
    await this.spool.hold(id, `permanent failure: ${why.join('; ')}`, progress);
  }
}
