// metrics: Prometheus instruments for portwarden and the GET /metrics handler,
// fed by one subscriber of the event bus (subscribeMetrics).
//
// Purpose: sessions, AUTH outcomes, messages and recipients by reply, limit hits
// by key scope, lockouts, queue sizes, relay outcomes and latency histograms, on
// one prom-client Registry per Metrics object (no global registry, so tests and
// several servers in one process do not collide).
//
// Trusts: nothing in a label value. Every value passes a bound (known sets,
// validated codes, a capped number of listener names), and no label carries an
// account, an address or any other per-client value: cardinality stays fixed.
//
// Standards: the Prometheus text exposition format 0.0.4 (served with its
// content type); RFC 3463 / RFC 5248 enhanced status codes as label values.
export {
  Metrics, createMetrics, replyLabels, LATENCY_BUCKETS,
  ABUSE_SIGNAL_CLASSES, ABUSE_ACTIONS,
  type MetricsOptions, type AuthOutcome, type LimitScope, type LockoutScope, type RelayOutcome, type LimitDecisionLike, type ReplyLike,
} from './metrics.ts';
export { subscribeMetrics } from './subscribe.ts';
