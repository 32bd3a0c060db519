// How logins and addresses are compared. Logins are lower-cased. Addresses are
// compared case-insensitively in the domain (RFC 5321 §2.4) and, by our policy,
// in the local part too: these are the ISP's own mailboxes, and a subscriber who
// types Alice@ means alice@. Domains are compared in their A-label form.
import { domainToASCII } from 'node:url';

const BAD_LOGIN = /[\s\u0000-\u001F\u007F:]/u;

/** The canonical login, or null when it is not usable as one. */
export function normalizeLogin(login: string): string | null {
  if (login.length === 0 || login.length > 255 || BAD_LOGIN.test(login)) return null;
  const at = login.lastIndexOf('@');
  if (at === -1) return login.toLowerCase();
  return at === 0 ? null : normalizeAddress(login);
}

/** `local@domain` or the `@domain` wildcard, canonical; null when malformed. */
export function normalizeAddress(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at === -1 || at === address.length - 1 || address.length > 320 || /[\s\u0000-\u001F\u007F<>]/u.test(address)) return null;
  const local = address.slice(0, at);
  if (local.includes('@') && !local.startsWith('"')) return null;
  const domain = canonicalDomain(address.slice(at + 1));
  if (domain === null) return null;
  return `${local.toLowerCase()}@${domain}`;
}

export function canonicalDomain(domain: string): string | null {
  const d = domain.toLowerCase().replace(/\.$/, '');
  if (d === '' || d.startsWith('[')) return d.startsWith('[') ? d : null;
  const ascii = domainToASCII(d);
  return ascii === '' ? null : ascii;
}

/** The domain part of a canonical address ('' when there is none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1);
}
