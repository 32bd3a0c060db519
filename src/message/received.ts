// The trace field we prepend (RFC 5321 §4.4) and the "with" protocol names of
// RFC 3848 and RFC 6531. The TLS and authenticated-sender comments follow
// RFC 8314 §4.3 and the Postfix layout operators already grep for.
import { isIPv6 } from 'node:net';
import { formatRfc5322Date } from './fields.ts';
import { commentText, traceMailbox, traceToken } from './generated.ts';

export interface ProtocolFlags {
  esmtp: boolean;
  tls: boolean;
  auth: boolean;
  utf8?: boolean;
}

/** SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA. */
export function protocolName(p: ProtocolFlags): string {
  // RFC 3848 defines S/A suffixes only for ESMTP: a HELO session is plain "SMTP".
  if (!p.esmtp) return 'SMTP';
  return `${p.utf8 ? 'UTF8SMTP' : 'ESMTP'}${p.tls ? 'S' : ''}${p.auth ? 'A' : ''}`;
}

export interface ReceivedInput {
  heloName: string;
  clientIp: string;
  clientRdns?: string | null;
  hostname: string;
  protocol: string;
  tls?: { version: string; cipher: string } | null;
  authId?: string | null;
  queueId: string;
  forRcpt?: string | null;
  date: Date | number;
  /** The message is SMTPUTF8: the for-clause and comments may carry UTF-8 (RFC 6532). */
  utf8?: boolean;
}

function ipLiteral(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `[${mapped[1]}]`;
  return isIPv6(ip) ? `[IPv6:${ip.replace(/%.*$/, '')}]` : `[${ip}]`;
}

/**
 * The Received field value (without "Received: "), unfolded; the fixer folds it.
 * Client-supplied text ends up inside a header: generated.ts's traceToken keeps
 * each piece one printable token (or visible UTF-8 in SMTPUTF8 mail) that can
 * neither fold, close the comment it sits in, nor hold a byte that ends the line.
 */
export function buildReceived(r: ReceivedInput): string {
  const parts = [`from ${traceToken(r.heloName)} (${r.clientRdns ? traceToken(r.clientRdns) : 'unknown'} ${ipLiteral(r.clientIp)})`];
  if (r.tls) parts.push(`(using ${traceToken(r.tls.version)} with cipher ${traceToken(r.tls.cipher)})`);
  if (r.authId) parts.push(`(Authenticated sender: ${commentText(r.authId, !!r.utf8)})`);
  parts.push(`by ${r.hostname} (portwarden) with ${r.protocol} id ${traceToken(r.queueId)}`);
  if (r.forRcpt) parts.push(`for <${traceMailbox(r.forRcpt, !!r.utf8)}>`);
  const ms = typeof r.date === 'number' ? r.date : r.date.getTime();
  return `${parts.join(' ')}; ${formatRfc5322Date(ms)}`;
}
