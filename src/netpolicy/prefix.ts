// Addresses and prefixes as inclusive integer ranges. Every compiler works on
// merged ranges, so output depends only on the address space a policy covers,
// never on the order or overlap in which operators typed it.

export type Family = 4 | 6;

export interface Range {
  readonly family: Family;
  readonly lo: bigint;
  readonly hi: bigint; // inclusive
}

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;
export const familyMax = (f: Family): bigint => (f === 4 ? V4_MAX : V6_MAX);
const bits = (f: Family): number => (f === 4 ? 32 : 128);

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return BigInt(n);
}

function parseV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  if (s.includes('.', lastColon)) {
    // Embedded IPv4 ("::ffff:192.0.2.1"): rewrite as two hex words and parse again.
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    return parseV6(`${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const group = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  if (!head || !rest) return null;
  let all: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return null;
    all = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    if (head.length !== 8) return null;
    all = head;
  }
  let n = 0n;
  for (const w of all) n = (n << 16n) | BigInt(w);
  return n;
}

/** Parses "a.b.c.d", "a.b.c.d/n", IPv6 forms, or "x-y" ranges; null when malformed or host bits are set. */
export function parseRange(text: string): Range | null {
  const s = text.trim();
  const dash = s.indexOf('-');
  if (dash > 0) {
    const a = parseRange(s.slice(0, dash));
    const b = parseRange(s.slice(dash + 1));
    if (!a || !b || a.family !== b.family || a.lo !== a.hi || b.lo !== b.hi || b.lo < a.lo) return null;
    return { family: a.family, lo: a.lo, hi: b.hi };
  }
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const family: Family = addr.includes(':') ? 6 : 4;
  const n = family === 4 ? parseV4(addr) : parseV6(addr);
  if (n === null) return null;
  let len = bits(family);
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l) || Number(l) > bits(family)) return null;
    len = Number(l);
  }
  const host = (1n << BigInt(bits(family) - len)) - 1n;
  if ((n & host) !== 0n) return null;
  return { family, lo: n, hi: n | host };
}

export function formatAddr(family: Family, n: bigint): string {
  if (family === 4) {
    const v = Number(n);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (first on ties) of two or more zero words.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

/** The prefix length when r is exactly one CIDR block, else -1. */
export function cidrLength(r: Range): number {
  const size = r.hi - r.lo + 1n;
  if ((size & (size - 1n)) !== 0n) return -1;
  if ((r.lo & (size - 1n)) !== 0n) return -1;
  return bits(r.family) - (size.toString(2).length - 1);
}

export function formatCidr(family: Family, lo: bigint, len: number): string {
  return len === bits(family) ? formatAddr(family, lo) : `${formatAddr(family, lo)}/${len}`;
}

/** Element text for nft and ipset: a bare address, a CIDR, or "lo-hi". */
export function formatRange(r: Range): string {
  const len = cidrLength(r);
  if (len >= 0) return formatCidr(r.family, r.lo, len);
  return `${formatAddr(r.family, r.lo)}-${formatAddr(r.family, r.hi)}`;
}

/** Splits a range into the fewest CIDR blocks (for ACLs and DNSBL zones, which know no ranges). */
export function toCidrs(r: Range): Array<{ lo: bigint; len: number }> {
  const out: Array<{ lo: bigint; len: number }> = [];
  const width = bits(r.family);
  let lo = r.lo;
  while (lo <= r.hi) {
    let len = width;
    // Grow the block while it stays aligned and inside the range.
    while (len > 0) {
      const size = 1n << BigInt(width - len + 1);
      if ((lo & (size - 1n)) !== 0n || lo + size - 1n > r.hi) break;
      len--;
    }
    out.push({ lo, len });
    lo += 1n << BigInt(width - len);
    if (lo > familyMax(r.family)) break;
  }
  return out;
}

const byStart = (a: Range, b: Range): number => (a.family - b.family) || (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0);

/** Sorted, non-overlapping, non-adjacent ranges covering exactly the union of the input. */
export function mergeRanges(input: readonly Range[]): Range[] {
  const sorted = [...input].sort(byStart);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.family === r.family && r.lo <= last.hi + 1n) {
      if (r.hi > last.hi) out[out.length - 1] = { family: r.family, lo: last.lo, hi: r.hi };
    } else out.push(r);
  }
  return out;
}

/** Parts of merged ranges a that lie inside merged ranges b. */
export function intersectRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i], y = b[j];
    if (x.family !== y.family) { if (x.family < y.family) i++; else j++; continue; }
    const lo = x.lo > y.lo ? x.lo : y.lo;
    const hi = x.hi < y.hi ? x.hi : y.hi;
    if (lo <= hi) out.push({ family: x.family, lo, hi });
    if (x.hi < y.hi) i++; else j++;
  }
  return out;
}

export const byFamily = (rs: readonly Range[], f: Family): Range[] => rs.filter((r) => r.family === f);
