// Outside complaints: ARF (RFC 5965) or plain mail, parsed with caps into the
// address the complaint is about, when, and where each value came from.
// mailparser (3.x): well kept (Nodemailer's), streams, and hands message/rfc822
// attachments back as content we parse again for the reported message.
import { simpleParser, type ParsedMail } from 'mailparser';
import { isIP } from 'node:net';

export type SourceFrom = 'Source-IP' | 'X-Originating-IP' | 'Received-SPF' | 'Authentication-Results' | 'Received' | 'none';
export type AtFrom = 'Arrival-Date' | 'Received' | 'Date' | 'complaint-Date' | 'none';

export interface ParsedReport {
  kind: 'arf' | 'plain';
  feedbackType: string | null;
  userAgent: string | null;
  reportedMessageId: string | null;
  source: string | null;
  /** ARF Source-Port (RFC 6692): behind CGNAT the address alone names no one. */
  sourcePort: number | null;
  sourceFrom: SourceFrom;
  at: number | null;
  atFrom: AtFrom;
  /** The complaint's own Subject, decoded (client text: whoever prints it encodes it). */
  subject: string | null;
}

export interface ParseOptions { isOwn: (address: string) => boolean; maxBytes?: number }

const MAX_FIELD = 512;
const cap = (s: string | null | undefined): string | null => (s == null ? null : s.trim().slice(0, MAX_FIELD) || null);

/** Canonical address, or null when it is none (or private/loopback when `publicOnly`). */
export function addressOf(text: string): string | null {
  const t = text.trim().replace(/^\[|\]$/gu, '').replace(/^ipv6:/iu, '');
  return isIP(t) ? t.toLowerCase() : null;
}

function isPublic(a: string): boolean {
  if (a.includes(':')) return !/^(::1$|fe80:|fc|fd)/iu.test(a);
  const [x, y] = a.split('.').map(Number);
  return !(x === 10 || x === 127 || (x === 172 && y >= 16 && y < 32) || (x === 192 && y === 168) || (x === 100 && y >= 64 && y < 128) || x === 0 || (x === 169 && y === 254));
}

