// The bus → signals adapter: the events that say something about an address or
// an account become the abuse engine's Signals. AUTH failures and lockouts,
// sending-limit refusals and holds, floods, and the edges' blocked port-25
// counters. Outside complaints (abuse.report) and DNSBL listings are ingested by
// their producers directly, so they are not read here.
//
// Edge counters are totals per (edge, source) since the edge's set element was
// added, and start over when the element expires: the signal is the increase
// since the last report of that edge and source, and a total below the last one
// is a fresh element whose whole total is new. The last totals seen are kept in
// memory in two generations of maxEdgeSources/2 each (a source not reported
// while a whole generation of others was is forgotten: its next total counts
// whole; cheaper than reordering an LRU at every report) and seeded at start from the
// policy store's last stored report, so that a restart does not count every
// source's whole history again (that alone could cross the bot threshold).
//
// Times: the bus is synchronous, so the moment an event is heard is the moment
// it happened; events carry no time of their own, the clock gives it.
import { counterDelta, formatIp, parseIp, systemClock, type Clock } from '../core/index.ts';
import type { EventBus, EventMap } from '../events/index.ts';
import { normalizeLogin } from '../auth/index.ts';
import type { Signal, SignalClass, SignalSink } from '../abuse/index.ts';

export interface SignalsOptions {
  bus: EventBus;
  sink: SignalSink;
  clock?: Clock;
  /** Last totals per edge and source kept, at most (default 200 000): two generations of half as many. */
  maxEdgeSources?: number;
  /** The last stored totals (PolicyStore.blocked(), strongest first), the baseline of the first report after a start; the first maxEdgeSources/2 are kept. */
  baseline?: ReadonlyArray<{ edge: string; source: string; packets: number; destinations: number }>;
}

/** RFC 5952 text of an address (IPv4-mapped IPv6 as IPv4); null when it is none. */
export function canonicalAddress(ip: string): string | null {
  const a = parseIp(ip);
  return a ? formatIp(a) : null;
}

const total = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

export { counterDelta };

/** Subscribes; returns the unsubscribe function. */
export function subscribeSignals(o: SignalsOptions): () => void {
  const { bus, sink } = o;
  const clock = o.clock ?? systemClock;
  const gen = Math.max(1, Math.ceil((o.maxEdgeSources ?? 200_000) / 2));
  type Totals = { packets: number; destinations: number };
  let cur = new Map<string, Totals>();
  let old = new Map<string, Totals>();
  const remember = (key: string, t: Totals): void => {
    cur.set(key, t);
    if (cur.size >= gen) { old = cur; cur = new Map(); }
  };
  const keyOf = (edge: string, source: string): string => `${edge}\u0000${source}`;
  // At most one generation: a second would push the first (the strongest, as blocked() sorts them) out.
  for (const b of (o.baseline ?? []).slice(0, gen)) {
    const a = canonicalAddress(b.source);
    if (a) remember(keyOf(b.edge, a), { packets: total(b.packets), destinations: total(b.destinations) });
  }

  const emit = (cls: SignalClass, address: string | null, s: Partial<Signal> & { origin: string; detail: Signal['detail'] }): void => {
    sink.ingest({ class: cls, at: clock.now(), address, port: null, subscriber: null, account: null, amount: 1, ...s });
  };
  /** The login as the account store keys it; the raw text stays in the detail when it is not a login. */
  const account = (login: string | null): string | null => (login === null ? null : normalizeLogin(login));

  const edgeBlocked = (e: EventMap['edge.blocked']): void => {
    const address = canonicalAddress(e.source);
    if (!address) return;
    const key = keyOf(e.edge, address);
    const prev = cur.get(key) ?? old.get(key);
    const now = { packets: total(e.packets), destinations: total(e.destinations) };
    const dp = counterDelta(prev?.packets, now.packets);
    const dd = counterDelta(prev?.destinations, now.destinations);
    remember(key, now);
    const detail = { edge: e.edge, packets: now.packets, destinations: now.destinations };
    if (dp > 0) emit('edge-blocked', address, { amount: dp, origin: `edge:${e.edge}`, detail });
    if (dd > 0) emit('edge-destinations', address, { amount: dd, origin: `edge:${e.edge}`, detail });
  };

  const offs = [
    bus.subscribe('auth.failed', (e) => {
      // A right password for a disabled account is no guess, and a server error is not the client's doing.
      if (e.why !== 'failure' && e.why !== 'locked') return;
      const acct = account(e.login);
      emit('auth-failure', canonicalAddress(e.clientIp), { account: acct, origin: 'submission',
        detail: { listener: e.listener, mechanism: e.mechanism, why: e.why, ...(acct === null && e.login !== null ? { login: e.login } : {}) } });
    }),
    bus.subscribe('auth.lockout', (e) => {
      emit('auth-lockout', canonicalAddress(e.clientIp), { account: account(e.login), origin: 'submission',
        detail: { scope: e.scope, key: e.key, lockoutMs: e.lockoutMs } });
    }),
    bus.subscribe('limit.hit', (e) => {
      if (e.outcome !== 'limited' && e.outcome !== 'held') return; // flood has its own event; unavailable is ours
      emit('limit-hit', canonicalAddress(e.clientIp), { account: account(e.account), subscriber: e.subscriber, origin: 'submission',
        detail: { rule: e.rule, scope: e.scope, outcome: e.outcome, retryAfterMs: e.retryAfterMs } });
    }),
    bus.subscribe('limit.flood', (e) => {
      emit('flood', canonicalAddress(e.clientIp), { account: account(e.account), subscriber: e.subscriber, origin: e.source,
        detail: { rule: e.rule, suspend: e.suspend } });
    }),
    bus.subscribe('edge.blocked', edgeBlocked),
  ];
  return () => { for (const off of offs) off(); };
}
