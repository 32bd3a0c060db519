// The pipeline: every configured scanner on the same bytes, in parallel; the
// strongest action wins (reject > tempfail > hold > add-header > accept), and
// the decision carries the client's reply, the hold reason and the header
// lines to prepend, each field name checked and each value encoded here (a
// scanner's words are outside text).
import { REPLIES, type Reply } from '../core/index.ts';
import { generatedField } from '../message/index.ts';
import { SCAN_ACTION_ORDER, type ScanAction, type ScanBody, type ScanContext, type ScanDecision, type ScanPipelinePort, type ScanResult, type Scanner } from './types.ts';

/** A field name a scanner may ask for: RFC 5322 ftext, and never one that changes who a message is from or where it goes. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,64}$/;
const FORBIDDEN = new Set(['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'subject', 'date', 'message-id', 'received', 'return-path',
  'dkim-signature', 'arc-seal', 'arc-message-signature', 'arc-authentication-results', 'authentication-results', 'content-type', 'content-transfer-encoding', 'mime-version']);

export function strongest(results: readonly ScanResult[]): ScanAction {
  let best = 0;
  for (const r of results) best = Math.max(best, SCAN_ACTION_ORDER.indexOf(r.action));
  return SCAN_ACTION_ORDER[best];
}

/** The client's reply for a refusing decision, from the result that caused it. */
function replyFor(action: ScanAction, cause: ScanResult | undefined): Reply | undefined {
  if (action === 'reject') return cause?.verdict === 'oversize' ? REPLIES.scanTooBig : REPLIES.scanRejected;
  if (action === 'tempfail') return cause?.verdict === 'soft-reject' ? REPLIES.scanSoftReject : REPLIES.scanUnavailable;
  return undefined;
}

/** Header lines (CRLF-terminated) from the results whose action is add-header or stronger-but-kept (hold keeps the marks too). */
export function headerLines(results: readonly ScanResult[], utf8 = false): string[] {
  const out: string[] = [];
  for (const r of results) {
    for (const [name, value] of r.headers) {
      if (!FIELD_NAME.test(name) || FORBIDDEN.has(name.toLowerCase())) continue;
      out.push(`${generatedField(name, value.slice(0, 900), utf8)}\r\n`);
    }
  }
  return out;
}

export function decide(results: readonly ScanResult[]): ScanDecision {
  const action = strongest(results);
  const cause = results.find((r) => r.action === action);
  const reply = replyFor(action, cause);
  const decision: ScanDecision = { action, headers: action === 'add-header' || action === 'hold' ? headerLines(results) : [], results };
  if (reply) decision.reply = reply;
  if (action === 'hold') decision.holdReason = `scan: ${cause?.scanner ?? '?'} ${cause?.reason ?? ''}`.trim().slice(0, 200);
  return decision;
}

/** Runs every scanner on the same body; a scanner never throws (a failure is its result), a bug in one is its failure. */
export class ScanPipeline implements ScanPipelinePort {
  readonly maxSize: number;
  private readonly scanners: readonly Scanner[];
  constructor(scanners: readonly Scanner[], maxSize: number) {
    this.scanners = scanners;
    this.maxSize = maxSize;
  }
  async scan(body: ScanBody, ctx: ScanContext): Promise<ScanDecision> {
    const results = await Promise.all(this.scanners.map((s) => s.scan(body, ctx)));
    return decide(results);
  }
  async close(): Promise<void> {
    await Promise.all(this.scanners.map((s) => s.close()));
  }
}
