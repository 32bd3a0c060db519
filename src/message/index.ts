// message: checks and fixups applied to a submitted message between the SMTP
// engine and the spool (the Postfix cleanup(8) role). It prepends our Received
// field, repairs malformed header sections, adds Message-ID and Date, removes
// Bcc/Resent-Bcc/Return-Path/Content-Length, canonicalises line endings and
// enforces line, header-size and NUL limits, reporting each repair.
//
// Trusts: nothing in the message bytes (any octet may arrive, in any chunking);
// the caller for the Received value, the queue id and our hostname.
// Does not decide: a missing From, quarantine (J5) or what a reject does to the
// spool file; those belong to submission. D6 re-encoding of long lines is a
// later feature: today such a line is rejected, never truncated.
//
// Use: pipe the DATA/BDAT bytes through `new MessageFixer(opts, {received, queueId})`
// into the spool writer; read `fixer.result` after 'finish' (or listen for 'reject').
// When the header section ends early (J1) in add_header mode we add
// "X-Portwarden-Repair: header section ended early; empty line inserted":
// Postfix defines no standard name and MIME-Error would claim a MIME problem.
//
// Every field we write goes through generated.ts, which judges each client code
// point before it becomes octets (no CR, LF or control can come out; UTF-8 only
// in SMTPUTF8 mail). From/Sender/Resent-From/Resent-Sender are read strictly
// (address.ts) for the submission part to bind; address fields are capped in
// size and number before any is parsed; more than maxReceived Received fields
// (ours included, as Postfix's hopcount_limit) is a loop, 554 5.4.6.
//
// Implements: RFC 6409 §8.2, §8.3 (Date, Message-ID), RFC 5322 §2.1.1, §2.2, §3.3, §3.6,
// §4 (line limit, fields, dates, obsolete syntax accepted), RFC 5321 §4.4
// (Received, no Return-Path), RFC 3848 and RFC 6531 (with-protocol names),
// RFC 8314 §4.3 (TLS in trace fields), REQUIREMENTS D1, D2, D9, D11, F3, F6,
// F7, J1-J4; RFC 5322 §3.4 and RFC 6532 (mailbox-list), RFC 2047 (encoded-words),
// RFC 3461 §4 (xtext), RFC 5890 (A-labels).
export { MessageFixer, type FixerOptions, type MessageInput, type FixResult, type MalformedHeaderAction } from './fixer.ts';
export { buildReceived, protocolName, type ReceivedInput, type ProtocolFlags } from './received.ts';
export { isValidMessageId, parseRfc5322Date, formatRfc5322Date, makeMessageId, foldLine } from './fields.ts';
export { safeValue as safeHeaderValue, traceMailbox, xtextEncode, generatedField, encodedWords } from './generated.ts';
export { addressesIn as addressesInDisplayName } from './address.ts';
export type { OriginatorField } from './originators.ts';
export { REPAIR_HEADER, REJECTS as MESSAGE_REJECTS } from './header.ts';
