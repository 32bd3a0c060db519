// abuse: the zombie lifecycle — signals, cases, decisions, notices, release.
//
// Purpose: join every signal (bus events, edge reports, outside complaints,
// DNSBL listings) to the subscriber who held the address at the signal's time,
// keep one open case per subscriber with append-only evidence, a decaying score
// and a timeline, apply the configured rules (notify, quarantine, suspend,
// revoke an exemption) through enforcement ports, and release — by the desk, by
// the subscriber when the evidence has gone quiet, or by expiry — restoring the
// previous policy.
//
// Trusts: the directory for who held an address, the store for durability, the
// wiring's ports to enforce. Outside complaints are untrusted mail: parsed with
// caps, every value recorded with where it came from.
//
// Standards: RFC 6561 (bot remediation: detection, notification, remediation),
// RFC 5965 (ARF), RFC 2142 (abuse@), M3AAWG walled-garden practice.
export * from './types.ts';
export { DEFAULT_RULES, DEFAULT_WEIGHTS, RuleError, parseRules, parseWeights, ruleScore, type Rule, type Weights } from './rules.ts';
export { parseReport, type ParsedReport, type ParseOptions, type SourceFrom, type AtFrom } from './report/parse.ts';
export { NoticeTokens, loadNoticeSecret, TOKEN_REFUSALS, type TokenRefusal, type LinkGrant, type CsrfGrant, type Verified, type NoticeTokenOptions } from './notice/tokens.ts';
export { loadTemplates, parseTemplate, renderTemplate, asksForPassword, TemplateError, NOTICE_KINDS, PLACEHOLDERS, type NoticeKind, type Template, type TemplateValues } from './notice/templates.ts';
export { evidenceLines, plainTime, type EvidenceLike } from './notice/evidence.ts';
export { NoticeMailer, untilText, type NoticeSpool, type NoticeMailerOptions } from './notice/sender.ts';
export { NoticeDesk, type NoticeCaseView, type NoticeLookup, type NoticeAsk, type ReleaseOutcome, type NoticeDeskOptions } from './notice/desk.ts';
export { openAbuseEngine, ABUSE_MIGRATIONS, CaseError, durationOf, type RunningAbuseEngine, type CaseErrorCode, type AbuseStats, type UnattributedReason } from './engine.ts';
export { ReportStore, REPORT_MIGRATIONS, REPORT_PAGE_MAX, type ReportRow, type ReportQuery, type ReportDb } from './report/store.ts';
export { AbuseMailbox, startMailbox, type MailboxOptions, type MailboxDeps, type MailboxListen } from './report/mailbox.ts';
export { DnsblChecker, dnsblName, queryAddress, dnsblStateStore, DNSBL_MIGRATIONS, type DnsblState, type DnsblListing, type DnsblListings, type DnsblOptions, type DnsblAnswer, type RoundResult as DnsblRound } from './dnsbl.ts';
