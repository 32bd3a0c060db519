// Delivery status notifications (RFC 3464) as a multipart/report (RFC 6522):
// a human-readable part, the machine-readable delivery-status part, and the
// original message (RET=FULL, the default for failures) or only its header
// section (RET=HDRS, delay and success notices, or a message above the return
// limit). SMTPUTF8 messages get the RFC 6533 "global" types. The original is
// streamed from the queue file, so memory stays flat whatever its size.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { formatRfc5322Date, makeMessageId, safeHeaderValue, traceMailbox, xtextEncode } from '../message/index.ts';
import type { EnvelopeInput, Envelope } from '../spool/index.ts';
import { CanonicalLines } from './encode.ts';

export type DsnKind = 'failure' | 'delay' | 'success';

export interface DsnEntry {
  index: number;
  action: 'failed' | 'delayed' | 'relayed';
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string;
  /** The reply behind it; from `remote` when set, else made up here. */
  reply: string;
  remote?: string;
  at: number;
}

export interface DsnSpec {
  kind: DsnKind;
  /** Our host name: MAILER-DAEMON@, Reporting-MTA, Message-ID. */
  hostname: string;
  env: Envelope;
  bodyLength: number;
  entries: DsnEntry[];
  now: number;
  /** When a delayed message is given up. */
  retryUntil?: number;
  /** Failures return the whole original up to this many bytes; above it, headers only. */
  returnLimit: number;
}

const HEADER_LIMIT = 256 * 1024;
const NON_ASCII = /[^\x00-\x7f]/;

/** RFC 3463 status from an SMTP reply's enhanced code, else from its class. */
export function statusOf(reply: string): string {
  const m = /^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(reply);
  if (m) return m[1];
  return `${reply[0] === '2' || reply[0] === '4' || reply[0] === '5' ? reply[0] : '4'}.0.0`;
}

