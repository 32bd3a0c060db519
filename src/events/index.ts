// events: the one bus on which parts say what happened. A part publishes a
// typed event; metrics, logs, attribution, the statistics and the abuse engine subscribe. No
// part reports through another part's closures. The bus is in-process by
// default; the `EventBus` interface is what a fleet transport (Redis, between
// nodes) implements later: events are plain JSON-safe data for that reason.
//
// Trusts its subscribers not to block: a subscriber runs synchronously in the
// publisher's turn, must be cheap, and a subscriber that throws is logged and
// skipped (it never breaks the publisher or the other subscribers).
import type { Logger } from '../core/index.ts';

/** A reply as events carry it; `key` names the reply catalogue's entry (core's REPLIES) of a refusal, when known. */
export type ReplyInfo = { code: number; enhanced?: string; key?: string };

/**
 * Every event, by name. Fields are plain data (strings, numbers, booleans, null).
 * docs/events.md documents each event and field; a test checks it against this map.
 * Client text (logins, addresses) is carried as given: whoever prints it encodes it.
 */
export interface EventMap {
  'session.opened': { session: string; listener: string; clientIp: string };
  'session.closed': { session: string; listener: string; clientIp: string };
  'auth.succeeded': { session: string; listener: string; clientIp: string; mechanism: string; login: string };
  'auth.failed': { session: string; listener: string; clientIp: string; mechanism: string; login: string | null; why: AuthFailureKind };
  'auth.lockout': { scope: string; key: string; clientIp: string; login: string | null; lockoutMs: number };
  'limit.hit': { rule: string | null; scope: string | null; outcome: 'limited' | 'flood' | 'unavailable' | 'held'; account: string | null; subscriber: string | null; clientIp: string; retryAfterMs: number; degraded: boolean };
  /** An allowed decision made by the node-local fallback bucket (the shared store was unreachable). */
  'limit.degraded': { account: string; clientIp: string };
  'limit.flood': { rule: string; account: string; subscriber: string | null; clientIp: string; suspend: boolean; source: 'submission' | 'policy-service' };
  'recipient.answered': { session: string; listener: string; reply: ReplyInfo };
  /** One per finished transaction (the log line and the attribution record are made from it). */
  'message.accepted': TransactionEvent & { queueId: string };
  'message.refused': TransactionEvent & { queueId: string | null };
  'message.held': TransactionEvent & { queueId: string; reason: string };
  /** One scanner's result for one message (submission or the inbound filter): the abuse engine scores rejects per subscriber. */
  'scan.verdict': {
    queueId: string; direction: 'outbound' | 'inbound'; account: string | null; subscriber: string | null; clientIp: string;
    scanner: string; verdict: 'clean' | 'reject' | 'soft-reject' | 'add-header' | 'hold' | 'oversize' | 'failed';
    action: 'accept' | 'add-header' | 'hold' | 'tempfail' | 'reject'; reason: string; score: number | null; host: string | null; ms: number;
  };
  /**
   * The inbound filter (Postfix's before-queue content filter) finished one message: forwarded to the next hop (its reply),
   * held for the desk (J5), refused or deferred. Recipients as the envelope gave them (lower-cased domain); the retired-domain
   * measurement (K1) is made from these.
   */
  'inbound.filtered': {
    queueId: string | null; clientIp: string | null; sender: string; recipients: string[];
    dkim: 'pass' | 'fail' | 'none' | 'temperror' | 'permerror' | 'neutral' | 'policy';
    repairs: string[]; outcome: 'forwarded' | 'held' | 'refused' | 'deferred'; reply: ReplyInfo; size: number;
    /** The inbound scan's verdict when scanning is on: true for reject, hold, add-header or soft-reject; null when not scanned. */
    spam: boolean | null; ms: number;
  };
  /** One recipient's outcome of one delivery attempt, as filed. */
  'relay.outcome': { queueId: string; recipient: string; outcome: 'sent' | 'deferred' | 'bounced'; remote: string | null; reply: string; delayMs: number };
  /** One transaction with a next hop (connecting included), by its least final outcome. */
  'relay.attempt': { queueId: string; outcome: 'sent' | 'deferred' | 'bounced'; ms: number };
  'edge.blocked': { edge: string; source: string; packets: number; destinations: number };
  'policy.changed': { action: string; object: string; actor: string; reason: string };
  /** An edge acknowledged (in its report) the policy version it enforces: the decision-to-edge latency ends here. */
  'edge.applied': { edge: string; version: string; revision: number };
  /** The directory recorded that a subscriber began or stopped holding an address (a lease, a RADIUS session, a static entry). */
  'directory.assigned': { subscriber: string; prefix: string; portLo: number | null; portHi: number | null; source: string; start: number };
  'directory.ended': { subscriber: string; prefix: string; source: string; end: number };
  /** An address source (the RADIUS accounting server, a detail file, a Kea lease file) took a record, refused it (answered, not applied) or dropped a packet (not answered). */
  'directory.source-record': { source: 'radius' | 'detail' | 'kea'; outcome: 'accepted' | 'refused' | 'dropped'; reason: string };
  /** An outside complaint accepted by the abuse mailbox and stored. */
  'abuse.report': { report: string; kind: 'arf' | 'plain'; feedbackType: string | null; source: string | null; sourceFrom: string; at: number; subscriber: string | null; subject: string | null };
  /** An address of the provider's own space found listed in a configured DNSBL zone. */
  'dnsbl.listed': { address: string; zone: string; answer: string; reason: string | null };
  'case.opened': { case: string; subscriber: string };
  /** A rule fired (or the desk acted): the decision, whether the subscriber's tier is immune to it, and until when it holds. */
  'case.decision': { case: string; subscriber: string; decision: string; action: string; rule: string; until: number | null; immune: boolean };
  /** A decision reached an edge: ms from the decision to the edge's acknowledgement of a policy containing it. */
  'case.enforced': { case: string; decision: string; edge: string; ms: number };
  'case.released': { case: string; subscriber: string; actor: string; kind: 'desk' | 'self' | 'expired' };
  'case.closed': { case: string; subscriber: string };
  /** A notice to a subscriber's contacts was committed to the spool (one queue id per contact). */
  'notice.sent': { case: string; subscriber: string; kind: string; queueIds: string[] };
  /** The notice page was shown: found by the link's token, by the client's address, or no case found. */
  'notice.viewed': { case: string | null; via: 'token' | 'address' | 'none' };
  /** A self-release asked for on the notice page: released, refused (not allowed now) or a bad form (csrf). */
  'notice.self-release': { case: string; subscriber: string; outcome: 'released' | 'refused' | 'csrf' };
}

