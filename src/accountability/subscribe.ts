// The attribution log as a subscriber of the event bus: one row for every
// message the MSA accepted (queued or held), made from the transaction event.
import type { EventBus, TransactionEvent } from '../events/index.ts';
import type { AttributionEntry } from './log.ts';

function entry(e: TransactionEvent, queueId: string, account: string, verdicts?: unknown): AttributionEntry {
  return {
    time: e.at, queueId, messageId: e.messageId, account, subscriber: e.subscriber, clientIp: e.clientIp, clientPort: e.clientPort,
    listener: e.listener, tlsVersion: e.tlsVersion, tlsCipher: e.tlsCipher, authMechanism: e.mechanism, sender: e.sender,
    recipientCount: e.recipients, size: e.size ?? 0, ...(verdicts !== undefined ? { verdicts } : {}),
  };
}

/** Subscribes `log` to `bus`; an unauthenticated message (postmaster exception) has no account and no row. */
export function subscribeAttribution(bus: EventBus, log: { record(e: AttributionEntry): unknown }): () => void {
  const offs = [
    bus.subscribe('message.accepted', (e) => { if (e.account) log.record(entry(e, e.queueId, e.account)); }),
    bus.subscribe('message.held', (e) => { if (e.account) log.record(entry(e, e.queueId, e.account, { held: e.reason })); }),
  ];
  return () => { for (const off of offs) off(); };
}
