// The contract between the SMTP engine and whatever policy drives it.
// The engine speaks the protocol (RFC 5321, 3207, 4954, 1870, 6152, 6531, 2920,
// 3030, 3461, 2034) and knows no policy: at each phase it asks the handler.
import type { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { Logger, Reply, SaslExchange, Verdict } from '../core/index.ts';

export type TlsMode = 'none' | 'starttls' | 'implicit';
export type BareLfPolicy = 'reject' | 'normalize';

export interface ListenerOptions {
  /** Name used in logs and in SessionInfo, e.g. "submission", "submissions", "relay". */
  name: string;
  host: string;
  port: number;
  /** Name we greet with and put in EHLO replies. */
  hostname: string;
  tls: TlsMode;
  /** 587 policy: before STARTTLS only EHLO/HELO/STARTTLS/NOOP/RSET/QUIT are allowed; others get 530 5.7.0. */
  requireTls: boolean;
  /** Do not advertise or accept AUTH before TLS (RFC 4954 §4, RFC 8314). */
  authRequiresTls: boolean;
  bareLf: BareLfPolicy;
  /** Postfix smtpd_forbid_unauth_pipelining: unauthenticated clients that pipeline are dropped with 554 5.5.0. */
  forbidUnauthPipelining: boolean;
  maxMessageSize: number;
  /** Recipients per transaction before 452 4.5.3 (RFC 5321 §4.5.3.1.8: at least 100). */
  maxRecipients: number;
  smtputf8: boolean;
  chunking: boolean;
  /** Seconds: idle between commands once authenticated (RFC 5321 §4.5.3.2.7: at least 300). */
  idleTimeout: number;
  /** Seconds: whole session (counted from connect) once authenticated. */
  maxSessionTime: number;
  /** Seconds: idle between commands before AUTH succeeds. */
  preAuthIdleTimeout: number;
  /** Seconds: from connect until AUTH must have succeeded. */
  preAuthSessionTime: number;
  /** Seconds: TLS handshake (implicit or after STARTTLS). */
  tlsHandshakeTimeout: number;
  /** Unknown/invalid commands and error replies before 421 and close. */
  maxErrors: number;
  maxConnections: number;
  /** Open connections per client address (IPv4-mapped IPv6 counts as the IPv4 address). */
  maxConnectionsPerIp: number;
  /** Open connections per client network: the address masked to ipv4NetworkPrefix / ipv6NetworkPrefix bits. */
  maxConnectionsPerNetwork: number;
  ipv4NetworkPrefix: number;
  ipv6NetworkPrefix: number;
  /** Octets incl. CRLF; RFC 5321 minimum 512. */
  maxCommandLine: number;
  /** Octets of one AUTH exchange line (RFC 4954 §4: 12288). */
  maxAuthLine: number;
  /**
   * Octets of replies written but not yet taken by the network above which the session
   * stops reading and processing input until they drain (a client that pipelines and
   * never reads); a session whose replies do not drain within the idle timeout is dropped.
   */
  maxReplyBacklog: number;
}

export interface TlsInfo {
  protocol: string; // "TLSv1.3"
  cipher: string; // "TLS_AES_256_GCM_SHA384"
  bits?: number;
}

export interface AuthInfo {
  /** The authenticated account identity (authcid, or authzid when it was authorised). */
  identity: string;
  mechanism: string;
}

/** What the handler may know about a session. The engine owns it; handlers read it. */
export interface SessionInfo {
  readonly id: string;
  readonly listener: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly startedAt: number;
  readonly tls: TlsInfo | null;
  readonly helo: string | null;
  readonly esmtp: boolean;
  readonly auth: AuthInfo | null;
  /** Transactions completed (accepted) in this session. */
  readonly messages: number;
}

/** An envelope address as received; '' is the null reverse-path <>. */
export interface Address {
  /** The mailbox, local@domain, without angle brackets; '' for <>. Source routes are dropped (RFC 5321 §4.1.1.3). */
  address: string;
  localPart: string;
  domain: string;
  /** True when any octet is non-ASCII (needs SMTPUTF8, RFC 6531). */
  utf8: boolean;
}

export interface MailFromParams {
  size?: number;
  body?: '7BIT' | '8BITMIME';
  smtputf8?: boolean;
  /** RFC 3461 */
  ret?: 'FULL' | 'HDRS';
  envid?: string; // xtext-decoded
  /** RFC 4954 §5 AUTH= parameter, xtext-decoded; '<>' when empty. */
  auth?: string;
}

export interface RcptToParams {
  /** RFC 3461 NOTIFY: ['NEVER'] or a subset of SUCCESS, FAILURE, DELAY. */
  notify?: Array<'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY'>;
  /** RFC 3461 ORCPT, "addr-type;address" with the address xtext-decoded. */
  orcpt?: string;
}

export interface MailFrom extends Address {
  params: MailFromParams;
}

export interface RcptTo extends Address {
  params: RcptToParams;
}

/** The transaction as it stands when a phase is asked. */
export interface Transaction {
  readonly mailFrom: MailFrom;
  /** Recipients accepted so far. */
  readonly rcptTo: readonly RcptTo[];
  /** 'data' or 'bdat' once the body starts. */
  readonly bodyMode: 'data' | 'bdat' | null;
}

/** The SASL exchange (the engine does the RFC 4954 framing: base64, '*', 334, line length); defined in core. */
export type { SaslStep, SaslExchange } from '../core/index.ts';

export interface SmtpHandler {
  /** After accept (and after the TLS handshake on implicit-TLS listeners), before the greeting. A refusal is sent instead of 220, then close (554 at the greeting). */
  connect?(session: SessionInfo): Verdict | Promise<Verdict>;
  helo?(session: SessionInfo, name: string): Verdict | Promise<Verdict>;
  /** Mechanisms to advertise in this session state (the engine already hides them before TLS when authRequiresTls). */
  authMechanisms(session: SessionInfo): readonly string[];
  /** Start an exchange for a mechanism from authMechanisms(); null means unsupported (504 5.5.4). */
  authStart(session: SessionInfo, mechanism: string): SaslExchange | null;
  mailFrom(session: SessionInfo, from: MailFrom): Verdict | Promise<Verdict>;
  rcptTo(session: SessionInfo, tx: Transaction, rcpt: RcptTo): Verdict | Promise<Verdict>;
  /**
   * The message. `body` yields the content after dot-unstuffing (DATA) or the raw chunks (BDAT), with the
   * listener's bare-LF policy applied, and never the end-of-data marker. Backpressure is honoured: the engine
   * stops reading the socket while the consumer lags. If the engine finds a fault after the body started
   * (message too big, bare LF under 'reject'), it destroys `body` with a BodyError; it keeps reading until the
   * end of the data, sends that error's reply, and ignores the verdict. Otherwise the verdict answers the final
   * dot / BDAT LAST. The handler must consume or destroy `body`.
   */
  data(session: SessionInfo, tx: Transaction, body: Readable): Promise<Verdict>;
  /** The transaction ended without a message being accepted (RSET, EHLO, STARTTLS, rejected data, close). */
  reset?(session: SessionInfo, tx: Transaction): void;
  /** The session ended. */
  close?(session: SessionInfo): void;
}

/** Raised on the body stream when the engine rejects the message content itself. */
export class BodyError extends Error {
  readonly reply: Reply;
  constructor(reply: Reply) {
    super(typeof reply.text === 'string' ? reply.text : reply.text.join(' '));
    this.name = 'BodyError';
    this.reply = reply;
  }
}

export interface SmtpServerOptions {
  listeners: ListenerOptions[];
  handler: SmtpHandler;
  logger: Logger;
  /** Returns the current TLS context (called per connection, so a SIGHUP reload takes effect for new sessions). */
  secureContext?: () => SecureContext;
}
