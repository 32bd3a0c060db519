// The zone lines an operator publishes for a hosted domain so that clients
// find the submission server without autoconfig (RFC 6186 SRV, with RFC 8314
// §5.1's preference for implicit TLS) and find the autoconfig server.
import type { IncomingServer } from './answer.ts';

export interface ZoneOptions {
  domain: string;
  /** Submission server's public host name (SRV target). */
  server: string;
  starttlsPort: number;
  tlsPort: number;
  /** Host the autoconfig listener is reached at (CNAME target of autoconfig.<domain> and autodiscover.<domain>); none when absent. */
  autoconfigHost?: string;
  /** The provider hosts no mailboxes for this domain: publish IMAP/POP3 as "not offered" (RFC 6186 §4: target "."). */
  noMailboxes: boolean;
  /** The mailbox servers (autoconfig.incoming): their SRV records (RFC 6186 §3.2: _imaps/_pop3s implicit TLS, _imap/_pop3 STARTTLS). */
  incoming?: readonly IncomingServer[];
  ttl?: number;
}

const abs = (n: string) => (n.endsWith('.') ? n : `${n}.`);

export function zoneLines(o: ZoneOptions): string[] {
  const d = abs(o.domain.toLowerCase()), ttl = o.ttl ?? 3600;
  const rr = (name: string, type: string, data: string) => `${name}${d} ${ttl} IN ${type} ${data}`;
  const out = [
    `; submission (RFC 6186, RFC 8314: implicit TLS preferred)`,
    rr('_submissions._tcp.', 'SRV', `0 1 ${o.tlsPort} ${abs(o.server)}`),
    rr('_submission._tcp.', 'SRV', `10 1 ${o.starttlsPort} ${abs(o.server)}`),
  ];
  if (o.noMailboxes) {
    out.push('; no mailboxes here (RFC 6186 §4: "." means the service is not offered)');
    for (const s of ['_imap', '_imaps', '_pop3', '_pop3s']) out.push(rr(`${s}._tcp.`, 'SRV', '0 0 0 .'));
  } else if (o.incoming?.length) {
    out.push('; mailboxes (autoconfig.incoming; RFC 6186 §3.2)');
    o.incoming.forEach((i, n) => out.push(rr(`_${i.type}${i.socketType === 'SSL' ? 's' : ''}._tcp.`, 'SRV', `${n} 1 ${i.port} ${abs(i.hostname)}`)));
  } else {
    out.push('; _imap/_imaps/_pop3/_pop3s SRV: published by whoever hosts the mailboxes (--no-mailboxes if nobody does)');
  }
  if (o.autoconfigHost) {
    out.push('; client autoconfig (Thunderbird, K-9) and autodiscover (Outlook)');
    out.push(rr('autoconfig.', 'CNAME', abs(o.autoconfigHost)));
    out.push(rr('autodiscover.', 'CNAME', abs(o.autoconfigHost)));
  }
  return out;
}
