// relay: the queue runner and SMTP client (client.ts, written here: PIPELINING,
// per-recipient DSN parameters) that moves spooled mail to the next
// hop. Two routes: a smarthost (STARTTLS none/opportunistic/required, optional
// AUTH), or direct MX delivery (MX, then A/AAAA; null MX; IPv6 and IPv4;
// opportunistic unverified STARTTLS; at most N transactions per domain; only
// public addresses, no address literals, unless a lab allows them). AUTH to a
// smarthost only inside STARTTLS with a verified certificate.
// Connections are reused per destination; outcomes are per recipient; 4xx is
// retried with jittered backoff up to a maximum queue lifetime; permanent
// failures, successes the next hop will not report, and one delay warning
// become RFC 3464 notices to the sender, queued in the same spool and
// delivered by the same relay. A message whose recipients are all final is
// deleted; hold/ is only for explicit holds.
// Trusts: the spool's envelopes (written by the MSA), the next hops' replies
// and the DNS answers it is given (no DNSSEC/DANE here), but in
// MX mode connects only to the public addresses among them; it trusts no queue
// file's body until its checksum checks out (a damaged one is cut off before
// the final dot and moved to corrupt/).
// Standards: RFC 5321 (client side, §5.1 MX/implicit MX, §4.5.2 dot-stuffing,
// §2.3.8 CRLF only), RFC 7505 null MX, RFC 3207 STARTTLS, RFC 4954 AUTH,
// RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 3461 DSN
// parameters (RET, ENVID, NOTIFY, ORCPT), RFC 3464/6522 delivery status
// notifications, RFC 6533 (global DSN types for SMTPUTF8), RFC 3463 codes,
// RFC 3834 Auto-Submitted.
export { Relay, type RelayOptions, type RelayOutcome, type RelayRoute, type RetryOptions, type DsnOptions } from './relay.ts';
export { type SmarthostOptions, type TlsMode, type ClientTimeouts } from './client.ts';
export { CanonicalLines, DataEncoder } from './encode.ts';
export { type MxRouteOptions, type MxHost, type Resolution, resolveDestination, destinationOf } from './mx.ts';
export { statusOf } from './dsn.ts';
export { nonPublicRange, recipientDomainCheck } from './destinations.ts';
