// The instruments and the only sanctioned way to feed them. Every label value
// passes through a bound here: listener names come from config, but mechanisms,
// reply codes and scopes can be steered by clients, and one label value per
// client would turn the exposition into a memory leak (no account or IP labels).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type Logger, silentLogger } from '../core/index.ts';

// No 'aborted': a client's '*' ends the exchange in the SMTP engine, which tells no handler.
export type AuthOutcome = 'success' | 'failure' | 'locked' | 'disabled' | 'error';
export type LimitScope = 'account' | 'subscriber' | 'ip' | 'prefix' | 'aggregate';
export type LockoutScope = 'ip' | 'prefix' | 'prefix56' | 'prefix48' | 'account';
export type RelayOutcome = 'sent' | 'deferred' | 'bounced';

/** The parts of limits' Decision that metrics reads (structural: metrics imports only core). */
export interface LimitDecisionLike {
  readonly outcome: string;
  readonly degraded?: boolean;
  readonly hit?: { readonly rule?: { readonly scope: string } };
}

/** The parts of core's Reply that metrics reads. */
export interface ReplyLike {
  readonly code: number;
  readonly enhanced?: string;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC) on the same registry. Default true. */
  processMetrics?: boolean;
  /** Called at each scrape for the queue gauge: messages per spool state. */
  queueSizes?: () => Record<string, number> | Promise<Record<string, number>>;
  /** Listener names beyond this many are counted as "other". Default 16. */
  maxListeners?: number;
  logger?: Logger;
}

const MECHANISMS = new Set(['PLAIN', 'LOGIN', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS',
  'CRAM-MD5', 'DIGEST-MD5', 'XOAUTH2', 'OAUTHBEARER', 'EXTERNAL', 'ANONYMOUS', 'NTLM', 'GSSAPI']);
const AUTH_OUTCOMES = new Set<string>(['success', 'failure', 'locked', 'disabled', 'error']);
const LIMIT_SCOPES = new Set<string>(['account', 'subscriber', 'ip', 'prefix', 'aggregate']);
const LOCKOUT_SCOPES = new Set<string>(['ip', 'prefix', 'prefix56', 'prefix48', 'account']);
const RELAY_OUTCOMES = new Set<string>(['sent', 'deferred', 'bounced']);
const NOTICE_KINDS = new Set<string>(['notify', 'quarantine', 'suspend', 'revoke-exemption', 'released', 'exemption-renewal']);
const NOTICE_VIA = new Set<string>(['token', 'address', 'none']);
const SELF_RELEASE_OUTCOMES = new Set<string>(['released', 'refused', 'csrf']);
const SOURCES = new Set<string>(['radius', 'detail', 'kea']);
const SOURCE_OUTCOMES = new Set<string>(['accepted', 'refused', 'dropped']);
/** The reasons the sources give (src/directory: DropReason, RefuseReason, the followers' refusals). */
const SOURCE_REASONS = new Set<string>(['unknown-client', 'malformed', 'not-accounting', 'bad-authenticator', 'busy', 'store-error',
  'status', 'user-name', 'session-id', 'nas', 'address', 'time', 'invalid', 'oversize', 'unknown-subscriber']);
// The abuse part's lists, repeated here: metrics imports only core (a test keeps them equal).
export const ABUSE_SIGNAL_CLASSES = new Set<string>(['edge-blocked', 'edge-destinations', 'auth-failure', 'auth-lockout', 'limit-hit', 'flood', 'report', 'dnsbl']);
export const ABUSE_ACTIONS = new Set<string>(['notify', 'quarantine', 'suspend', 'revoke-exemption']);
const QUEUE_STATE_RE = /^[a-z][a-z0-9_-]{0,23}$/;
/** 1 ms … 5 s, in seconds (Prometheus base unit). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const pick = (v: string, set: Set<string>): string => (set.has(v) ? v : 'other');

/** Three-digit code and enhanced code of a reply, or "other" for anything malformed. */
export function replyLabels(r: ReplyLike): { verdict: 'accepted' | 'deferred' | 'rejected'; code: string; enhanced: string } {
  const c = Number.isInteger(r.code) && r.code >= 200 && r.code <= 599 ? r.code : 0;
  const verdict = c >= 500 || c === 0 ? 'rejected' : c >= 400 ? 'deferred' : 'accepted';
  const enhanced = r.enhanced && /^[245]\.\d{1,3}\.\d{1,3}$/.test(r.enhanced) ? r.enhanced : '';
  return { verdict, code: c ? String(c) : 'other', enhanced };
}

