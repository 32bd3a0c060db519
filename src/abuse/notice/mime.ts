// The bytes of one notice: an RFC 5322 message with a text/plain body. Every
// header field goes through the message part's generated-header encoder (no
// outside code point can end a field or start another; a non-ASCII Subject
// becomes RFC 2047 encoded-words). The body is 7bit when it is ASCII with short
// lines, else quoted-printable UTF-8 (RFC 2045 §6.7): that travels through any
// next hop, 8BITMIME or not, and the relay never has to downgrade it.
import { encodedWords, formatRfc5322Date, generatedField, makeMessageId, traceMailbox } from '../../message/index.ts';

export interface NoticeMime {
  /** The From field's value as configured: "abuse@isp.example" or "ISP Abuse Desk <abuse@isp.example>". */
  from: string;
  to: string;
  subject: string;
  body: string;
  hostname: string;
  /** Unique part of the Message-ID. */
  id: string;
  now: number;
  caseId: string;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The envelope address of a From value: the part in angle brackets, else the whole trimmed value. */
export function fromAddress(from: string): string {
  const m = /<([^<>]*)>\s*$/.exec(from);
  return (m ? m[1] : from).trim();
}

/** A From field value: the display name (if any) as encoded-words when not ASCII, the address as a mailbox. */
function fromField(from: string): string {
  const addr = traceMailbox(fromAddress(from), false);
  const m = /^(.*?)\s*<[^<>]*>\s*$/.exec(from);
  const name = m ? m[1].replace(/^"(.*)"$/, '$1').trim() : '';
  if (!name) return `<${addr}>`;
  const shown = NON_ASCII.test(name) ? encodedWords(name) : `"${name.replace(/[\\"]/g, '').replace(/[^\x20-\x7e]/g, '_')}"`;
  return `${shown} <${addr}>`;
}

/** RFC 2045 quoted-printable of UTF-8 text, CRLF line breaks, soft breaks at 76. */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const bytes = Buffer.from(line, 'utf8');
    let cur = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      const last = i === bytes.length - 1;
      const plain = (b >= 0x21 && b <= 0x7e && b !== 0x3d) || ((b === 0x20 || b === 0x09) && !last);
      const enc = plain ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
      if (cur.length + enc.length > 75) { out.push(`${cur}=`); cur = ''; }
      cur += enc;
    }
    out.push(cur);
  }
  return out.join('\r\n');
}

/** Body text as it goes on the wire, and its encoding. */
function encodeBody(body: string): { cte: '7bit' | 'quoted-printable'; charset: string; text: string } {
  const lines = body.replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?');
  const plain = !NON_ASCII.test(lines) && lines.split('\n').every((l) => l.length <= 900 && !/[ \t]$/.test(l));
  if (plain) return { cte: '7bit', charset: 'us-ascii', text: lines.split('\n').join('\r\n') };
  return { cte: 'quoted-printable', charset: 'utf-8', text: quotedPrintable(lines) };
}

/** The whole message, CRLF line ends, ready for the spool. */
export function noticeMessage(m: NoticeMime): Buffer {
  const subject = NON_ASCII.test(m.subject) ? encodedWords(m.subject) : m.subject;
  const body = encodeBody(m.body.endsWith('\n') ? m.body : `${m.body}\n`);
  const fields: Array<[string, string]> = [
    ['Date', formatRfc5322Date(m.now)],
    ['From', fromField(m.from)],
    ['To', `<${traceMailbox(m.to, NON_ASCII.test(m.to))}>`],
    ['Subject', subject],
    ['Message-ID', makeMessageId(m.hostname, m.id, m.now)],
    ['Auto-Submitted', 'auto-generated'],
    ['X-Portwarden-Case', m.caseId],
    ['MIME-Version', '1.0'],
    ['Content-Type', `text/plain; charset=${body.charset}`],
    ['Content-Transfer-Encoding', body.cte],
  ];
  const utf8 = NON_ASCII.test(m.to);
  const head = fields.map(([k, v]) => generatedField(k, v, utf8 && k === 'To')).join('\r\n');
  // generatedField gives octets as a latin1 string; the body is ASCII by now.
  return Buffer.from(`${head}\r\n\r\n${body.text}`, 'latin1');
}
