// Addresses as 32-bit words (one for IPv4, four for IPv6, most significant first)
// in typed arrays: the hot paths of compilation (a million IPv6 delegations) parse,
// sort and merge without BigInt or a regular expression per element (format.ts
// writes them back as text). prefix.ts keeps the BigInt Range API on top of the same parser.
import type { Family } from './prefix.ts';

/** Scratch output of parseWords: lo words at 0..3, hi words at 4..7 (IPv4 uses index 0 and 4). */
export type Scratch = Uint32Array;
export const newScratch = (): Scratch => new Uint32Array(8);
export const stride = (f: Family): number => (f === 4 ? 1 : 4);

const C0 = 48, C9 = 57, CA = 65, CF = 70, Ca = 97, Cf = 102, COLON = 58, DOT = 46;

function hexVal(c: number): number {
  if (c >= C0 && c <= C9) return c - C0;
  if (c >= Ca && c <= Cf) return c - Ca + 10;
  if (c >= CA && c <= CF) return c - CA + 10;
  return -1;
}

/** Dotted quad in s[a, b) as a number, or -1: four decimal parts, no leading zeros, each ≤ 255. */
function parseV4(s: string, a: number, b: number): number {
  let n = 0, parts = 0, i = a;
  while (parts < 4) {
    const start = i;
    let v = 0;
    while (i < b && i - start < 4) {
      const c = s.charCodeAt(i);
      if (c < C0 || c > C9) break;
      v = v * 10 + c - C0;
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === C0)) return -1;
    n = n * 256 + v;
    parts++;
    if (parts < 4) {
      if (i >= b || s.charCodeAt(i) !== DOT) return -1;
      i++;
    }
  }
  return i === b ? n : -1;
}

const w16 = new Int32Array(8);

/** IPv6 text in s[a, b) into out[o..o+3]; false when malformed (RFC 4291 §2.2 forms). */
function parseV6(s: string, a: number, b: number, out: Uint32Array, o: number): boolean {
  let n = 0, gap = -1, i = a;
  if (b - a >= 2 && s.charCodeAt(a) === COLON && s.charCodeAt(a + 1) === COLON) { gap = 0; i += 2; }
  while (i < b) {
    const start = i;
    let v = 0;
    while (i < b && i - start < 5) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      i++;
    }
    if (i < b && s.charCodeAt(i) === DOT) {
      // Embedded IPv4 ("::ffff:192.0.2.1"): only as the last two words.
      const v4 = parseV4(s, start, b);
      if (v4 < 0 || n > 6) return false;
      w16[n++] = v4 >>> 16;
      w16[n++] = v4 & 0xffff;
      i = b;
      break;
    }
    if (i === start || i - start > 4 || n === 8) return false;
    w16[n++] = v;
    if (i === b) break;
    if (s.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < b && s.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === b) return false;
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    const fill = 8 - n;
    for (let k = n - 1; k >= gap; k--) w16[k + fill] = w16[k];
    for (let k = gap; k < gap + fill; k++) w16[k] = 0;
  }
  for (let k = 0; k < 4; k++) out[o + k] = ((w16[2 * k] << 16) | w16[2 * k + 1]) >>> 0;
  return true;
}

/** Host-bit mask of word k (0 = most significant) for a prefix of len bits. */
function hostMask(len: number, k: number): number {
  const before = 32 * k;
  if (len >= before + 32) return 0;
  if (len <= before) return 0xffffffff;
  return 0xffffffff >>> (len - before);
}

function parseOne(s: string, out: Scratch): 0 | Family {
  const b = s.length;
  const slash = s.indexOf('/');
  const end = slash < 0 ? b : slash;
  const colon = s.indexOf(':');
  const family: Family = colon >= 0 && colon < end ? 6 : 4;
  const width = family === 4 ? 32 : 128;
  let len = width;
  if (slash >= 0) {
    const digits = b - slash - 1;
    if (digits < 1 || digits > 3) return 0;
    len = 0;
    for (let i = slash + 1; i < b; i++) {
      const c = s.charCodeAt(i);
      if (c < C0 || c > C9) return 0;
      len = len * 10 + c - C0;
    }
    if (len > width) return 0;
  }
  if (family === 4) {
    const v = parseV4(s, 0, end);
    if (v < 0) return 0;
    const m = hostMask(len, 0);
    if ((v & m) !== 0) return 0;
    out[0] = v;
    out[4] = (v | m) >>> 0;
    return 4;
  }
  if (!parseV6(s, 0, end, out, 0)) return 0;
  for (let k = 0; k < 4; k++) {
    const m = hostMask(len, k);
    if ((out[k] & m) !== 0) return 0;
    out[4 + k] = (out[k] | m) >>> 0;
  }
  return 6;
}

/**
 * "a.b.c.d", "a.b.c.d/n", IPv6 forms, or "x-y" between two single addresses, into out;
 * returns the family, or 0 when malformed or host bits are set.
 */
