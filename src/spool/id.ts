// Queue ids: 10 characters of milliseconds then 8 random, Crockford base32
// (no I, L, O, U). Fixed width, so names sort by acceptance time; filename-,
// header- and log-safe; 40 random bits make a clash within one millisecond
// vanishingly rare, and the O_EXCL create catches it anyway.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const QUEUE_ID_RE = /^[0-9A-HJKMNP-TV-Z]{18}$/;

export function newQueueId(nowMs: number): string {
  let t = Math.max(0, Math.floor(nowMs));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const r = randomBytes(5);
  let bits = 0n;
  for (const b of r) bits = (bits << 8n) | BigInt(b);
  let rand = '';
  for (let i = 0; i < 8; i++) {
    rand = ALPHABET[Number(bits & 31n)] + rand;
    bits >>= 5n;
  }
  return time + rand;
}