/** Fields of a header block ("Name: value" lines, folded lines joined), names lower-cased. */
export function fields(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const head = text.split(/\r?\n\r?\n/u, 1)[0] ?? '';
  for (const line of head.replace(/\r?\n[ \t]+/gu, ' ').split(/\r?\n/u)) {
    const i = line.indexOf(':');
    if (i > 0) out.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  return out;
}
const first = (f: Array<[string, string]>, n: string): string | null => f.find(([k]) => k === n)?.[1] ?? null;
const all = (f: Array<[string, string]>, n: string): string[] => f.filter(([k]) => k === n).map(([, v]) => v);
const time = (s: string | null): number | null => { if (!s) return null; const t = Date.parse(s); return Number.isFinite(t) ? t : null; };

/** The source from the reported message's own headers, by the fallbacks in order. */
function sourceOf(h: Array<[string, string]>, opts: ParseOptions): { source: string | null; sourceFrom: SourceFrom; hopAt: number | null } {
  const xo = first(h, 'x-originating-ip');
  if (xo) { const a = addressOf(xo); if (a) return { source: a, sourceFrom: 'X-Originating-IP', hopAt: null }; }
  for (const v of all(h, 'received-spf')) {
    const m = /client-ip=([0-9a-f.:]+)/iu.exec(v);
    const a = m ? addressOf(m[1]) : null;
    if (a) return { source: a, sourceFrom: 'Received-SPF', hopAt: null };
  }
  for (const v of all(h, 'authentication-results')) {
    const m = /(?:smtp\.remote-ip|policy\.iprev)=([0-9a-f.:]+)/iu.exec(v);
    const a = m ? addressOf(m[1]) : null;
    if (a) return { source: a, sourceFrom: 'Authentication-Results', hopAt: null };
  }
  let pub: { source: string; hopAt: number | null } | null = null;
  for (const v of all(h, 'received')) {
    const from = /^from\s+(.*?)(?:\s+by\s|$)/isu.exec(v)?.[1] ?? '';
    const semi = v.lastIndexOf(';');
    const hopAt = semi >= 0 ? time(v.slice(semi + 1)) : null;
    for (const m of from.matchAll(/\[(?:ipv6:)?([0-9a-f.:]+)\]|\(([0-9a-f.:]+)\)/giu)) {
      const a = addressOf(m[1] ?? m[2]);
      if (!a) continue;
      if (opts.isOwn(a)) return { source: a, sourceFrom: 'Received', hopAt };
      if (!pub && isPublic(a)) pub = { source: a, hopAt };
    }
  }
  return pub ? { ...pub, sourceFrom: 'Received' } : { source: null, sourceFrom: 'none', hopAt: null };
}

function text(p: ParsedMail | { content: Buffer }): string { return 'content' in p ? p.content.toString('latin1') : ''; }

/** Never throws: garbage is a plain report with no source. */
export async function parseReport(raw: Buffer, opts: ParseOptions): Promise<ParsedReport> {
  const none: ParsedReport = { kind: 'plain', feedbackType: null, userAgent: null, reportedMessageId: null, source: null, sourcePort: null, sourceFrom: 'none', at: null, atFrom: 'none', subject: null };
  const bytes = raw.subarray(0, opts.maxBytes ?? 10 * 1024 * 1024);
  let mail: ParsedMail;
  try { mail = await simpleParser(bytes, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, maxHtmlLengthToParse: 0 }); } catch { return none; }
  const outer = fields(bytes.toString('latin1'));
  const ct = (first(outer, 'content-type') ?? '').toLowerCase();
  const arf = ct.startsWith('multipart/report') && /report-type="?feedback-report/u.test(ct);
  let fb: Array<[string, string]> = [];
  let orig: Array<[string, string]> = [];
  for (const a of mail.attachments ?? []) {
    const t = (a.contentType ?? '').toLowerCase();
    if (t === 'message/feedback-report') fb = fields(text(a) + '\n\n');
    else if ((t === 'message/rfc822' || t === 'text/rfc822-headers') && orig.length === 0) orig = fields(text(a));
  }
  if (!arf && orig.length === 0 && mail.text) {
    // A plain complaint with the original pasted inline: its headers start at the first Received line.
    const i = mail.text.search(/^Received:/mu);
    if (i >= 0) orig = fields(mail.text.slice(i));
  }
  const r: ParsedReport = { ...none, kind: arf ? 'arf' : 'plain' };
  r.feedbackType = cap(first(fb, 'feedback-type'));
  r.userAgent = cap(first(fb, 'user-agent'));
  r.reportedMessageId = cap(first(orig, 'message-id') ?? first(fb, 'original-message-id'));
  const sip = first(fb, 'source-ip');
  const direct = sip ? addressOf(sip) : null;
  let hopAt: number | null = null;
  r.subject = cap(mail.subject);
  if (direct) {
    r.source = direct; r.sourceFrom = 'Source-IP';
    const port = /^\d{1,5}$/u.exec(first(fb, 'source-port')?.trim() ?? '') ? Number(first(fb, 'source-port')) : NaN;
    if (port > 0 && port < 65536) r.sourcePort = port;
  }
  else { const s = sourceOf(orig, opts); r.source = s.source; r.sourceFrom = s.sourceFrom; hopAt = s.hopAt; }
  const candidates: Array<[number | null, AtFrom]> = [
    [time(first(fb, 'arrival-date') ?? first(fb, 'received-date')), 'Arrival-Date'], [hopAt, 'Received'],
    [time(first(orig, 'date')), 'Date'], [time(first(outer, 'date')), 'complaint-Date'],
  ];
  for (const [t, from] of candidates) if (t !== null) { r.at = t; r.atFrom = from; break; }
  return r;
}
