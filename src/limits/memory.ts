// In-process GCRA store: the embedded default, and the per-node fallback bucket
// behind Redis. Synchronous on purpose (no promise per decision) so that one
// core makes millions of decisions a second.
//
// GCRA, as the Redis script does it too (lua.ts): each key holds a theoretical
// arrival time TAT (ms). With T = period/limit and capacity C = burst·T, a charge
// of n units is admitted iff max(TAT, now) + n·T − now ≤ C; then TAT grows by n·T.
// A key whose TAT ≤ now is an empty bucket and may be forgotten.
import { type Clock, systemClock } from '../core/index.ts';
import type { Decision, KeyState, LimitKey, LimitStore } from './types.ts';

/** Tolerance for float rounding of T·n sums (ms); far below any real interval. */
export const EPS = 1e-6;

export const ALLOW_NOTHING_TO_CHECK: Decision = Object.freeze({ allowed: true, outcome: 'ok', retryAfterMs: 0, remaining: Infinity });

/** Picks the key to report: a flood key wins; among equals, the one that frees last. */
export function worse(flood: boolean, retry: number, hitFlood: boolean, hitRetry: number): boolean {
  if (flood !== hitFlood) return flood;
  return retry > hitRetry;
}

export interface MemoryLimitStoreOptions {
  clock?: Clock;
}

export class MemoryLimitStore implements LimitStore {
  private readonly tats = new Map<string, number>();
  private readonly clock: Clock;
  private writes = 0;

  constructor(opts: MemoryLimitStoreOptions = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  get size(): number { return this.tats.size; }

  check(keys: readonly LimitKey[], cost: number): Decision {
    const now = this.clock.now();
    const tats = this.tats;
    let hit = -1, hitRetry = 0, hitFlood = false, hitRemaining = 0;
    let remaining = Infinity;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const T = k.intervalMs;
      const tat = tats.get(k.id);
      const base = tat === undefined || tat < now ? now : tat;
      const cap = k.burst * T;
      const over = base + cost * T - now - cap;
      if (over > EPS) {
        const retry = cost > k.burst ? Infinity : Math.ceil(over - EPS);
        const flood = k.flood === true;
        if (hit < 0 || worse(flood, retry, hitFlood, hitRetry)) {
          hit = i; hitRetry = retry; hitFlood = flood;
          hitRemaining = Math.max(0, Math.floor((cap - (base - now)) / T + EPS));
        }
      } else if (hit < 0) {
        const rem = Math.floor((cap - (base + cost * T - now)) / T + EPS);
        if (rem < remaining) remaining = rem;
      }
    }
    if (hit >= 0) {
      return { allowed: false, outcome: hitFlood ? 'flood' : 'limited', hit: keys[hit], retryAfterMs: hitRetry, remaining: hitRemaining };
    }
    if (cost > 0) {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const tat = tats.get(k.id);
        tats.set(k.id, (tat === undefined || tat < now ? now : tat) + cost * k.intervalMs);
      }
      if (++this.writes > tats.size + 4096) this.sweep(now);
    }
    return { allowed: true, outcome: 'ok', retryAfterMs: 0, remaining };
  }

  refund(keys: readonly LimitKey[], cost: number): void {
    const now = this.clock.now();
    for (const k of keys) {
      const tat = this.tats.get(k.id);
      if (tat === undefined) continue;
      const next = tat - cost * k.intervalMs;
      if (next <= now + EPS) this.tats.delete(k.id);
      else this.tats.set(k.id, next);
    }
  }

  state(keys: readonly LimitKey[]): KeyState[] {
    const now = this.clock.now();
    return keys.map((key) => {
      const tat = this.tats.get(key.id);
      const used = tat === undefined || tat < now ? 0 : tat - now;
      return {
        key,
        remaining: Math.max(0, Math.floor((key.burst * key.intervalMs - used) / key.intervalMs + EPS)),
        resetMs: Math.ceil(used - EPS > 0 ? used : 0),
      };
    });
  }

  close(): void { this.tats.clear(); }

  /** Forgets empty buckets; amortised O(1) because it runs once per size-many writes. */
  private sweep(now: number): void {
    for (const [id, tat] of this.tats) if (tat <= now) this.tats.delete(id);
    this.writes = 0;
  }
}
