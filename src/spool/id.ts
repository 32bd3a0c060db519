// Queue ids: 10 characters of milliseconds then 8 random, Crockford base32
// (no I, L, O, U). Fixed width, so names sort by acceptance time; filename-,
// header- and log-safe; 40 random bits make a clash within one millisecond
// vanishingly rare, and the O_EXCL create catches it anyway.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const QUEUE_ID_RE = /^[0-9A-HJKMNP-TV-Z]{18}$/;

// Random bytes are drawn from the CSPRNG a page at a time: one call per id
// cost more than the rest of the id together.
const pool = Buffer.alloc(4096);
let used = pool.length;

function base32(n: number, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) {
    s = ALPHABET[n % 32] + s;
    n = Math.floor(n / 32);
  }
  return s;
}

export function newQueueId(nowMs: number): string {
  if (used + 5 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  // 40 bits as two 20-bit halves: 4 base32 digits each, no BigInt needed.
  const hi = (pool[used] << 12) | (pool[used + 1] << 4) | (pool[used + 2] >> 4);
  const lo = ((pool[used + 2] & 0x0f) << 16) | (pool[used + 3] << 8) | pool[used + 4];
  used += 5;
  return base32(Math.max(0, Math.floor(nowMs)), 10) + base32(hi, 4) + base32(lo, 4);
}
