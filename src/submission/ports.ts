// What the MSA needs from the other parts, as small interfaces. cli/ adapts the
// concrete auth, message, spool and limits parts to them; tests can pass fakes
// for unit cases, while the end-to-end tests run the real ones.
import type { Transform, Writable } from 'node:stream';
import type { Reply } from '../core/index.ts';
import type { OriginatorField } from '../message/index.ts';
import type { SaslExchange, SessionInfo, MailFrom, RcptTo } from '../smtp/index.ts';

export interface AccountView {
  login: string;
  subscriber: string | null;
  status: 'active' | 'disabled';
  tier: string;
}

/** Async: the account store behind it is SQLite or PostgreSQL. */
export interface AccountsPort {
  get(login: string): Promise<AccountView | null>;
  mayUseAddress(login: string, address: string): Promise<boolean>;
}

export interface SaslPort {
  mechanisms: readonly string[];
  start(mechanism: string, session: SessionInfo): SaslExchange | null;
}

export interface SpoolEnvelope {
  mailFrom: MailFrom;
  rcptTo: readonly RcptTo[];
  /** The client's MAIL FROM when the envelope was rewritten (postmaster exception: null reverse-path). */
  originalSender?: string;
  account: string | null;
  subscriber: string | null;
  client: { ip: string; port: number; helo: string | null; tls: string | null; mechanism: string | null; listener: string };
  receivedAt: number;
}

export interface SpoolWriterPort {
  readonly id: string;
  readonly stream: Writable;
  /** Durable once resolved; with `hold` the message is synced into hold/ with that reason and the relay never sees it. */
  commit(opts?: { hold?: string }): Promise<void>;
  abort(): Promise<void>;
}

export interface SpoolPort {
  /** Allocates a queue id and an incoming file. Throws a storage error when the disk is unusable. */
  create(envelope: SpoolEnvelope): SpoolWriterPort | Promise<SpoolWriterPort>;
}

export interface FixerResult {
  reject?: Reply;
  repairs: string[];
  /** Every From, Sender, Resent-From and Resent-Sender field, strictly read. */
  originators: OriginatorField[];
  messageId: string;
  size: number;
}

export interface FixerPort {
  create(input: { received: string; queueId: string; smtputf8: boolean }): Transform & { readonly result: FixerResult };
  received(input: {
    heloName: string;
    clientIp: string;
    hostname: string;
    protocol: string;
    tls?: { version: string; cipher: string };
    authId?: string;
    queueId: string;
    forRcpt?: string;
    date: Date;
    /** SMTPUTF8 transaction (RFC 6532 UTF-8 allowed in the field). */
    utf8: boolean;
  }): string;
  protocolName(input: { esmtp: boolean; tls: boolean; auth: boolean; utf8: boolean }): string;
}

/** The RFC 6409 §6.4 postmaster exception's own rate, per client address (issue 10 item 16). */
export interface PostmasterPort {
  /** Charges one message for this client address; a refusal becomes the RCPT reply. */
  admit(ip: string): Promise<Reply | null>;
}

/** Optional: per-customer and aggregate limits (issue 4). */
export interface LimitsPort {
  /** Checked at MAIL (messages) and RCPT (recipients); a refusal becomes the reply. */
  onMail(ctx: LimitContext): Promise<Reply | null>;
  onRcpt(ctx: LimitContext): Promise<Reply | null>;
  /** The transaction failed: give back what it took. */
  refund(ctx: LimitContext, recipients: number, messages: number): Promise<void>;
}

export interface LimitContext {
  account: string;
  subscriber: string | null;
  tier: string;
  ip: string;
}

/** What becomes of a message that passed every check, decided after it is fixed and before it is committed. */
export type SubmissionDecision =
  | { action: 'accept' }
  /** Accepted (250) into hold/: kept, never relayed until an operator releases it (Postfix's HOLD). */
  | { action: 'hold'; reason: string }
  | { action: 'refuse'; reply: Reply };

export interface DecisionInput {
  queueId: string;
  account: string | null;
  subscriber: string | null;
  clientIp: string;
  /** The limits context of this transaction (the object LimitsPort saw at MAIL and RCPT), if limits are on. */
  limits: LimitContext | null;
  sender: string;
  recipients: number;
  size: number;
  messageId: string;
}

/** Consulted once per message after the fixer and the header checks, before commit. */
export interface DecisionPort {
  decide(input: DecisionInput): SubmissionDecision | Promise<SubmissionDecision>;
}