export class Metrics {
  readonly registry: Registry;
  readonly sessions: Counter<'listener'>;
  readonly sessionsOpen: Gauge<'listener'>;
  readonly auth: Counter<'mechanism' | 'outcome'>;
  readonly messages: Counter<'verdict' | 'code' | 'enhanced'>;
  readonly recipients: Counter<'verdict' | 'code' | 'enhanced'>;
  readonly limitHits: Counter<'scope' | 'outcome'>;
  readonly limitStoreDegraded: Counter<'result'>;
  readonly lockouts: Counter<'scope'>;
  readonly queueSize: Gauge<'state'>;
  readonly relay: Counter<'outcome'>;
  readonly transactionSeconds: Histogram<'listener'>;
  readonly relayAttemptSeconds: Histogram<'outcome'>;
  readonly notices: Counter<'kind'>;
  readonly noticeViews: Counter<'via'>;
  readonly selfReleases: Counter<'outcome'>;
  readonly sourceRecords: Counter<'source' | 'outcome' | 'reason'>;
  readonly abuseSignals: Counter<'class' | 'result'>;
  readonly abuseDecisions: Counter<'action' | 'immune'>;
  readonly casesOpen: Gauge;
  private casesOpenSource: (() => Promise<number>) | undefined;
  private readonly listeners = new Set<string>();
  private readonly maxListeners: number;
  private queueSizes: MetricsOptions['queueSizes'];

