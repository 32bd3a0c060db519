// Addresses and prefixes as inclusive integer ranges. Every compiler works on
// merged ranges, so output depends only on the address space a policy covers,
// never on the order or overlap in which operators typed it. This BigInt form
// is for validation and small lists; the text is read and written by words.ts,
// which the hot paths (a million entries) use directly.
import { formatRangeWords, formatV4, formatV6 } from './format.ts';
import { newScratch, parseWords } from './words.ts';

export type Family = 4 | 6;

export interface Range {
  readonly family: Family;
  readonly lo: bigint;
  readonly hi: bigint; // inclusive
}

const scratch = newScratch();

const toBig = (x: Uint32Array, i: number, w: number): bigint => {
  if (w === 1) return BigInt(x[i]);
  return (BigInt(x[i]) << 96n) | (BigInt(x[i + 1]) << 64n) | (BigInt(x[i + 2]) << 32n) | BigInt(x[i + 3]);
};

function toWords(n: bigint, out: Uint32Array, i: number, w: number): void {
  for (let k = w - 1; k >= 0; k--) { out[i + k] = Number(n & 0xffffffffn); n >>= 32n; }
}

/** Parses "a.b.c.d", "a.b.c.d/n", IPv6 forms, or "x-y" ranges; null when malformed or host bits are set. */
export function parseRange(text: string): Range | null {
  const family = parseWords(text, scratch);
  if (!family) return null;
  const w = family === 4 ? 1 : 4;
  return { family, lo: toBig(scratch, 0, w), hi: toBig(scratch, 4, w) };
}

/** RFC 5952 text for IPv6. */
export function formatAddr(family: Family, n: bigint): string {
  if (family === 4) return formatV4(Number(n));
  toWords(n, scratch, 0, 4);
  return formatV6(scratch, 0);
}

/** Element text for nft and ipset: a bare address, a CIDR, or "lo-hi". */
export function formatRange(r: Range): string {
  const w = r.family === 4 ? 1 : 4;
  toWords(r.lo, scratch, 0, w);
  toWords(r.hi, scratch, 4, w);
  return formatRangeWords(r.family, scratch, scratch.subarray(4), 0);
}
