// events: the one bus on which parts say what happened. A part publishes a
// typed event; metrics, logs, attribution and the abuse engine subscribe. No
// part reports through another part's closures. The bus is in-process by
// default; the `EventBus` interface is what a fleet transport (Redis, between
// nodes) implements later: events are plain JSON-safe data for that reason.
//
// Trusts its subscribers not to block: a subscriber runs synchronously in the
// publisher's turn, must be cheap, and a subscriber that throws is logged and
// skipped (it never breaks the publisher or the other subscribers).
import type { Logger } from '../core/index.ts';

export type ReplyInfo = { code: number; enhanced?: string };

/** Every event, by name. Fields are plain data (strings, numbers, booleans, null). */
export interface EventMap {
  'session.opened': { listener: string; clientIp: string };
  'session.closed': { listener: string; clientIp: string };
  'auth.succeeded': { mechanism: string; login: string; clientIp: string; listener: string };
  'auth.failed': { mechanism: string; login: string | null; clientIp: string; listener: string; why: 'failure' | 'locked' | 'disabled' | 'error' };
  'auth.lockout': { scope: string; key: string; clientIp: string; login: string | null; untilMs: number };
  'limit.hit': { rule: string; key: string; account: string; subscriber: string | null; clientIp: string; reply: ReplyInfo };
  'limit.flood': { account: string; subscriber: string | null; clientIp: string; source: 'submission' | 'policy-service' };
  'recipient.answered': { listener: string; reply: ReplyInfo };
  /** One per finished transaction (the log line and the attribution record are made from it). */
  'message.accepted': TransactionEvent & { queueId: string };
  'message.refused': TransactionEvent;
  'message.held': TransactionEvent & { queueId: string; reason: string };
  'relay.outcome': { queueId: string; recipient: string; outcome: string; reply: string | null };
  'relay.attempt': { outcome: string; ms: number };
  'edge.blocked': { edge: string; source: string; packets: number; destinations: number };
  'policy.changed': { action: string; object: string; actor: string; revision: number };
}

export interface TransactionEvent {
  at: number;
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
