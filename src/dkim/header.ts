// The header side of a DKIM signature: splitting the header section into
// fields, choosing the instances h= names, relaxed canonicalisation, and the
// folded DKIM-Signature field. Header bytes are handled as latin1 strings so
// that every octet survives the round trip unchanged.
import { domainToASCII } from 'node:url';

export interface HeaderField {
  /** Lower-cased field name. */
  key: string;
  /** The field as it appears, continuation lines joined with CRLF, no final CRLF. */
  raw: string;
}

/** Parses a header section (latin1, without the empty line that ends it). */
export function parseHeaderSection(section: string): HeaderField[] {
  const fields: HeaderField[] = [];
  const lines = section.split(/\r?\n/);
  let current: string[] | null = null;
  const flush = (): void => {
    if (!current) return;
    const raw = current.join('\r\n');
    const colon = raw.indexOf(':');
    // A line without a colon is not a field; nothing can name it in h=.
    if (colon > 0) fields.push({ key: raw.slice(0, colon).replace(/[ \t\r\n]+$/, '').toLowerCase(), raw });
    current = null;
  };
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && current) current.push(line);
    else {
      flush();
      if (line !== '') current = [line];
    }
  }
  flush();
  return fields;
}

/** RFC 6376 §3.4.2 relaxed header canonicalisation, without the trailing CRLF. */
export function relaxedHeader(raw: string): string {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).replace(/[ \t\r\n]+$/, '').toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r?\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
  return `${name}:${value}`;
}

export interface Selection {
  /** Names for h=, in order (repeated once per signed instance, plus oversigned extras). */
  names: string[];
  /** The instances those names select, in the same order (oversigned names select none). */
  fields: HeaderField[];
}

/**
 * Picks the fields to sign. RFC 6376 §5.4.2: a verifier takes instances of a
 * name from the bottom up, so we list every present instance bottom-up; an
 * oversigned name is listed once more than it occurs, which pins the count
 * (a From added in transit then breaks the signature).
 */
export function selectFields(fields: readonly HeaderField[], sign: readonly string[], oversign: ReadonlySet<string>): Selection {
  const names: string[] = [];
  const chosen: HeaderField[] = [];
  const seen = new Set<string>();
  for (const name of sign) {
    const key = name.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    for (let i = fields.length - 1; i >= 0; i--) {
      if (fields[i].key === key) { names.push(name); chosen.push(fields[i]); }
    }
    if (oversign.has(key)) names.push(name);
  }
  return { names, fields: chosen };
}

/**
 * The DKIM-Signature field up to and including "b=" (the form that is signed,
 * RFC 6376 §3.7), folded below 78 columns. Folding is FWS, which relaxed
 * canonicalisation removes, so the signed form and the emitted form agree.
 * Tags go in order: `before`, then h= from `headerNames`, then `after`, then b=.
 */
export function unsignedField(before: ReadonlyArray<[string, string]>, headerNames: readonly string[], after: ReadonlyArray<[string, string]>): string {
  const tokens: Array<{ text: string; glue: string }> = [];
  for (const [k, v] of before) tokens.push({ text: `${k}=${v};`, glue: ' ' });
  headerNames.forEach((n, i) => {
    const last = i === headerNames.length - 1;
    tokens.push({ text: `${i === 0 ? 'h=' : ''}${n}${last ? ';' : ':'}`, glue: i === 0 ? ' ' : '' });
  });
  for (const [k, v] of after) tokens.push({ text: `${k}=${v};`, glue: ' ' });
  tokens.push({ text: 'b=', glue: ' ' });
  let out = 'DKIM-Signature:';
  let col = out.length;
  for (const t of tokens) {
    // keep "b=" with room for some of its value: a fold right after "b=" is legal,
    // but verifiers that strip b= by pattern are happier with a value next to it
    const need = t.text === 'b=' ? t.text.length + 16 : t.text.length;
    if (col + t.glue.length + need > 76) {
      out += `\r\n ${t.text}`;
      col = 1 + t.text.length;
    } else {
      out += t.glue + t.text;
      col += t.glue.length + t.text.length;
    }
  }
  return out;
}

/** The complete field: `unsigned` followed by the folded base64 signature, CRLF-terminated. */
export function signedField(unsigned: string, b64: string): string {
  const col = unsigned.length - unsigned.lastIndexOf('\n') - 1;
  const first = Math.max(16, 76 - col);
  let out = unsigned + b64.slice(0, first);
  for (let i = first; i < b64.length; i += 72) out += `\r\n ${b64.slice(i, i + 72)}`;
  return `${out}\r\n`;
}

/**
 * The domain of the author address in a From field value, lower-cased and in
 * A-label form, or null when there is no single author domain (no address,
 * several addresses in different domains, a domain literal).
 */
export function authorDomain(fromValue: string): string | null {
  const domains = new Set<string>();
  for (const addr of addresses(fromValue)) {
    const at = addr.lastIndexOf('@');
    if (at < 1) continue;
    const d = normaliseDomain(addr.slice(at + 1));
    if (!d) return null;
    domains.add(d);
  }
  return domains.size === 1 ? [...domains][0] : null;
}

/** Lower-case A-label form of a domain, or '' when it is not a usable domain name. */
export function normaliseDomain(domain: string): string {
  const d = domain.trim().replace(/\.$/, '');
  if (!d || d.startsWith('[')) return '';
  const ascii = domainToASCII(d.toLowerCase());
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(ascii) ? ascii : '';
}

// RFC 5322 §3.4 address-list, tolerant: comments and quoted strings are
// removed, an angle-addr wins over the rest of its mailbox, and group names
// (`name: a@b, c@d;`) are dropped.
function addresses(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let angle: string | null = null;
  let inAngle = false;
  let depth = 0;
  let quoted = false;
  const end = (): void => {
    const a = (angle ?? cur).replace(/\s+/g, '');
    if (a) out.push(a);
    cur = '';
    angle = null;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '(') { depth = 1; continue; }
    if (c === '"') {
      // Stands in for the quoted string: as a local part it keeps the "@" that
      // follows from starting the address (its own "@"s must not count).
      if (inAngle) angle += 'q';
      else cur += 'q';
      quoted = true;
      continue;
    }
    if (inAngle) {
      if (c === '>') inAngle = false;
      else angle += c;
      continue;
    }
    if (c === '<') { inAngle = true; angle = ''; continue; }
    if (c === ':') { cur = ''; continue; }
    if (c === ',' || c === ';') { end(); continue; }
    cur += c;
  }
  end();
  return out;
}
