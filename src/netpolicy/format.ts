// Word ranges back to text (RFC 5952 for IPv6). Bulk output is written as bytes
// into one buffer and decoded once: a million elements then become flat strings
// sharing one backing store, where string concatenation would leave a tree of
// intermediate pieces per element for every later reader (join, hash, JSON) to walk.
import { zeroRunLength, zeroRunStart } from '../core/index.ts';
import type { Family } from './prefix.ts';
import { cidrLen, stride, type WordRanges } from './words.ts';

const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];
const COLON = 58, DOT = 46, SLASH = 47, DASH = 45, NL = 10;
/** Longest element: two full IPv6 addresses and a dash. */
const MAX_ELEMENT = 2 * 39 + 1;
const words = new Int32Array(8);

/** Bytes of text in a growable buffer, cut into strings at newlines. */
class TextWriter {
  buf: Buffer;
  pos = 0;

  constructor(capacity: number) { this.buf = Buffer.allocUnsafe(Math.max(256, capacity)); }

  /** Makes room for one more element. */
  reserve(): void {
    if (this.buf.length - this.pos >= MAX_ELEMENT + 8) return;
    const next = Buffer.allocUnsafe(this.buf.length * 2);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(c: number): void { this.buf[this.pos++] = c; }

  dec(n: number): void {
    const b = this.buf;
    if (n >= 100) b[this.pos++] = 48 + Math.floor(n / 100);
    if (n >= 10) b[this.pos++] = 48 + (Math.floor(n / 10) % 10);
    b[this.pos++] = 48 + (n % 10);
  }

  hex16(v: number): void {
    const b = this.buf;
    if (v >= 0x1000) b[this.pos++] = HEX[v >>> 12];
    if (v >= 0x100) b[this.pos++] = HEX[(v >>> 8) & 15];
    if (v >= 0x10) b[this.pos++] = HEX[(v >>> 4) & 15];
    b[this.pos++] = HEX[v & 15];
  }

  v4(v: number): void {
    this.dec(v >>> 24); this.byte(DOT);
    this.dec((v >>> 16) & 255); this.byte(DOT);
    this.dec((v >>> 8) & 255); this.byte(DOT);
    this.dec(v & 255);
  }

  /** RFC 5952: lower case, no leading zeros, the longest run (first on ties) of two or more zero words as "::". */
  v6(x: Uint32Array, i: number): void {
    for (let k = 0; k < 4; k++) { words[2 * k] = x[i + k] >>> 16; words[2 * k + 1] = x[i + k] & 0xffff; }
    const best = zeroRunStart(words);
    const bestLen = best < 0 ? 1 : zeroRunLength(words, best);
    for (let k = 0; k < 8; k++) {
      if (k === best) { this.byte(COLON); this.byte(COLON); k += bestLen - 1; continue; }
      if (k > 0 && k !== best + bestLen) this.byte(COLON);
      this.hex16(words[k]);
    }
  }

  addr(f: Family, x: Uint32Array, i: number): void {
    if (f === 4) this.v4(x[i]); else this.v6(x, i);
  }

  /** Element text for nft and ipset: a bare address, a CIDR, or "lo-hi". */
  range(f: Family, lo: Uint32Array, hi: Uint32Array, i: number): void {
    const len = cidrLen(lo, hi, i, stride(f));
    this.addr(f, lo, i);
    if (len === (f === 4 ? 32 : 128)) return;
    if (len >= 0) { this.byte(SLASH); this.dec(len); return; }
    this.byte(DASH);
    this.addr(f, hi, i);
  }

  text(): string { return this.buf.toString('latin1', 0, this.pos); }

  /** The newline-terminated lines written so far, appended to out; the writer starts over. */
  lines(out: string[]): void {
    if (!this.pos) return;
    const parts = this.buf.toString('latin1', 0, this.pos - 1).split('\n');
    for (const p of parts) out.push(p);
    this.pos = 0;
  }
}

// Bounds both the buffer and the decoded string (V8 caps a string near 2^29 characters).
const CHUNK = 1 << 18;
let single: TextWriter | null = null;
const one = (): TextWriter => { single ??= new TextWriter(256); single.pos = 0; return single; };

export function formatV4(v: number): string { const w = one(); w.v4(v); return w.text(); }
export function formatV6(x: Uint32Array, i: number): string { const w = one(); w.v6(x, i); return w.text(); }
export const formatWords = (f: Family, x: Uint32Array, i: number): string => (f === 4 ? formatV4(x[i]) : formatV6(x, i));
export function formatRangeWords(f: Family, lo: Uint32Array, hi: Uint32Array, i: number): string {
  const w = one(); w.range(f, lo, hi, i); return w.text();
}

/** Element texts of all ranges, in order. */
export function formatAll(r: WordRanges): string[] {
  const out: string[] = [];
  const w = new TextWriter(Math.min(r.n, CHUNK) * 24);
  const s = stride(r.family);
  for (let i = 0; i < r.n; i++) {
    w.reserve();
    w.range(r.family, r.lo, r.hi, i * s);
    w.byte(NL);
    if ((i + 1) % CHUNK === 0) w.lines(out);
  }
  w.lines(out);
  return out;
}

/** Texts of n addresses stored one after another in x (flat strings, as formatAll). */
export function formatAddrs(f: Family, x: Uint32Array, n: number): string[] {
  const out: string[] = [];
  const w = new TextWriter(Math.min(n, CHUNK) * 24);
  const s = stride(f);
  for (let j = 0; j < n; j++) {
    w.reserve();
    w.addr(f, x, j * s);
    w.byte(NL);
    if ((j + 1) % CHUNK === 0) w.lines(out);
  }
  w.lines(out);
  return out;
}
