// submission: the MSA (RFC 6409, RFC 4954, RFC 5068 §3, MAAWG practices 1–2).
// Composes authentication, sender binding, message fixups and the durable spool
// into an SmtpHandler. Trusts the engine's parsing and the parts it is given; it
// trusts nothing the client says until AUTH succeeded, and then only for the
// addresses the account owns: the envelope sender and every originator field
// (From, Sender, Resent-From, Resent-Sender; binding.ts). The RFC 6409 §6.4
// postmaster exception is rate limited per client address and queued with the
// null reverse-path, so it never causes a bounce. A message refused after DATA
// keeps its charge on the limits; only our own 4xx failures are refunded.
export { SubmissionHandler, type SubmissionOptions, type SubmissionDeps } from './handler.ts';
export type { AccountsPort, AccountView, SaslPort, SpoolPort, SpoolEnvelope, SpoolWriterPort, FixerPort, FixerResult, LimitsPort, LimitContext, PostmasterPort, DecisionPort, DecisionInput, SubmissionDecision } from './ports.ts';
