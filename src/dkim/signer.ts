// DKIM signing (RFC 6376, relaxed/relaxed; RFC 8463 Ed25519). The body is
// hashed as it streams past, so a large message costs one pass and no copy;
// only the header section is held in memory.
import { createHash, sign as cryptoSign } from 'node:crypto';
import type { Readable } from 'node:stream';
import { dkimBody } from 'mailauth/lib/dkim/body/index.js';
import { type Clock, type Logger, silentLogger, systemClock } from '../core/index.ts';
import { authorDomain, normaliseDomain, parseHeaderSection, relaxedHeader, selectFields, signedField, unsignedField, type HeaderField } from './header.ts';
import { type DkimKey, type LoadedKey, loadKey } from './keys.ts';

/** RFC 6376 §5.4 asks for From; the rest are what a replay or a rewrite would change. */
export const DEFAULT_SIGNED_HEADERS: readonly string[] = [
  'From', 'Sender', 'Reply-To', 'To', 'Cc', 'Subject', 'Date', 'Message-ID',
  'In-Reply-To', 'References', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding',
];

export interface DkimSignerOptions {
  keys: readonly DkimKey[];
  /** Header field names to sign when present. */
  headers?: readonly string[];
  /** Names signed once more than they occur, so an added instance breaks the signature. Default: From. */
  oversign?: readonly string[];
  logger?: Logger;
  clock?: Clock;
  /** A header section longer than this is not signed (the message fixer limits it far below). */
  maxHeaderBytes?: number;
}

export type MessageSource = Readable | Buffer | AsyncIterable<Buffer | Uint8Array | string>;

export class DkimSigner {
  private readonly byDomain = new Map<string, LoadedKey[]>();
  private readonly headers: readonly string[];
  private readonly oversign: ReadonlySet<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxHeaderBytes: number;

  /** Throws on a key that cannot sign: keys are configuration, checked once at start. */
  constructor(o: DkimSignerOptions) {
    for (const k of o.keys) {
      const loaded = loadKey(k);
      const list = this.byDomain.get(loaded.domain) ?? [];
      if (list.some((x) => x.selector === loaded.selector)) throw new Error(`dkim key ${loaded.selector}._domainkey.${loaded.domain} is configured twice`);
      list.push(loaded);
      this.byDomain.set(loaded.domain, list);
    }
    const oversign = (o.oversign ?? ['From']).map((n) => n.toLowerCase());
    const headers = [...(o.headers ?? DEFAULT_SIGNED_HEADERS)];
    // RFC 6376 §5.4: From MUST be signed, whatever the configuration says.
    if (!headers.some((h) => h.toLowerCase() === 'from')) headers.unshift('From');
    for (const h of headers) if (!/^[\x21-\x39\x3b-\x7e]+$/.test(h)) throw new Error(`dkim: not a header field name: ${JSON.stringify(h)}`);
    this.headers = headers;
    this.oversign = new Set(oversign);
    this.log = o.logger ?? silentLogger;
    this.clock = o.clock ?? systemClock;
    this.maxHeaderBytes = o.maxHeaderBytes ?? 1024 * 1024;
  }

  /** Every key that signs for this From address (or bare domain): its own domain's, else the nearest parent's that allows subdomains. */
  keysFor(fromAddress: string): DkimKey[] {
    return this.loadedFor(fromAddress).map((k) => k.config);
  }

  /** The key that signs for this From address (or bare domain), or null. */
  signingDomainFor(fromAddress: string): DkimKey | null {
    return this.keysFor(fromAddress)[0] ?? null;
  }

  private loadedFor(fromAddress: string): LoadedKey[] {
    const at = fromAddress.lastIndexOf('@');
    const domain = normaliseDomain(at >= 0 ? fromAddress.slice(at + 1) : fromAddress);
    if (!domain) return [];
    const own = this.byDomain.get(domain);
    if (own) return own;
    const labels = domain.split('.');
    for (let i = 1; i < labels.length - 1; i++) {
      const parent = this.byDomain.get(labels.slice(i).join('.'));
      if (parent) {
        const ok = parent.filter((k) => k.config.subdomains);
        if (ok.length) return ok;
      }
    }
    return [];
  }

