// How logins and addresses are compared; the one normaliser for authentication,
// the account store and the brute-force account key (cli wires it there). Local
// parts and bare logins follow RFC 8265's UsernameCaseMapped profile as far as
// it maps: full/halfwidth forms to their plain letters, lower case, NFC. So
// "ＡＬＩＣＥ" and "Jose\u0301" are alice and josé. Domains are case-insensitive
// (RFC 5321 §2.4) and compared in their A-label form (UTS #46, which also maps
// width and normal forms), without a trailing dot. Local parts compare
// case-insensitively by our policy: these are the ISP's own mailboxes, and a
// subscriber who types Alice@ means alice@.
import { domainToASCII } from 'node:url';

const BAD_LOGIN = /[\s\u0000-\u001F\u007F:]/u;

/** The canonical login, or null when it is not usable as one. */
export function normalizeLogin(login: string): string | null {
  if (login.length === 0 || login.length > 255 || BAD_LOGIN.test(login)) return null;
  const at = login.lastIndexOf('@');
  if (at === -1) return canonicalLocal(login);
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
  return `${canonicalLocal(local)}@${domain}`;
}

const WIDE = /[\uFF00-\uFFEF]/gu;

function canonicalLocal(local: string): string {
  return local.replace(WIDE, (c) => c.normalize('NFKC')).toLowerCase().normalize('NFC');
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
