// scan: content scanning with real scanners (issue 14, REQUIREMENTS "filter out
// spam, viruses, and other abusive message payloads", MAAWG). rspamd over its
// HTTP protocol (POST /checkv2 with the authenticated user, client address,
// queue id and a settings id) and clamd over INSTREAM; each scanner with connect
// and read timeouts, several hosts tried in order, a size cap with an explicit
// oversize verdict (clamd calls an oversize file clean unless told otherwise) and
// a failure policy (tempfail or pass). The pipeline maps every verdict to an
// action (reject 554 5.7.1, tempfail 451, add header, hold) and takes the strongest.
//
// Trusts: nothing a scanner answers beyond its protocol's framing (sizes and
// lengths capped, texts carried as outside text); the configuration for hosts.
// Standards: rspamd protocol (https://rspamd.com/doc/developers/protocol.html),
// clamd(8) INSTREAM, RFC 3463 codes.
export type { ScanVerdictKind, ScanAction, ScanResult, ScanContext, ScanBody, Scanner, ScanDecision, ScanPipelinePort } from './types.ts';
export { SCAN_ACTION_ORDER } from './types.ts';
export { ScanPipeline, decide as decideScan, strongest as strongestScanAction, headerLines as scanHeaderLines } from './pipeline.ts';
