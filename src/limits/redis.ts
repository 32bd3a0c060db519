// Fleet store: GCRA state in Redis, one atomic Lua call per decision.
//
// Cluster. A Lua script may touch only keys of one hash slot. hashTags 'shared'
// (default) tags every key "{pw}": one slot, every decision one atomic round trip,
// and all limit traffic on one shard — at the planned 5 k messages/s a single Redis
// shard has room to spare (bench/limits). hashTags 'per-subject' tags each key by
// its owner ("{a:alice}", "{p:203.0.113.0/24}") so load spreads over shards; a
// decision then runs one script per owner in parallel and, when any refuses, gives
// back what the others charged. Between those two steps a concurrent decision may
// see the transient charge and be refused: that errs on the strict side.
//
// Time. time 'redis' (default) takes now from Redis TIME inside the script, so all
// nodes share one clock and node clock skew cannot refill buckets early. time
// 'node' passes the node's Clock (tests use a ManualClock); then node clocks must
// be NTP-synchronised, since a node running ahead sees fuller buckets.
//
// Failure. Commands time out quickly, are never queued while disconnected and are
// not retried, so an outage costs a decision at most commandTimeoutMs and nothing
// piles up. While Redis is unreachable, failMode 'open' answers from a node-local
// MemoryLimitStore (limits still hold per node, marked degraded) and 'closed'
// refuses with outcome 'unavailable'. ioredis reconnects in the background; the
// first ready connection ends degraded mode.
import { createRequire } from 'node:module';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { type Clock, type Logger, silentLogger, systemClock } from '../core/index.ts';
import { LIMIT_LUA } from './lua.ts';
import { ALLOW_NOTHING_TO_CHECK, MemoryLimitStore, worse } from './memory.ts';
import type { Decision, KeyState, LimitKey, LimitStore } from './types.ts';

export type FailMode = 'open' | 'closed';

export interface RedisLimitStoreOptions {
  /** A client you built (e.g. a Cluster). Give it enableOfflineQueue false and maxRetriesPerRequest ≤ 1. */
  client?: Redis | Cluster;
  /** Else one is made from url and redisOptions, with the safe defaults below. */
  url?: string;
  redisOptions?: RedisOptions;
  failMode?: FailMode;
  /** The local bucket for failMode 'open'; default a MemoryLimitStore on the same clock. */
  fallback?: LimitStore;
  clock?: Clock;
  time?: 'redis' | 'node';
  keyPrefix?: string;
  hashTags?: 'shared' | 'per-subject';
  commandTimeoutMs?: number;
  /** Retry-after reported by failMode 'closed'. */
  closedRetryAfterMs?: number;
  logger?: Logger;
}

interface ScriptClient {
  pwLimit(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
}

/** Client options for a limits connection: fail fast, queue nothing, reconnect forever. */
export function limitsRedisOptions(commandTimeoutMs = 250): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    enableAutoPipelining: true,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}

export class RedisLimitStore implements LimitStore {
  readonly client: Redis | Cluster;
  readonly failMode: FailMode;
  private readonly fallback: LimitStore;
  private readonly clock: Clock;
  private readonly nodeTime: boolean;
  private readonly prefix: string;
  private readonly perSubject: boolean;
  private readonly closedRetryAfterMs: number;
  private readonly log: Logger;
  private readonly ownsClient: boolean;
  private degraded = false;