export function parseWords(text: string, out: Scratch): 0 | Family {
  const t = text.trim();
  const dash = t.indexOf('-', 1);
  if (dash < 0) return parseOne(t, out);
  const left = t.slice(0, dash).trim();
  const f = parseOne(left, out);
  if (!f) return 0;
  const w = stride(f);
  const lo = out.slice(0, w), loHi = out.slice(4, 4 + w);
  const g = parseWords(t.slice(dash + 1), out);
  if (g !== f) return 0;
  for (let k = 0; k < w; k++) if (lo[k] !== loHi[k] || out[k] !== out[4 + k]) return 0;
  if (compare(out, 0, lo, 0, w) < 0) return 0;
  for (let k = 0; k < w; k++) { out[4 + k] = out[k]; out[k] = lo[k]; }
  return f;
}

/** Sign of x[i..] − y[j..] over w words. */
export function compare(x: Uint32Array, i: number, y: Uint32Array, j: number, w: number): number {
  for (let k = 0; k < w; k++) {
    const a = x[i + k], b = y[j + k];
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** True when y[j..] = x[i..] + 1 (no wrap). */
function successor(x: Uint32Array, i: number, y: Uint32Array, j: number, w: number): boolean {
  let carry = 1;
  for (let k = w - 1; k >= 0; k--) {
    const s = x[i + k] + carry;
    carry = s > 0xffffffff ? 1 : 0;
    if ((s >>> 0) !== y[j + k]) return false;
  }
  return carry === 0;
}

/** Ranges of one family: lo and hi words, stride words per range. */
export interface WordRanges { readonly family: Family; readonly n: number; readonly lo: Uint32Array; readonly hi: Uint32Array }

/** Collects ranges of one family, then sorts and merges them into sorted, non-overlapping, non-adjacent ranges. */
export class RangeBuilder {
  readonly family: Family;
  private readonly w: number;
  private n = 0;
  private lo: Uint32Array;
  private hi: Uint32Array;

  constructor(family: Family, capacity = 1024) {
    this.family = family;
    this.w = stride(family);
    this.lo = new Uint32Array(capacity * this.w);
    this.hi = new Uint32Array(capacity * this.w);
  }

  /** Adds the range parseWords left in scratch. */
  push(scratch: Scratch): void {
    const w = this.w;
    if ((this.n + 1) * w > this.lo.length) {
      const lo = new Uint32Array(this.lo.length * 2), hi = new Uint32Array(this.hi.length * 2);
      lo.set(this.lo); hi.set(this.hi);
      this.lo = lo; this.hi = hi;
    }
    const o = this.n * w;
    for (let k = 0; k < w; k++) { this.lo[o + k] = scratch[k]; this.hi[o + k] = scratch[4 + k]; }
    this.n++;
  }

  merged(): WordRanges {
    const { w, n, lo, hi } = this;
    const order = sortOrder(lo, n, w);
    const outLo = new Uint32Array(n * w), outHi = new Uint32Array(n * w);
    let m = 0;
    for (let x = 0; x < n; x++) {
      const r = order[x] * w;
      const last = (m - 1) * w;
      if (m > 0 && (compare(lo, r, outHi, last, w) <= 0 || successor(outHi, last, lo, r, w))) {
        if (compare(hi, r, outHi, last, w) > 0) for (let k = 0; k < w; k++) outHi[last + k] = hi[r + k];
        continue;
      }
      const o = m * w;
      for (let k = 0; k < w; k++) { outLo[o + k] = lo[r + k]; outHi[o + k] = hi[r + k]; }
      m++;
    }
    return { family: this.family, n: m, lo: outLo.subarray(0, m * w), hi: outHi.subarray(0, m * w) };
  }
}

/** Indexes of n keys (w words each) in ascending order: LSD radix sort on 16-bit digits, skipping constant digits. */
function sortOrder(keys: Uint32Array, n: number, w: number): Uint32Array {
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (compare(keys, (i - 1) * w, keys, i * w, w) > 0) sorted = false;
  if (sorted) return order;
  // A radix pass costs a 64 k histogram: small lists sort faster by comparison.
  if (n < 4096) return order.sort((a, b) => compare(keys, a * w, keys, b * w, w));
  let next = new Uint32Array(n);
  const count = new Uint32Array(65537);
  for (let d = 0; d < 2 * w; d++) {
    const word = w - 1 - (d >> 1), shift = (d & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[((keys[i * w + word] >>> shift) & 0xffff) + 1]++;
    if (count[((keys[word] >>> shift) & 0xffff) + 1] === n) continue;
    for (let v = 0; v < 65536; v++) count[v + 1] += count[v];
    for (let i = 0; i < n; i++) {
      const idx = order[i];
      next[count[(keys[idx * w + word] >>> shift) & 0xffff]++] = idx;
    }
    const t = order; order = next; next = t;
  }
  return order;
}

/** Prefix length when lo..hi (w words at i) is exactly one CIDR block, else -1. */
export function cidrLen(lo: Uint32Array, hi: Uint32Array, i: number, w: number): number {
  let len = -1;
  for (let k = 0; k < w; k++) {
    const x = (lo[i + k] ^ hi[i + k]) >>> 0;
    if ((lo[i + k] & x) !== 0) return -1;
    if (len < 0) {
      if (x === 0) continue;
      if ((x & (x + 1)) !== 0) return -1;
      len = 32 * k + Math.clz32(x);
    } else if (x !== 0xffffffff) return -1;
  }
  return len < 0 ? 32 * w : len;
}