  /**
   * The DKIM-Signature field(s) to prepend, each CRLF-terminated; '' when the
   * message is not ours to sign (no key for its From domain, no single From
   * domain, or `fromDomain` disagrees with the From field). The domain always
   * comes from the From field being signed; `fromDomain` is the caller's
   * expectation and only narrows.
   */
  async sign(message: MessageSource, fromDomain?: string): Promise<string> {
    const split = await readMessage(message, this.maxHeaderBytes);
    if (!split) {
      this.log.warn({ maxHeaderBytes: this.maxHeaderBytes }, 'dkim: header section too long; not signed');
      return '';
    }
    const fields = parseHeaderSection(split.header);
    const froms = fields.filter((f) => f.key === 'from');
    const domain = froms.length === 1 ? authorDomain(froms[0].raw.slice(froms[0].raw.indexOf(':') + 1)) : null;
    if (!domain) {
      this.log.warn({ fromFields: froms.length }, 'dkim: no single author domain in From; not signed');
      return '';
    }
    if (fromDomain !== undefined && normaliseDomain(fromDomain) !== domain) {
      this.log.warn({ domain, expected: fromDomain }, 'dkim: From domain differs from the expected one; not signed');
      return '';
    }
    const keys = this.loadedFor(domain);
    if (!keys.length) {
      this.log.debug({ domain }, 'dkim: no key for this domain');
      return '';
    }
    const bh = split.bodyHash;
    const t = Math.floor(this.clock.now() / 1000);
    let out = '';
    for (const k of keys) {
      out += this.signOne(k, fields, bh, t);
      this.log.debug({ domain: k.domain, selector: k.selector }, 'dkim: signed');
    }
    return out;
  }

  private signOne(k: LoadedKey, fields: readonly HeaderField[], bh: string, t: number): string {
    const algorithm = k.config.algorithm;
    const sel = selectFields(fields, this.headers, this.oversign);
    const unsigned = unsignedField(
      [['v', '1'], ['a', algorithm], ['c', 'relaxed/relaxed'], ['d', k.domain], ['s', k.selector], ['t', String(t)]],
      sel.names,
      [['bh', bh]],
    );
    let data = '';
    for (const f of sel.fields) data += `${relaxedHeader(f.raw)}\r\n`;
    // RFC 6376 §3.7: the signature field itself, b= empty, last and without CRLF.
    data += relaxedHeader(unsigned);
    const bytes = Buffer.from(data, 'latin1');
    // RFC 8463 §3: Ed25519 signs the SHA-256 of the data (PureEdDSA over the hash).
    const sig = algorithm === 'rsa-sha256'
      ? cryptoSign('sha256', bytes, k.key)
      : cryptoSign(null, createHash('sha256').update(bytes).digest(), k.key);
    return signedField(unsigned, sig.toString('base64'));
  }
}

interface Split {
  header: string;
  bodyHash: string;
}

// Reads the header section into memory and streams the rest through the body
// hasher. Resolves null (and stops reading) when the header section is too long.
async function readMessage(message: MessageSource, maxHeaderBytes: number): Promise<Split | null> {
  const hasher = dkimBody('relaxed', 'sha256', false);
  const chunks = Buffer.isBuffer(message) ? [message] : message;
  let head: Buffer = Buffer.alloc(0);
  let header: string | null = null;
  for await (const c of chunks) {
    const chunk = typeof c === 'string' ? Buffer.from(c, 'latin1') : Buffer.isBuffer(c) ? c : Buffer.from(c);
    if (header !== null) { hasher.update(chunk); continue; }
    // Search from a little before the new bytes: the blank line may straddle chunks.
    const from = Math.max(0, head.length - 3);
    head = head.length ? Buffer.concat([head, chunk]) : chunk;
    const end = headerEnd(head, from);
    if (end) {
      header = head.subarray(0, end.header).toString('latin1');
      hasher.update(head.subarray(end.body));
      head = Buffer.alloc(0);
    } else if (head.length > maxHeaderBytes) {
      return null;
    }
  }
  // No blank line at all: the whole message is header and the body is empty.
  if (header === null) {
    if (head.length > maxHeaderBytes) return null;
    header = head.toString('latin1');
  }
  return { header, bodyHash: hasher.digest('base64') };
}

// The offsets where the header section ends (before its final line break) and
// the body begins. A message that starts with a blank line has no header.
function headerEnd(buf: Buffer, from: number): { header: number; body: number } | null {
  if (from === 0) {
    if (buf[0] === 0x0a) return { header: 0, body: 1 };
    if (buf[0] === 0x0d && buf[1] === 0x0a) return { header: 0, body: 2 };
  }
  for (let i = buf.indexOf(0x0a, from); i >= 0 && i < buf.length; i = buf.indexOf(0x0a, i + 1)) {
    const header = i > 0 && buf[i - 1] === 0x0d ? i - 1 : i;
    if (buf[i + 1] === 0x0a) return { header, body: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { header, body: i + 3 };
  }
  return null;
}
