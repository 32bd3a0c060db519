// Where direct (MX) delivery may connect. A subscriber names the recipient
// domain, and whoever runs that domain's DNS names the addresses: an MX or A
// record pointing at 127.0.0.1, 10.0.0.0/8 or the provider's management
// network would have the relay open SMTP sessions inside the provider, past
// the very port-25 filtering this system exists for. So in MX mode only
// public unicast addresses are connected to, address literals (user@[1.2.3.4])
// are refused outright, and a lab whose mail hosts live on loopback says so
// (`relay.allowPrivateDestinations`). The ranges are the IANA special-purpose
// registries as ipaddr.js keeps them (RFC 6890 and successors: RFC 1918,
// loopback, link-local, CGNAT 100.64/10, ULA fc00::/7, the documentation and
// benchmarking ranges, multicast, unspecified, reserved, 6to4 and Teredo);
// IPv4-mapped and NAT64 (64:ff9b::/96) addresses are judged by the IPv4
// address inside them.
import ipaddr from 'ipaddr.js';
import { REPLIES, replyLine, type Reply } from '../core/index.ts';

/** null for a public unicast address; else the kind of range it is in ("loopback", "private", …, "invalid"). */
export function nonPublicRange(ip: string): string | null {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(ip);
  } catch {
    return 'invalid';
  }
  if (a.kind() === 'ipv6') {
    const v6 = a as ipaddr.IPv6;
    const r = v6.range();
    if (r === 'ipv4Mapped' || r === 'rfc6052') return nonPublicRange(ipv4Inside(v6));
    // ::/96 minus :: and ::1: the long-deprecated IPv4-compatible form, never a real mail host.
    if (r === 'unicast' && v6.parts.slice(0, 6).every((p) => p === 0)) return 'ipv4Compatible';
    return r === 'unicast' ? null : r;
  }
  const r = a.range();
  return r === 'unicast' ? null : r;
}

function ipv4Inside(a: ipaddr.IPv6): string {
  const [hi, lo] = a.parts.slice(6);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

const LITERAL = REPLIES.literalRecipient;

/**
 * The check the MSA makes at RCPT so the sender learns at once: in MX mode
 * (and not in a lab) a recipient whose domain is an address literal is refused.
 * Smarthost mode leaves literals to the smarthost's own policy.
 */
export function recipientDomainCheck(o: { mode: 'smarthost' | 'mx'; allowPrivate: boolean }): (domain: string) => Reply | null {
  if (o.mode !== 'mx' || o.allowPrivate) return () => null;
  return (domain) => (domain.startsWith('[') ? LITERAL : null);
}

/** The relay-time form of the same refusal (a message queued before the check, or by another path). */
export const LITERAL_REPLY = replyLine(REPLIES.relayLiteral);