  constructor(opts: RedisLimitStoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.failMode = opts.failMode ?? 'open';
    this.fallback = opts.fallback ?? new MemoryLimitStore({ clock: this.clock });
    this.nodeTime = opts.time === 'node';
    this.prefix = opts.keyPrefix ?? 'pw:l:';
    this.perSubject = opts.hashTags === 'per-subject';
    this.closedRetryAfterMs = opts.closedRetryAfterMs ?? 60_000;
    this.log = (opts.logger ?? silentLogger).child({ part: 'limits', store: 'redis' });
    this.ownsClient = !opts.client;
    const base = { ...limitsRedisOptions(opts.commandTimeoutMs), ...opts.redisOptions };
    // ioredis is loaded only when a Redis store is built: the embedded default never pays for it.
    const Client = (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;
    this.client = opts.client ?? (opts.url ? new Client(opts.url, base) : new Client(base));
    this.client.defineCommand('pwLimit', { lua: LIMIT_LUA });
    // Without a listener ioredis prints every reconnect error; we log transitions only.
    this.client.on('error', (err: Error) => this.down(err));
    this.client.on('ready', () => { if (this.degraded) this.up(); });
  }

  /** True while decisions come from the fallback (or are refused, failMode 'closed'). */
  get isDegraded(): boolean { return this.degraded || this.client.status !== 'ready'; }

  /** Resolves once connected (or after timeoutMs); decisions before that are degraded. */
  async ready(timeoutMs = 2000): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.client.off('ready', on); resolve(false); }, timeoutMs);
      const on = (): void => { clearTimeout(t); resolve(true); };
      this.client.once('ready', on);
    });
  }

  async check(keys: readonly LimitKey[], cost: number): Promise<Decision> {
    if (!keys.length) return ALLOW_NOTHING_TO_CHECK;
    if (this.client.status !== 'ready') return this.unavailable(keys, cost);
    try {
      const groups = this.groups(keys);
      if (groups.length === 1) return this.decision(await this.run('c', keys, cost), keys);
      const parts = await Promise.all(groups.map((g) => this.run('c', g, cost).then((r) => this.decision(r, g))));
      let hit: Decision | undefined;
      let remaining = Infinity;
      for (const d of parts) {
        if (!d.allowed && (!hit || worse(d.outcome === 'flood', d.retryAfterMs, hit.outcome === 'flood', hit.retryAfterMs))) hit = d;
        remaining = Math.min(remaining, d.remaining);
      }
      if (!hit) return { allowed: true, outcome: 'ok', retryAfterMs: 0, remaining };
      await Promise.all(groups.filter((_, i) => parts[i].allowed).map((g) => this.run('r', g, cost)));
      return hit;
    } catch (err) {
      this.down(err as Error);
      return this.unavailable(keys, cost);
    }
  }

  async refund(keys: readonly LimitKey[], cost: number): Promise<void> {
    if (!keys.length || cost <= 0) return;
    // A refund for a charge the fallback took while Redis was down lands in Redis
    // if it came back meanwhile: at worst the customer gets `cost` units early.
    if (this.client.status !== 'ready') return void (await this.fallback.refund(keys, cost));
    try {
      await Promise.all(this.groups(keys).map((g) => this.run('r', g, cost)));
    } catch (err) {
      this.down(err as Error);
      await this.fallback.refund(keys, cost);
    }
  }

  async state(keys: readonly LimitKey[]): Promise<KeyState[]> {
    if (!keys.length) return [];
    if (this.client.status !== 'ready') return this.fallback.state(keys);
    try {
      const out: KeyState[] = [];
      for (const g of this.groups(keys)) {
        const r = await this.run('s', g, 0);
        g.forEach((key, i) => out.push({ key, remaining: r[2 * i], resetMs: r[2 * i + 1] }));
      }
      const order = new Map(keys.map((k, i) => [k, i]));
      return out.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
    } catch (err) {
      this.down(err as Error);
      return this.fallback.state(keys);
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.disconnect();
    await this.fallback.close();
  }

  redisKey(k: LimitKey): string {
    if (!this.perSubject) return `${this.prefix}{pw}${k.id}`;
    return `${this.prefix}{${k.subject ?? k.id}}${k.id}`;
  }

  /** Per key list (a session's plan reuses its arrays): the Redis key names and the packed rule constants. */
  private readonly encoded = new WeakMap<readonly LimitKey[], { names: string[]; params: string }>();

  private encode(keys: readonly LimitKey[]): { names: string[]; params: string } {
    let e = this.encoded.get(keys);
    if (!e) {
      // %.17g-equivalent: JS prints the shortest string that reads back as the same double.
      e = { names: keys.map((k) => this.redisKey(k)), params: keys.map((k) => `${k.intervalMs} ${k.burst} ${k.flood ? 1 : 0}`).join(' ') };
      this.encoded.set(keys, e);
    }
    return e;
  }

  private run(mode: 'c' | 'r' | 's', keys: readonly LimitKey[], cost: number): Promise<number[]> {
    const { names, params } = this.encode(keys);
    return (this.client as unknown as ScriptClient).pwLimit(keys.length, ...names, this.nodeTime ? this.clock.now() : '', mode, cost, params).then((r) => {
      if (this.degraded) this.up();
      return r;
    });
  }

  private up(): void {
    this.degraded = false;
    this.log.info({}, 'redis reachable again; shared limits restored');
  }

  private decision(r: number[], keys: readonly LimitKey[]): Decision {
    const remaining = r[3] === -1 ? Infinity : r[3];
    if (r[0] === 1) return { allowed: true, outcome: 'ok', retryAfterMs: 0, remaining };
    const hit = keys[r[1] - 1];
    return { allowed: false, outcome: hit.flood ? 'flood' : 'limited', hit, retryAfterMs: r[2] === -1 ? Infinity : r[2], remaining };
  }

  private groups(keys: readonly LimitKey[]): LimitKey[][] {
    if (!this.perSubject) return [keys as LimitKey[]];
    const m = new Map<string, LimitKey[]>();
    for (const k of keys) {
      const tag = k.subject ?? k.id;
      const g = m.get(tag);
      if (g) g.push(k);
      else m.set(tag, [k]);
    }
    return [...m.values()];
  }

  private async unavailable(keys: readonly LimitKey[], cost: number): Promise<Decision> {
    if (!this.degraded) this.down(new Error(`redis not ready (${this.client.status})`));
    if (this.failMode === 'closed') return { allowed: false, outcome: 'unavailable', retryAfterMs: this.closedRetryAfterMs, remaining: 0 };
    return { ...(await this.fallback.check(keys, cost)), degraded: true };
  }

  private down(err: Error): void {
    if (this.degraded) return;
    this.degraded = true;
    this.log.warn({ err: err.message, failMode: this.failMode }, 'redis unreachable; limits fall back');
  }
}