  constructor(opts: MetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    this.maxListeners = opts.maxListeners ?? 16;
    this.queueSizes = opts.queueSizes;
    const logger = opts.logger ?? silentLogger;
    const registers = [registry];
    this.sessions = new Counter({ name: 'portwarden_sessions_total', help: 'SMTP sessions opened, by listener', labelNames: ['listener'], registers });
    this.sessionsOpen = new Gauge({ name: 'portwarden_sessions_open', help: 'SMTP sessions open now, by listener', labelNames: ['listener'], registers });
    this.auth = new Counter({ name: 'portwarden_auth_total', help: 'AUTH attempts by mechanism and outcome', labelNames: ['mechanism', 'outcome'], registers });
    this.messages = new Counter({ name: 'portwarden_messages_total', help: 'Messages by final reply: verdict (accepted, deferred, rejected), code, enhanced code', labelNames: ['verdict', 'code', 'enhanced'], registers });
    this.recipients = new Counter({ name: 'portwarden_recipients_total', help: 'RCPT commands by reply: verdict, code, enhanced code', labelNames: ['verdict', 'code', 'enhanced'], registers });
    this.limitHits = new Counter({ name: 'portwarden_limit_hits_total', help: 'Refusals by a sending limit, by key scope and outcome (limited, flood)', labelNames: ['scope', 'outcome'], registers });
    this.limitStoreDegraded = new Counter({ name: 'portwarden_limit_store_degraded_total', help: 'Limit decisions made without the shared store: fallback (local bucket) or refused (fail-closed)', labelNames: ['result'], registers });
    this.lockouts = new Counter({ name: 'portwarden_auth_lockouts_total', help: 'Brute-force lockouts by scope', labelNames: ['scope'], registers });
    const self = this;
    this.queueSize = new Gauge({
      name: 'portwarden_queue_messages', help: 'Messages in the spool by state', labelNames: ['state'], registers,
      async collect() {
        if (!self.queueSizes) return;
        let sizes: Record<string, number>;
        try {
          sizes = await self.queueSizes();
        } catch (err) {
          // A failing source must not fail the whole scrape; the gauge goes absent instead of stale.
          logger.warn({ event: 'metrics', err: String(err) }, 'queue size collection failed');
          this.reset();
          return;
        }
        this.reset();
        for (const [state, n] of Object.entries(sizes)) {
          if (QUEUE_STATE_RE.test(state) && Number.isFinite(n)) this.set({ state }, n);
        }
      },
    });
    this.relay = new Counter({ name: 'portwarden_relay_total', help: 'Relay delivery outcomes per recipient (sent, deferred, bounced)', labelNames: ['outcome'], registers });
    this.transactionSeconds = new Histogram({ name: 'portwarden_transaction_duration_seconds', help: 'MAIL to final reply, by listener', labelNames: ['listener'], buckets: LATENCY_BUCKETS, registers });
    this.relayAttemptSeconds = new Histogram({ name: 'portwarden_relay_attempt_duration_seconds', help: 'One delivery attempt to the next hop, by outcome', labelNames: ['outcome'], buckets: LATENCY_BUCKETS, registers });
    this.notices = new Counter({ name: 'portwarden_notices_sent_total', help: 'Abuse notices committed to the spool, by kind (one per contact)', labelNames: ['kind'], registers });
    this.noticeViews = new Counter({ name: 'portwarden_notice_page_views_total', help: 'Notice page views, by how the case was found (token, address, none)', labelNames: ['via'], registers });
    this.selfReleases = new Counter({ name: 'portwarden_self_releases_total', help: 'Self-releases asked for on the notice page, by outcome (released, refused, csrf)', labelNames: ['outcome'], registers });
    this.sourceRecords = new Counter({ name: 'portwarden_directory_source_records_total', help: 'Address-source records by source (radius, detail, kea), outcome (accepted, refused, dropped) and reason', labelNames: ['source', 'outcome', 'reason'], registers });
    this.abuseSignals = new Counter({ name: 'portwarden_abuse_signals_total', help: 'Signals handed to the abuse engine, by class and result (ingested, dropped: its queue was full)', labelNames: ['class', 'result'], registers });
    this.abuseDecisions = new Counter({ name: 'portwarden_abuse_decisions_total', help: 'Abuse decisions by action, and whether the tier was immune (then not enforced)', labelNames: ['action', 'immune'], registers });
    this.casesOpen = new Gauge({
      name: 'portwarden_abuse_cases_open', help: 'Abuse cases open now (0 where the engine does not run)', registers,
      async collect() {
        if (!self.casesOpenSource) { this.reset(); return; } // no engine here (or stopped): none open
        try {
          this.set(await self.casesOpenSource());
        } catch (err) {
          logger.warn({ event: 'metrics', err: String(err) }, 'open cases count failed');
          this.reset();
        }
      },
    });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'portwarden_' });
  }

  /** Replaces the queue-size source (the spool may open after the metrics). */
  setQueueSizes(fn: MetricsOptions['queueSizes']): void { this.queueSizes = fn; }

  sessionOpened(listener: string): void {
    const l = this.listener(listener);
    this.sessions.inc({ listener: l });
    this.sessionsOpen.inc({ listener: l });
  }

  sessionClosed(listener: string): void { this.sessionsOpen.dec({ listener: this.listener(listener) }); }

  authAttempt(mechanism: string, outcome: AuthOutcome): void {
    this.auth.inc({ mechanism: pick(String(mechanism).toUpperCase(), MECHANISMS), outcome: pick(outcome, AUTH_OUTCOMES) });
  }

  /** The final reply to a message (after DATA/BDAT, or the refusal at MAIL). */
  message(r: ReplyLike): void { this.messages.inc(replyLabels(r)); }

  recipient(r: ReplyLike): void { this.recipients.inc(replyLabels(r)); }

  limitDecision(d: LimitDecisionLike): void {
    if (d.outcome === 'limited' || d.outcome === 'flood') {
      this.limitHits.inc({ scope: pick(d.hit?.rule?.scope ?? 'other', LIMIT_SCOPES), outcome: d.outcome });
    } else if (d.outcome === 'unavailable') {
      this.limitStoreDegraded.inc({ result: 'refused' });
    }
    if (d.degraded) this.limitStoreDegraded.inc({ result: 'fallback' });
  }

  lockout(scope: LockoutScope): void { this.lockouts.inc({ scope: pick(scope, LOCKOUT_SCOPES) }); }

  /** One recipient's outcome of one attempt (a recipient deferred twice counts twice). */
  relayOutcome(outcome: RelayOutcome): void { this.relay.inc({ outcome: pick(outcome, RELAY_OUTCOMES) }); }

  /** One transaction with a next hop, by its least final outcome (deferred, bounced, sent). */
  relayAttempt(outcome: RelayOutcome, ms: number): void {
    if (ms >= 0) this.relayAttemptSeconds.observe({ outcome: pick(outcome, RELAY_OUTCOMES) }, ms / 1000);
  }

  noticeSent(kind: string, n: number): void { this.notices.inc({ kind: pick(kind, NOTICE_KINDS) }, n); }
  noticeViewed(via: string): void { this.noticeViews.inc({ via: pick(via, NOTICE_VIA) }); }
  selfRelease(outcome: string): void { this.selfReleases.inc({ outcome: pick(outcome, SELF_RELEASE_OUTCOMES) }); }
  sourceRecord(source: string, outcome: string, reason: string): void {
    this.sourceRecords.inc({ source: pick(source, SOURCES), outcome: pick(outcome, SOURCE_OUTCOMES), reason: reason ? pick(reason, SOURCE_REASONS) : '' });
  }
  abuseSignal(cls: string, ingested: boolean): void { this.abuseSignals.inc({ class: pick(cls, ABUSE_SIGNAL_CLASSES), result: ingested ? 'ingested' : 'dropped' }); }
  abuseDecision(action: string, immune: boolean): void { this.abuseDecisions.inc({ action: pick(action, ABUSE_ACTIONS), immune: immune ? 'yes' : 'no' }); }
  /** Where the open-cases gauge reads at each scrape (the engine's case service, once it runs). */
  setCasesOpen(fn: (() => Promise<number>) | undefined): void { this.casesOpenSource = fn; }

  /** Milliseconds in, seconds out: the exposition keeps Prometheus' base unit. */
  transaction(listener: string, ms: number): void {
    if (ms >= 0) this.transactionSeconds.observe({ listener: this.listener(listener) }, ms / 1000);
  }

  private listener(name: string): string {
    if (this.listeners.has(name)) return name;
    if (this.listeners.size >= this.maxListeners || !/^[A-Za-z0-9_.:-]{1,40}$/.test(name)) return 'other';
    this.listeners.add(name);
    return name;
  }
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  return new Metrics(opts);
}