export type AuthFailureKind = 'failure' | 'locked' | 'disabled' | 'error';

export interface TransactionEvent {
  at: number;
  session: string;
  listener: string;
  clientIp: string;
  clientPort: number;
  account: string | null;
  subscriber: string | null;
  mechanism: string | null;
  tlsVersion: string | null;
  tlsCipher: string | null;
  sender: string;
  recipients: number;
  size: number | null;
  messageId: string | null;
  /** Header repairs the fixer made (J1–J4 names). */
  repairs: string[];
  /** The final reply; null only for a 250 built elsewhere. */
  reply: ReplyInfo | null;
  ms: number;
}

export type EventName = keyof EventMap;
export type Handler<K extends EventName> = (event: EventMap[K], name: K) => void;

export interface EventBus {
  publish<K extends EventName>(name: K, event: EventMap[K]): void;
  /** Returns the unsubscribe function. */
  subscribe<K extends EventName>(name: K, handler: Handler<K>): () => void;
  /** Every event (logs, a fleet transport). */
  subscribeAll(handler: (event: EventMap[EventName], name: EventName) => void): () => void;
}

export class InProcessBus implements EventBus {
  private readonly handlers = new Map<EventName, Array<(e: unknown, n: EventName) => void>>();
  private readonly all: Array<(e: unknown, n: EventName) => void> = [];
  private readonly logger?: Logger;
  constructor(opts: { logger?: Logger } = {}) {
    this.logger = opts.logger;
  }

  publish<K extends EventName>(name: K, event: EventMap[K]): void {
    const hs = this.handlers.get(name);
    if (hs) for (const h of hs) this.call(h, event, name);
    for (const h of this.all) this.call(h, event, name);
  }

  subscribe<K extends EventName>(name: K, handler: Handler<K>): () => void {
    let hs = this.handlers.get(name);
    if (!hs) this.handlers.set(name, (hs = []));
    const h = handler as (e: unknown, n: EventName) => void;
    hs.push(h);
    return () => { const i = hs.indexOf(h); if (i >= 0) hs.splice(i, 1); };
  }

  subscribeAll(handler: (event: EventMap[EventName], name: EventName) => void): () => void {
    const h = handler as (e: unknown, n: EventName) => void;
    this.all.push(h);
    return () => { const i = this.all.indexOf(h); if (i >= 0) this.all.splice(i, 1); };
  }

  private call(h: (e: unknown, n: EventName) => void, event: unknown, name: EventName): void {
    try {
      h(event, name);
    } catch (err) {
      try { this.logger?.error({ event: 'bus', name, err: String(err) }, 'an event subscriber failed'); } catch { /* a failing logger must not break the publisher */ }
    }
  }
}

export { EVENTS, type EventDoc } from './catalogue.ts';
