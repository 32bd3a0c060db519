// retire: retiring old alias domains (issue 14, REQUIREMENTS K1–K5) — old
// shell-host names kept as mail domains that now serve only spammers. A
// retired domain moves by date through announced, warn, tempfail, refuse and
// gone; users who object before the deadline are kept with the address they
// still receive at. decide.ts answers what a recipient gets (K2: 550 5.1.1 in
// the session, never accept-then-bounce, never another address unless its user
// asked); the postfix part serves it over socketmap and tcp_table.
//
// Trusts: its own records; callers give lower-case local parts and canonical domains.
// Standards: RFC 5321 §3.4 (551), RFC 3463 X.1.1/X.1.6, RFC 7505 (null MX), Postfix access(5) WARN.
export type { RetirePhase, RetiredDomain, RetiredUser, RetireAnswer, RetiredEntry } from './types.ts';
export { RETIRE_PHASES } from './types.ts';
export { answerFor, phaseAt, hasKept } from './decide.ts';
