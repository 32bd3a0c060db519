// Logs as one subscriber of the event bus: one line per transaction, per AUTH
// outcome, lockout, limit hit, flood and relay outcome. Each line's `event` and
// fields are listed in docs/events.md (generated from LOG_LINES and the
// events catalogue; a test keeps them equal). Client text (addresses, logins,
// message ids, next-hop replies) passes visible() first: JSON escapes C0, not
// DEL, C1 or the bidi controls.
import { visible, type Logger } from '../core/index.ts';
import type { EventBus, EventMap, EventName, ReplyInfo, TransactionEvent } from '../events/index.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';
export interface LogLine<K extends EventName> {
  level: Level | ((e: EventMap[K]) => Level);
  /** The line's `event` field (what an operator greps for) and its pino message. */
  event: string;
  msg?: string;
  build(e: EventMap[K]): Record<string, unknown>;
}

const v = (s: string | null): string | null => (s === null ? null : visible(s));
const code = (r: ReplyInfo | null): string => (r ? `${r.code}${r.enhanced ? ` ${r.enhanced}` : ''}` : '250');

function tx(e: TransactionEvent, verdict: string, queueId: string | null): Record<string, unknown> {
  return {
    queueId, session: e.session, listener: e.listener, account: v(e.account), subscriber: v(e.subscriber),
    ip: e.clientIp, port: e.clientPort, tls: e.tlsVersion, cipher: e.tlsCipher, mechanism: e.mechanism,
    sender: visible(e.sender), recipients: e.recipients, size: e.size, messageId: v(e.messageId),
    ...(e.repairs.length ? { repairs: e.repairs } : {}), verdict, code: code(e.reply), ms: e.ms,
  };
}

