// The metrics as one subscriber of the event bus: every instrument that counts
// something that happened is fed from an event here, and from nowhere else.
import type { EventBus } from '../events/index.ts';
import type { AuthOutcome, LockoutScope, Metrics } from './metrics.ts';

/** Subscribes `metrics` to `bus`; returns the unsubscribe function. */
export function subscribeMetrics(bus: EventBus, metrics: Metrics): () => void {
  const offs = [
    bus.subscribe('session.opened', (e) => metrics.sessionOpened(e.listener)),
    bus.subscribe('session.closed', (e) => metrics.sessionClosed(e.listener)),
    bus.subscribe('auth.succeeded', (e) => metrics.authAttempt(e.mechanism, 'success')),
    bus.subscribe('auth.failed', (e) => metrics.authAttempt(e.mechanism, e.why as AuthOutcome)),
    bus.subscribe('auth.lockout', (e) => metrics.lockout(e.scope as LockoutScope)),
    bus.subscribe('limit.hit', (e) => {
      // A held message is not a refusal: it is counted by its final reply (250) like any other.
      if (e.outcome === 'held') return;
      if (e.rule === 'postmaster') return; // the postmaster exception's own rate is not a sending limit
      metrics.limitDecision({ outcome: e.outcome, degraded: e.degraded, hit: e.scope ? { rule: { scope: e.scope } } : undefined });
    }),
    bus.subscribe('limit.degraded', () => metrics.limitDecision({ outcome: 'ok', degraded: true })),
    bus.subscribe('recipient.answered', (e) => metrics.recipient(e.reply)),
    bus.subscribe('message.accepted', (e) => { metrics.transaction(e.listener, e.ms); metrics.message(e.reply ?? { code: 250 }); }),
    bus.subscribe('message.held', (e) => { metrics.transaction(e.listener, e.ms); metrics.message(e.reply ?? { code: 250 }); }),
    bus.subscribe('message.refused', (e) => { metrics.transaction(e.listener, e.ms); metrics.message(e.reply ?? { code: 554 }); }),
    bus.subscribe('relay.outcome', (e) => metrics.relayOutcome(e.outcome)),
    bus.subscribe('relay.attempt', (e) => metrics.relayAttempt(e.outcome, e.ms)),
    bus.subscribe('notice.sent', (e) => metrics.noticeSent(e.kind, e.queueIds.length)),
    bus.subscribe('notice.viewed', (e) => metrics.noticeViewed(e.via)),
    bus.subscribe('notice.self-release', (e) => metrics.selfRelease(e.outcome)),
    bus.subscribe('case.decision', (e) => metrics.abuseDecision(e.action, e.immune)),
  ];
  return () => { for (const off of offs) off(); };
}