/** One line of printable text: replies may be multiline, or carry bytes a report field cannot. */
function oneLine(s: string, max = 900): string {
  const t = s.replace(/\r?\n/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return t.length > max ? t.slice(0, max) + '...' : t;
}

/** The envelope a notice travels with: null sender (so it never causes one), to the original sender. */
export function dsnEnvelope(spec: DsnSpec): EnvelopeInput {
  const m = spec.env.mailFrom;
  const eight = m.body === '8BITMIME' || m.body === 'BINARYMIME';
  return {
    mailFrom: { address: '', ...(m.smtputf8 ? { smtputf8: true } : {}), ...(eight ? { body: '8BITMIME' as const } : {}) },
    recipients: [{ address: m.address }],
    attributes: { dsn: spec.kind, dsnFor: spec.env.id },
  };
}

function returnWhole(spec: DsnSpec): boolean {
  return spec.kind === 'failure' && (spec.env.mailFrom.ret ?? 'FULL') === 'FULL' && spec.bodyLength <= spec.returnLimit;
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 ? `${Math.round(h * 10) / 10} hours` : `${Math.max(1, Math.round(ms / 60_000))} minutes`;
}

function humanText(spec: DsnSpec): string[] {
  const lines = [`This is the mail system at host ${spec.hostname}.`, ''];
  const env = spec.env;
  if (spec.kind === 'failure') {
    lines.push('Your message could not be delivered to one or more recipients.',
      returnWhole(spec) ? 'It is attached below.' : 'Its header section is attached below.');
  } else if (spec.kind === 'delay') {
    lines.push(`Your message could not be delivered for ${hours(spec.now - env.receivedAt)}.`,
      spec.retryUntil ? `It will be retried until ${formatRfc5322Date(spec.retryUntil)}.` : 'It will be retried.',
      'No action is needed on your part.');
  } else {
    lines.push('Your message was passed on to a system that does not send delivery',
      'notifications; this is the last report you will receive for these recipients.');
  }
  lines.push('');
  const utf8 = !!env.mailFrom.smtputf8;
  for (const e of spec.entries) lines.push(`<${traceMailbox(env.recipients[e.index].address, utf8)}>: ${oneLine(e.reply, 400)}`);
  return lines;
}

function statusFields(spec: DsnSpec): string[] {
  const env = spec.env;
  const utf8 = !!env.mailFrom.smtputf8;
  const out = [`Reporting-MTA: dns; ${spec.hostname}`, `X-Portwarden-Queue-ID: ${env.id}`];
  // ENVID and ORCPT arrive xtext-decoded (any octet); they go back xtext-encoded (RFC 3461 §4, RFC 6533 §3).
  if (env.mailFrom.envid) out.push(`Original-Envelope-Id: ${xtextEncode(env.mailFrom.envid, false)}`);
  out.push(`Arrival-Date: ${formatRfc5322Date(env.receivedAt)}`);
  for (const e of spec.entries) {
    const r = env.recipients[e.index];
    out.push('');
    if (r.orcpt) {
      const semi = r.orcpt.indexOf(';');
      out.push(`Original-Recipient: ${r.orcpt.slice(0, semi + 1)}${xtextEncode(r.orcpt.slice(semi + 1), utf8)}`);
    }
    const type = NON_ASCII.test(r.address) ? 'utf-8' : 'rfc822';
    out.push(`Final-Recipient: ${type}; ${traceMailbox(r.address, utf8)}`, `Action: ${e.action}`, `Status: ${e.status}`);
    if (e.remote) out.push(`Remote-MTA: dns; ${e.remote}`);
    out.push(`Diagnostic-Code: ${e.remote ? 'smtp' : 'X-Portwarden'}; ${oneLine(e.reply)}`);
    out.push(`Last-Attempt-Date: ${formatRfc5322Date(e.at)}`);
    if (e.action === 'delayed' && spec.retryUntil) out.push(`Will-Retry-Until: ${formatRfc5322Date(spec.retryUntil)}`);
  }
  // The last line of defence, as for every field we generate (message/generated.ts).
  return out.map((l) => safeHeaderValue(l, utf8));
}

const SUBJECTS: Record<DsnKind, string> = {
  failure: 'Undelivered Mail Returned to Sender',
  delay: 'Delayed Mail (still being retried)',
  success: 'Successful Mail Delivery Report',
};

/** The notice's bytes (CRLF lines); `original` is the queued message's body stream, consumed or destroyed. */
export async function* dsnMessage(spec: DsnSpec, dsnId: string, original: Readable): AsyncGenerator<Buffer> {
  const env = spec.env;
  const utf8 = !!env.mailFrom.smtputf8;
  const eight = env.mailFrom.body === '8BITMIME' || env.mailFrom.body === 'BINARYMIME';
  const whole = returnWhole(spec);
  const boundary = `${dsnId}.${randomBytes(12).toString('hex')}=_`; // within the 70 characters RFC 2046 allows
  const text = humanText(spec);
  const textUtf8 = text.some((l) => NON_ASCII.test(l));
  const head = [
    `Date: ${formatRfc5322Date(spec.now)}`,
    `From: Mail Delivery System <MAILER-DAEMON@${spec.hostname}>`,
    `To: <${traceMailbox(env.mailFrom.address, utf8)}>`,
    `Subject: ${SUBJECTS[spec.kind]}`,
    `Message-ID: ${makeMessageId(spec.hostname, dsnId, spec.now)}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    ...(eight || utf8 ? ['Content-Transfer-Encoding: 8bit'] : []),
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    `Content-Type: text/plain; charset=${textUtf8 ? 'utf-8' : 'us-ascii'}`,
    ...(textUtf8 ? ['Content-Transfer-Encoding: 8bit'] : []),
    '',
    ...text,
    '',
    `--${boundary}`,
    `Content-Type: ${utf8 ? 'message/global-delivery-status' : 'message/delivery-status'}`,
    ...(utf8 ? ['Content-Transfer-Encoding: 8bit'] : []),
    '',
    ...statusFields(spec),
    '',
    `--${boundary}`,
    `Content-Type: ${whole ? (utf8 ? 'message/global' : 'message/rfc822') : (utf8 ? 'message/global-headers' : 'text/rfc822-headers')}`,
    ...(eight || utf8 ? ['Content-Transfer-Encoding: 8bit'] : []),
    '',
    '',
  ];
  yield Buffer.from(head.join('\r\n'), 'utf8');
  const src = original.pipe(new CanonicalLines());
  original.on('error', (err) => src.destroy(err));
  try {
    if (whole) {
      for await (const chunk of src) yield chunk as Buffer;
    } else {
      yield await headerSection(src);
    }
  } finally {
    original.destroy();
    src.destroy();
  }
  yield Buffer.from(`\r\n--${boundary}--\r\n`);
}

/** The header section through its last CRLF (without the empty line); cut at a line end past HEADER_LIMIT. */
async function headerSection(src: AsyncIterable<Buffer>): Promise<Buffer> {
  let acc = Buffer.alloc(0);
  for await (const chunk of src) {
    const from = Math.max(0, acc.length - 3);
    acc = Buffer.concat([acc, chunk]);
    const at = acc.indexOf('\r\n\r\n', from);
    if (at >= 0) return acc.subarray(0, at + 2);
    if (acc.length >= HEADER_LIMIT) break;
  }
  if (acc.length >= HEADER_LIMIT) {
    const cut = acc.lastIndexOf('\r\n', HEADER_LIMIT);
    return cut > 0 ? acc.subarray(0, cut + 2) : Buffer.alloc(0);
  }
  return acc.length && !acc.subarray(-2).equals(Buffer.from('\r\n')) ? Buffer.concat([acc, Buffer.from('\r\n')]) : acc;
}
