// Word-range lists as the compilers without interval sets need them: compiled
// elements read back, intersected, and split into the fewest CIDR blocks
// (ACLs, ipset hash:net and DNSBL zones know no ranges).
import type { Family } from './prefix.ts';
import { formatAddrs } from './format.ts';
import { RangeBuilder, cidrLen, compare, newScratch, parseWords, stride, type WordRanges } from './words.ts';

function parseInto(elements: readonly string[], family: Family, add: (s: Uint32Array) => void): void {
  const s = newScratch();
  for (const e of elements) {
    // Compiled elements are the compiler's own output: anything else here is a bug.
    if (parseWords(e, s) !== family) throw new Error(`netpolicy: bad compiled element ${e}`);
    add(s);
  }
}

/** Compiled elements of one family as ranges, in the order given (compiled sets are already sorted and merged). */
export function parseList(elements: readonly string[], family: Family): WordRanges {
  const w = stride(family), n = elements.length;
  const lo = new Uint32Array(n * w), hi = new Uint32Array(n * w);
  let i = 0;
  parseInto(elements, family, (s) => {
    for (let k = 0; k < w; k++) { lo[i + k] = s[k]; hi[i + k] = s[4 + k]; }
    i += w;
  });
  return { family, n, lo, hi };
}

/** Elements of one family, in any order and overlap, as sorted merged ranges. */
export function mergeList(elements: readonly string[], family: Family): WordRanges {
  const b = new RangeBuilder(family, Math.max(16, elements.length));
  parseInto(elements, family, (s) => b.push(s));
  return b.merged();
}

/** Parts of merged ranges a that lie inside merged ranges b. */
export function intersect(a: WordRanges, b: WordRanges): WordRanges {
  const w = stride(a.family);
  const lo: number[] = [], hi: number[] = [];
  let i = 0, j = 0;
  while (i < a.n && j < b.n) {
    const x = i * w, y = j * w;
    const aLo = compare(a.lo, x, b.lo, y, w) >= 0, aHi = compare(a.hi, x, b.hi, y, w) < 0;
    const los = aLo ? a.lo : b.lo, lx = aLo ? x : y, his = aHi ? a.hi : b.hi, hx = aHi ? x : y;
    if (compare(los, lx, his, hx, w) <= 0) for (let k = 0; k < w; k++) { lo.push(los[lx + k]); hi.push(his[hx + k]); }
    if (aHi) i++; else j++;
  }
  return { family: a.family, n: lo.length / w, lo: Uint32Array.from(lo), hi: Uint32Array.from(hi) };
}

/** Number of trailing zero bits of the w words of x (32·w when zero). */
function trailingZeros(x: Uint32Array, w: number): number {
  let tz = 0;
  for (let k = w - 1; k >= 0; k--) {
    const v = x[k];
    if (v === 0) { tz += 32; continue; }
    return tz + 31 - Math.clz32(v & -v);
  }
  return tz;
}

/** floor(log2(hi − lo + 1)) over w words, or 32·w when the range is the whole space. */
function sizeLog2(lo: Uint32Array, hi: Uint32Array, w: number): number {
  const d = new Uint32Array(w);
  let borrow = 0;
  for (let k = w - 1; k >= 0; k--) {
    const s = hi[k] - lo[k] - borrow;
    borrow = s < 0 ? 1 : 0;
    d[k] = s >>> 0;
  }
  let carry = 1;
  for (let k = w - 1; k >= 0 && carry; k--) {
    const s = d[k] + carry;
    carry = s > 0xffffffff ? 1 : 0;
    d[k] = s >>> 0;
  }
  if (carry) return 32 * w;
  for (let k = 0; k < w; k++) if (d[k] !== 0) return 32 * (w - k) - 1 - Math.clz32(d[k]);
  return 0;
}

/** Each range split into the fewest CIDR blocks, in order; each(addr text, prefix length) makes one output item. */
export function cidrsOf<T>(r: WordRanges, each: (addr: string, len: number) => T, out: T[] = []): T[] {
  const f = r.family, w = stride(f), width = 32 * w;
  let blocks = new Uint32Array(Math.max(1, r.n) * w), lens = new Uint8Array(Math.max(1, r.n)), m = 0;
  const add = (x: Uint32Array, i: number, len: number): void => {
    if (m === lens.length) {
      const b = new Uint32Array(blocks.length * 2), l = new Uint8Array(lens.length * 2);
      b.set(blocks); l.set(lens);
      blocks = b; lens = l;
    }
    for (let k = 0; k < w; k++) blocks[m * w + k] = x[i + k];
    lens[m++] = len;
  };
  for (let i = 0; i < r.n * w; i += w) {
    const len = cidrLen(r.lo, r.hi, i, w);
    if (len >= 0) { add(r.lo, i, len); continue; }
    const lo = r.lo.slice(i, i + w), hi = r.hi.subarray(i, i + w);
    for (;;) {
      const k = Math.min(trailingZeros(lo, w), sizeLog2(lo, hi, w));
      add(lo, 0, width - k);
      // lo += 2^k; done when that passes hi (or wraps).
      const word = w - 1 - Math.floor(k / 32);
      if (word < 0) break;
      let inc = 2 ** (k % 32), carry = 0;
      for (let j = word; j >= 0 && (inc || carry); j--) {
        const sum = lo[j] + inc + carry;
        inc = 0;
        carry = sum > 0xffffffff ? 1 : 0;
        lo[j] = sum >>> 0;
      }
      if (carry || compare(lo, 0, hi, 0, w) > 0) break;
    }
  }
  const texts = formatAddrs(f, blocks, m);
  for (let j = 0; j < m; j++) out.push(each(texts[j], lens[j]));
  return out;
}

/** Compiled elements of one family split into CIDR blocks. */
export const splitCidrs = <T>(elements: readonly string[], family: Family, each: (addr: string, len: number) => T): T[] =>
  cidrsOf(parseList(elements, family), each);