/** Null: the event makes no line of its own (it is in the transaction line, or counted only). */
export const LOG_LINES: { [K in EventName]: LogLine<K> | null } = {
  'session.opened': null,
  'session.closed': null,
  'recipient.answered': null,
  'relay.attempt': null,
  'limit.degraded': null,
  'directory.source-record': null, // one per accounting packet or lease row: counted (metrics), the sources log their own failures
  'message.accepted': { level: 'info', event: 'transaction', build: (e) => tx(e, 'accepted', e.queueId) },
  'message.held': { level: 'warn', event: 'transaction', build: (e) => ({ ...tx(e, 'held', e.queueId), reason: visible(e.reason) }) },
  'message.refused': {
    level: 'info', event: 'transaction',
    build: (e) => tx(e, e.reply && e.reply.code < 500 ? 'deferred' : 'rejected', e.queueId),
  },
  'auth.succeeded': {
    level: 'info', event: 'auth',
    build: (e) => ({ session: e.session, listener: e.listener, ip: e.clientIp, mechanism: e.mechanism, identity: visible(e.login), outcome: 'success' }),
  },
  'auth.failed': {
    level: 'warn', event: 'auth',
    build: (e) => ({ session: e.session, listener: e.listener, ip: e.clientIp, mechanism: e.mechanism, login: v(e.login), outcome: e.why }),
  },
  'auth.lockout': {
    level: 'warn', event: 'lockout',
    build: (e) => ({ scope: e.scope, subject: visible(e.key), ip: e.clientIp, login: v(e.login), lockoutMs: e.lockoutMs }),
  },
  'limit.hit': {
    level: 'warn', event: 'limit',
    build: (e) => ({ outcome: e.outcome, rule: e.rule, scope: e.scope, account: v(e.account), subscriber: v(e.subscriber), ip: e.clientIp, retryAfterMs: e.retryAfterMs, ...(e.degraded ? { degraded: true } : {}) }),
  },
  'limit.flood': {
    level: 'warn', event: 'flood',
    build: (e) => ({ rule: e.rule, account: visible(e.account), subscriber: v(e.subscriber), ip: e.clientIp, suspend: e.suspend, source: e.source }),
  },
  'relay.outcome': {
    level: (e) => (e.outcome === 'bounced' ? 'warn' : 'info'), event: 'relay', msg: 'delivery',
    // status keeps the spool's word for a bounce (failed), which the relay's log always used.
    build: (e) => ({ queueId: e.queueId, to: visible(e.recipient), relay: e.remote, status: e.outcome === 'bounced' ? 'failed' : e.outcome, reply: visible(e.reply), delay: e.delayMs / 1000 }),
  },
  'edge.blocked': {
    level: 'debug', event: 'edge-blocked',
    build: (e) => ({ edge: e.edge, source: e.source, packets: e.packets, destinations: e.destinations }),
  },
  'policy.changed': {
    level: 'info', event: 'policy-change',
    build: (e) => ({ action: e.action, object: visible(e.object), actor: visible(e.actor), reason: visible(e.reason) }),
  },
  'edge.applied': { level: 'info', event: 'edge-applied', build: (e) => ({ edge: e.edge, version: e.version, revision: e.revision }) },
  'directory.assigned': {
    level: 'debug', event: 'assigned',
    build: (e) => ({ subscriber: visible(e.subscriber), prefix: e.prefix, portLo: e.portLo, portHi: e.portHi, source: e.source, start: e.start }),
  },
  'directory.ended': { level: 'debug', event: 'assignment-ended', build: (e) => ({ subscriber: visible(e.subscriber), prefix: e.prefix, source: e.source, end: e.end }) },
  'abuse.report': {
    level: 'info', event: 'abuse-report',
    build: (e) => ({ report: e.report, kind: e.kind, feedbackType: v(e.feedbackType), source: e.source, sourceFrom: e.sourceFrom, at: e.at, subscriber: v(e.subscriber), subject: v(e.subject) }),
  },
  'dnsbl.listed': { level: 'warn', event: 'dnsbl-listed', build: (e) => ({ address: e.address, zone: e.zone, answer: visible(e.answer), reason: v(e.reason) }) },
  'case.opened': { level: 'info', event: 'case-opened', build: (e) => ({ case: e.case, subscriber: visible(e.subscriber) }) },
  'case.decision': {
    level: 'warn', event: 'case-decision',
    build: (e) => ({ case: e.case, subscriber: visible(e.subscriber), decision: e.decision, action: e.action, rule: visible(e.rule), until: e.until, ...(e.immune ? { immune: true } : {}) }),
  },
  'scan.verdict': {
    level: (e) => (e.verdict === 'clean' ? 'debug' : e.verdict === 'failed' ? 'error' : 'warn'), event: 'scan',
    build: (e) => ({ queueId: e.queueId, direction: e.direction, account: v(e.account), subscriber: v(e.subscriber), ip: e.clientIp,
      scanner: visible(e.scanner), verdict: e.verdict, action: e.action, reason: visible(e.reason), score: e.score, host: v(e.host), ms: e.ms }),
  },
  'inbound.filtered': {
    level: (e) => (e.outcome === 'forwarded' && !e.repairs.length ? 'info' : 'warn'), event: 'inbound',
    build: (e) => ({ queueId: e.queueId, ip: v(e.clientIp), sender: visible(e.sender), recipients: e.recipients.map((r) => visible(r)), dkim: e.dkim,
      ...(e.repairs.length ? { repairs: e.repairs } : {}), outcome: e.outcome, code: code(e.reply), size: e.size, spam: e.spam, ms: e.ms }),
  },
  'case.enforced': { level: 'info', event: 'case-enforced', build: (e) => ({ case: e.case, decision: e.decision, edge: e.edge, ms: e.ms }) },
  'case.released': { level: 'info', event: 'case-released', build: (e) => ({ case: e.case, subscriber: visible(e.subscriber), actor: visible(e.actor), kind: e.kind }) },
  'case.closed': { level: 'info', event: 'case-closed', build: (e) => ({ case: e.case, subscriber: visible(e.subscriber) }) },
  'notice.sent': { level: 'info', event: 'notice-sent', build: (e) => ({ case: visible(e.case), subscriber: visible(e.subscriber), kind: e.kind, queueIds: e.queueIds }) },
  'notice.viewed': { level: 'debug', event: 'notice-viewed', build: (e) => ({ case: v(e.case), via: e.via }) },
  'notice.self-release': {
    level: (e) => (e.outcome === 'released' ? 'info' : 'warn'), event: 'notice-self-release',
    build: (e) => ({ case: visible(e.case), subscriber: visible(e.subscriber), outcome: e.outcome }),
  },
};

/** Subscribes the log lines to `bus`; returns the unsubscribe function. */
export function subscribeLogs(bus: EventBus, logger: Logger): () => void {
  return bus.subscribeAll((e, name) => {
    const line = LOG_LINES[name] as LogLine<EventName> | null;
    if (!line) return;
    const level = typeof line.level === 'function' ? line.level(e) : line.level;
    logger[level]({ event: line.event, ...line.build(e) }, line.msg);
  });
}
