// The word-based parser, merger, formatter and CIDR splitter against a plain
// BigInt reference (the implementation they replaced), on seeded random input:
// well-formed text in every spelling, near-misses, overlapping and adjacent lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from './compile.ts';
import { DEFAULT_SETTINGS, type PolicySnapshot } from './model.ts';
import { parseRange, type Range } from './prefix.ts';
import { intersect, mergeList, splitCidrs } from './cidrs.ts';
import { formatAll } from './format.ts';

// ---------------------------------------------------------------- reference (BigInt, regular expressions)

function refV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return BigInt(n);
}

function refV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  if (s.includes('.', lastColon)) {
    const v4 = refV4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    return refV6(`${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const group = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) { if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null; out.push(parseInt(g, 16)); }
    return out;
  };
  const head = group(halves[0]), rest = halves.length === 2 ? group(halves[1]) : [];
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

function refParse(text: string): Range | null {
  const s = text.trim();
  const dash = s.indexOf('-');
  if (dash > 0) {
    const a = refParse(s.slice(0, dash)), b = refParse(s.slice(dash + 1));
    if (!a || !b || a.family !== b.family || a.lo !== a.hi || b.lo !== b.hi || b.lo < a.lo) return null;
    return { family: a.family, lo: a.lo, hi: b.hi };
  }
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const family = addr.includes(':') ? 6 : 4;
  const n = family === 4 ? refV4(addr) : refV6(addr);
  if (n === null) return null;
  const width = family === 4 ? 32 : 128;
  let len = width;
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l) || Number(l) > width) return null;
    len = Number(l);
  }
  const host = (1n << BigInt(width - len)) - 1n;
  if ((n & host) !== 0n) return null;
  return { family, lo: n, hi: n | host };
}

function refAddr(family: 4 | 6, n: bigint): string {
  if (family === 4) { const v = Number(n); return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`; }
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

const width = (f: 4 | 6): number => (f === 4 ? 32 : 128);

function refCidrs(r: Range): Array<{ lo: bigint; len: number }> {
  const out: Array<{ lo: bigint; len: number }> = [];
  const w = width(r.family);
  let lo = r.lo;
  while (lo <= r.hi) {
    let len = w;
    while (len > 0) {
      const size = 1n << BigInt(w - len + 1);
      if ((lo & (size - 1n)) !== 0n || lo + size - 1n > r.hi) break;
      len--;
    }
    out.push({ lo, len });
    lo += 1n << BigInt(w - len);
  }
  return out;
}

function refElement(r: Range): string {
  const cs = refCidrs(r);
  if (cs.length === 1) return cs[0].len === width(r.family) ? refAddr(r.family, r.lo) : `${refAddr(r.family, r.lo)}/${cs[0].len}`;
  return `${refAddr(r.family, r.lo)}-${refAddr(r.family, r.hi)}`;
}

function refMerge(input: Range[]): Range[] {
  const sorted = [...input].sort((a, b) => (a.family - b.family) || (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.family === r.family && r.lo <= last.hi + 1n) {
      if (r.hi > last.hi) out[out.length - 1] = { family: r.family, lo: last.lo, hi: r.hi };
    } else out.push(r);
  }
  return out;
}

function refIntersect(a: Range[], b: Range[]): Range[] {
  const out: Range[] = [];
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i], y = b[j];
    const lo = x.lo > y.lo ? x.lo : y.lo, hi = x.hi < y.hi ? x.hi : y.hi;
    if (lo <= hi) out.push({ family: x.family, lo, hi });
    if (x.hi < y.hi) i++; else j++;
  }
  return out;
}

// ---------------------------------------------------------------- seeded input

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

const rand = rng(0x5eed);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)];

/** An address with few distinct words, so zero runs, ties and adjacency come up often. */
function randomAddr(f: 4 | 6): bigint {
  let n = 0n;
  const words = f === 4 ? 2 : 8;
  for (let i = 0; i < words; i++) n = (n << 16n) | BigInt(pick([0, 0, 0, 1, 0xdb8, 0xffff, int(65536)]));
  return n;
}

/** Non-canonical but valid spellings: full form, leading zeros, upper case, another zero run compressed, embedded IPv4. */
function spell(f: 4 | 6, n: bigint): string {
  if (f === 4) return refAddr(4, n);
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  const style = int(5);
  if (style === 0) return refAddr(6, n);
  if (style === 1) return w.map((x) => x.toString(16).padStart(4, '0')).join(':');
  if (style === 2) return refAddr(6, n).toUpperCase();
  if (style === 3) {
    const zeros = w.map((x, i) => (x === 0 ? i : -1)).filter((i) => i >= 0);
    if (!zeros.length) return w.map((x) => x.toString(16)).join(':');
    const at = pick(zeros);
    let end = at;
    while (end + 1 < 8 && w[end + 1] === 0 && rand() < 0.7) end++;
    const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
    return `${hex(w.slice(0, at))}::${hex(w.slice(end + 1))}`;
  }
  return `${w.slice(0, 6).map((x) => x.toString(16)).join(':')}:${refAddr(4, n & 0xffffffffn)}`;
}

