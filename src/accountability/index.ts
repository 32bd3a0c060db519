// accountability: the attribution log — for every accepted message, who sent it.
//
// Purpose: one append-only row per accepted message (account, subscriber, client
// IP and source port, time, TLS, AUTH mechanism, queue id, Message-ID, recipient
// count, size, verdicts and limit states), kept for a configured retention, and
// `portwarden trace` to answer an abuse report from a queue id, a Message-ID or
// an address and time. This is the evidence an abuse desk needs.
//
// Trusts: its caller (the submission part) for the facts it records, and the
// store for durability. Lookup input from the command line is validated here.
//
// Standards: RFC 5068 §3.1 (submission accountability after submission), RFC 6409
// (the MSA identifies the submitter), RFC 6302 (log the source port and exact time:
// behind CGNAT an address alone names no one), RFC 5952 (addresses stored and
// printed in canonical text form), MAAWG "identify the responsible party".
export {
  AttributionLog, normalizeMessageId,
  type AttributionEntry, type AttributionRecord, type AttributionRepository, type AttributionLogOptions, type ByIpOptions,
} from './log.ts';
export { subscribeAttribution } from './subscribe.ts';
export { runTraceCommand, classifyTraceQuery, formatRecord, lookupTrace, parseTraceArgs, printTrace, formatHolder, TRACE_USAGE, type HolderFinder, type TraceHolder, type TraceArgs, type TraceIo, type TraceQuery, type TraceResult } from './trace.ts';
export { canonicalIp, parseEndpoint } from './ip.ts';
export { migrations as accountabilityMigrations } from './schema.ts';
