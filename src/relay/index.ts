// relay: the queue runner and SMTP client that moves spooled mail to the next
// hop. Smarthost mode: one configured host, STARTTLS none/opportunistic/required,
// optional AUTH, a small pool of reused connections, per-recipient outcomes,
// retries with jittered backoff, permanent failures parked in hold/.
// Trusts: the spool's envelopes (written by the MSA) and the smarthost's
// replies; it trusts no queue file's body until its checksum checks out (a
// damaged one is cut off before the final dot and moved to corrupt/).
// Standards: RFC 5321 (client side, §4.5.2 dot-stuffing, §2.3.8 CRLF only),
// RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 1870 SIZE, RFC 6152 8BITMIME,
// RFC 6531 SMTPUTF8, RFC 3461 DSN parameters (RET, ENVID, NOTIFY, ORCPT).
export { Relay, type RelayOptions, type RetryOptions } from './relay.ts';
export { CanonicalLines, type SmarthostOptions, type TlsMode, type ClientTimeouts } from './client.ts';
