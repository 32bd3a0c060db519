// smtp: portwarden's SMTP server engine. Speaks the protocol only — line
// framing, the command table, pipelining, STARTTLS with the plaintext buffer
// purged on upgrade, implicit TLS, SASL framing, DATA and BDAT streams with
// strict end-of-data, and enforced limits (connections per client address and
// network, pre-AUTH timers, unread replies) — and asks an SmtpHandler for every
// decision. It knows no policy. A connection is a Session (`session.ts`: input
// pump, framing, lifecycle) composing its reply output with backpressure
// (`output.ts`) and its timers (`timers.ts`).
//
// Trusts: nothing from the network (every octet is bounded and checked, and a
// client that does not read its replies is not read either); the handler to
// answer (its exceptions become 451 4.3.0, never a crash); the caller's TLS
// context, except that TLS below 1.2 and client-initiated renegotiation are
// refused whatever it allows.
//
// Implements: RFC 5321 (SMTP), 3207 (STARTTLS), 8314 (implicit TLS, TLS ≥ 1.2
// per RFC 8997), 4954 (AUTH framing, AUTH=), 1870 (SIZE), 6152 (8BITMIME),
// 6531 (SMTPUTF8), 2920 (PIPELINING), 3030 (CHUNKING), 3461 (DSN parameters),
// 2034 (ENHANCEDSTATUSCODES). Defends against SMTP smuggling (only
// <CR><LF>.<CR><LF> ends DATA) and STARTTLS injection (CVE-2011-0411).
export { SmtpServer } from './server.ts';
export { defaultListenerOptions } from './options.ts';
export { BodyError } from './types.ts';
export { RCPT_OK } from './replies.ts';
export type {
  TlsMode,
  BareLfPolicy,
  ListenerOptions,
  TlsInfo,
  AuthInfo,
  SessionInfo,
  Address,
  MailFromParams,
  RcptToParams,
  MailFrom,
  RcptTo,
  Transaction,
  SaslStep,
  SaslExchange,
  SmtpHandler,
  SmtpServerOptions,
} from './types.ts';
