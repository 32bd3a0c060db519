// The envelope a queue file carries, and the one error type the spool raises.
import type { Reply } from '../core/index.ts';
import { REPLIES } from '../core/index.ts';

export type QueueState = 'active' | 'deferred' | 'hold' | 'corrupt';
export const QUEUE_STATES: readonly QueueState[] = ['active', 'deferred', 'hold', 'corrupt'];

/** Per-recipient progress; 'pending' until the first attempt. */
export type RecipientState = 'pending' | 'done' | 'deferred' | 'failed';

export type DsnNotify = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

export interface RecipientInput {
  address: string;
  /** RFC 3461 NOTIFY; undefined when the client gave none. */
  notify?: DsnNotify[];
  /** RFC 3461 ORCPT as given, e.g. "rfc822;bob@example.net". */
  orcpt?: string;
}

export interface Recipient extends RecipientInput {
  state: RecipientState;
  /** Last reply from the next hop for this recipient, as received. */
  reply?: string;
  /** Time of the last state change, ms since the epoch. */
  at?: number;
}

export interface MailFrom {
  /** Reverse path without angle brackets; '' is the null sender. */
  address: string;
  ret?: 'FULL' | 'HDRS';
  envid?: string;
  smtputf8?: boolean;
  body?: '7BIT' | '8BITMIME' | 'BINARYMIME';
  /** SIZE the client declared, if any. */
  size?: number;
}

/** What the MSA hands to `create`: the spool adds the id, states and times. */
export interface EnvelopeInput {
  mailFrom: MailFrom;
  recipients: RecipientInput[];
  /** Authenticated account (SASL authorization identity) and any further identity (subscriber line). */
  account?: string;
  identity?: string;
  client?: { ip: string; port: number };
  /** Free-form attributes later parts need (TLS version, AUTH mechanism, helo name…). */
  attributes?: Record<string, string>;
  /**
   * The producer vouches that the body has CRLF line ends only (no bare CR or
   * LF), as the MSA's fixups guarantee; the relay then only dot-stuffs. Left
   * out, the relay canonicalises as it sends.
   */
  canonical?: boolean;
}

export interface Envelope {
  id: string;
  mailFrom: MailFrom;
  recipients: Recipient[];
  account?: string;
  identity?: string;
  client?: { ip: string; port: number };
  receivedAt: number;
  attributes: Record<string, string>;
  /** See EnvelopeInput.canonical. */
  canonical?: boolean;
  /** Delivery attempts so far, the next one (when deferred), and why it is held. */
  attempts: number;
  nextAttemptAt?: number;
  lastReply?: string;
  holdReason?: string;
  /** When the delay warning went out, if it did. */
  delayWarnedAt?: number;
}

/** A progress record appended after END; applied in order over the stored envelope. */
export type StatusRecord =
  | { t: 'rcpt'; i: number; state: RecipientState; reply?: string; at: number }
  | { t: 'attempt'; at: number; next?: number; reply?: string }
  | { t: 'hold'; reason: string; at: number }
  /** An operator's release from hold/: the message is no longer held, so no reason either. */
  | { t: 'release'; at: number }
  /** An operator's requeue: the retry schedule starts over. */
  | { t: 'requeue'; at: number }
  /** The relay sent the one delay warning (RFC 3464 Action: delayed) this message gets. */
  | { t: 'warned'; at: number };

/**
 * 'storage': the disk is full or over quota (reply 452 4.3.1); 'io': any other
 * write/sync/rename failure (451 4.3.0). Either way the message was not accepted
 * and nothing accepted before it is harmed.
 */
export type SpoolErrorKind = 'storage' | 'io' | 'aborted';

export class SpoolError extends Error {
  readonly kind: SpoolErrorKind;
  readonly reply: Reply;
  constructor(kind: SpoolErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpoolError';
    this.kind = kind;
    this.reply = kind === 'storage'
      ? REPLIES.storage
      : REPLIES.internal;
  }
}

const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

export function toSpoolError(err: unknown, what: string): SpoolError {
  if (err instanceof SpoolError) return err;
  const code = (err as { code?: string } | null)?.code;
  return new SpoolError(code && STORAGE_CODES.has(code) ? 'storage' : 'io', `${what}: ${code ?? String(err)}`, { cause: err });
}