function randomPrefix(f: 4 | 6): { text: string; range: Range } {
  const len = int(width(f) + 1);
  const host = (1n << BigInt(width(f) - len)) - 1n;
  const lo = randomAddr(f) & ~host;
  return { text: len === width(f) && rand() < 0.5 ? spell(f, lo) : `${spell(f, lo)}/${len}`, range: { family: f, lo, hi: lo | host } };
}

const MUTATIONS = [':', '::', '.', '/', '-', ' ', 'g', '0', '00000', '/129', '/33', ':::', '1.2.3.4', '/'];
function mutate(s: string): string {
  const at = int(s.length + 1);
  const m = int(3);
  if (m === 0) return s.slice(0, at) + pick(MUTATIONS) + s.slice(at);
  if (m === 1) return s.slice(0, at) + s.slice(at + 1 + int(3));
  return s.slice(0, at) + pick(MUTATIONS) + s.slice(at + 1);
}

// ---------------------------------------------------------------- tests

/** Long lists compared by their first difference: a full diff of thousands of lines is unreadable and slow. */
function sameList(got: readonly string[], want: readonly string[], what: string): void {
  const i = want.findIndex((w, k) => got[k] !== w);
  assert.deepEqual({ at: i, got: got[i] }, { at: -1, got: undefined }, `${what}: first difference, want ${want[i]}`);
  assert.equal(got.length, want.length, what);
}

test('parseRange agrees with the reference on valid spellings and near-misses', () => {
  let valid = 0, invalid = 0;
  for (let i = 0; i < 20_000; i++) {
    const f = rand() < 0.3 ? 4 : 6;
    const { text } = randomPrefix(f);
    for (const s of [text, mutate(text), mutate(mutate(text)), `${text}-${spell(f, randomAddr(f))}`, ` ${text}\t`]) {
      const want = refParse(s), got = parseRange(s);
      assert.deepEqual(got, want, JSON.stringify(s));
      if (want) valid++; else invalid++;
    }
  }
  // The generator must exercise both sides, or the comparison proves little.
  assert.ok(valid > 20_000 && invalid > 20_000, `${valid} valid, ${invalid} invalid`);
});

test('compiled sets equal the reference merge and format, in any input order', () => {
  let overlaps = 0;
  for (let round = 0; round < 200; round++) {
    const ranges: Range[] = [];
    const prefixes: string[] = [];
    // Enough entries in some rounds to take the radix-sort path.
    const n = round % 20 === 0 ? 5000 + int(3000) : int(60);
    for (let i = 0; i < n; i++) {
      const f = rand() < 0.5 ? 4 : 6;
      const { text, range } = randomPrefix(f);
      prefixes.push(text);
      ranges.push(range);
    }
    const snap: PolicySnapshot = {
      at: 0, relays: [], exemptions: [], quarantines: [], garden: [], settings: DEFAULT_SETTINGS,
      pools: prefixes.map((prefix) => ({ prefix, class: 'dynamic', note: '' })),
    };
    const merged = refMerge(ranges);
    const p = compilePolicy(snap);
    sameList(p.sets.dynamic4, merged.filter((r) => r.family === 4).map(refElement), `round ${round}, IPv4`);
    sameList(p.sets.dynamic6, merged.filter((r) => r.family === 6).map(refElement), `round ${round}, IPv6`);
    // Intersection of the first and second half, each merged on its own.
    for (const f of [4, 6] as const) {
      const half = prefixes.length >> 1;
      const mine = (from: number, to: number): string[] => prefixes.slice(from, to).filter((_, k) => ranges[from + k].family === f);
      const got = formatAll(intersect(mergeList(mine(0, half), f), mergeList(mine(half, prefixes.length), f)));
      overlaps += got.length;
      const want = refIntersect(refMerge(ranges.slice(0, half).filter((r) => r.family === f)), refMerge(ranges.slice(half).filter((r) => r.family === f)));
      sameList(got, want.map(refElement), `round ${round}, IPv${f} intersection`);
    }
  }
  assert.ok(overlaps > 100, `only ${overlaps} intersections exercised`);
});

test('CIDR splitting equals the reference, ranges and whole families included', () => {
  const elements: string[] = ['0.0.0.0/0', '::/0', '0.0.0.0-255.255.255.254', '::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '1.2.3.4'];
  for (let i = 0; i < 3000; i++) {
    const f = rand() < 0.5 ? 4 : 6;
    let a = randomAddr(f), b = randomAddr(f);
    if (rand() < 0.5) b = a + BigInt(int(5000));
    if (b >= 1n << BigInt(width(f))) b = a;
    if (b < a) [a, b] = [b, a];
    elements.push(a === b ? refAddr(f, a) : `${refAddr(f, a)}-${refAddr(f, b)}`);
  }
  const got = [4, 6].flatMap((f) => splitCidrs(elements.filter((e) => refParse(e)!.family === f), f as 4 | 6, (addr, len) => `${addr}/${len}`));
  const want = [4, 6].flatMap((f) => elements.map((e) => refParse(e)!).filter((r) => r.family === f)
    .flatMap((r) => refCidrs(r).map((c) => `${refAddr(r.family, c.lo)}/${c.len}`)));
  sameList(got, want, 'CIDR blocks');
});
