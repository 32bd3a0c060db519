// The statistics as one subscriber of the event bus: every counter series is fed
// here and from nowhere else (the queue gauge is sampled by the node).
//
// Edge reports carry totals per (edge, source) since the edge's set element was
// added, starting over when it expires: what is counted is the increase since
// the last report of that edge and source, a total below the last one being a
// fresh element whose whole total is new (core's counterDelta, as the abuse signals count them). The
// last totals are kept in two generations of maxEdgeSources/2 and seeded from
// the policy store's last stored report, so a restart does not count every
// source's history again.
import { counterDelta } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import { cleanLabel } from './series.ts';
import type { StatsRecorder } from './recorder.ts';

export interface StatsSubscribeOptions {
  /** Last totals per edge and source kept, at most (default 200 000). */
  maxEdgeSources?: number;
  /** The last stored totals (the policy store's blocked()): the baseline of the first report after a start. */
  baseline?: ReadonlyArray<{ edge: string; source: string; packets: number }>;
}

const total = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

/** Subscribes the recorder; returns the unsubscribe function. */
export function subscribeStats(bus: EventBus, rec: Pick<StatsRecorder, 'count'>, o: StatsSubscribeOptions = {}): () => void {
  const gen = Math.max(1, Math.ceil((o.maxEdgeSources ?? 200_000) / 2));
  let cur = new Map<string, number>();
  let old = new Map<string, number>();
  const remember = (key: string, n: number): void => {
    cur.set(key, n);
    if (cur.size >= gen) { old = cur; cur = new Map(); }
  };
  const keyOf = (edge: string, source: string): string => `${edge}\u0000${source}`;
  for (const b of (o.baseline ?? []).slice(0, gen)) remember(keyOf(b.edge, b.source), total(b.packets));

  const refusal = (reply: { code: number; key?: string } | null): void => {
    if (reply && reply.code >= 400) rec.count('refusals', cleanLabel(reply.key));
  };
  const offs = [
    bus.subscribe('message.accepted', () => rec.count('messages', 'accepted')),
    bus.subscribe('message.held', () => rec.count('messages', 'held')),
    bus.subscribe('message.refused', (e) => { rec.count('messages', 'refused'); refusal(e.reply ?? { code: 554 }); }),
    bus.subscribe('recipient.answered', (e) => refusal(e.reply)),
    bus.subscribe('limit.hit', (e) => rec.count('limit-hits', cleanLabel(e.rule ?? e.outcome))),
    bus.subscribe('limit.flood', (e) => rec.count('limit-floods', cleanLabel(e.rule))),
    bus.subscribe('auth.failed', (e) => rec.count('auth-failures', cleanLabel(e.why))),
    bus.subscribe('auth.lockout', (e) => rec.count('auth-lockouts', cleanLabel(e.scope))),
    bus.subscribe('case.opened', () => rec.count('cases', 'opened')),
    bus.subscribe('case.closed', () => rec.count('cases', 'closed')),
    bus.subscribe('edge.blocked', (e) => {
      const key = keyOf(e.edge, e.source);
      const prev = cur.get(key) ?? old.get(key);
      const now = total(e.packets);
      remember(key, now);
      const delta = counterDelta(prev, now);
      if (delta > 0) rec.count('edge-blocked', cleanLabel(e.edge), delta);
    }),
  ];
  return () => { for (const off of offs) off(); };
}
