// SCRAM-SHA-256 key material (RFC 5802 §3, RFC 7677). The server keeps only
// StoredKey and ServerKey, never the cleartext; they are derived when a password
// is set or proved with PLAIN/LOGIN.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Default PBKDF2 count for new keys (config `auth.scramIterations`). RFC 7677 §4 asks for at
 * least 4096; the client pays it once per login (~25 ms at 100 000 on one loaded core here,
 * and many clients keep SaltedPassword), the server only when a password is set or proved. It
 * is also all that protects a stolen StoredKey against offline guessing, so far above 4096.
 */
export const SCRAM_ITERATIONS = 100_000;

export interface ScramCredentials {
  /** base64 */
  salt: string;
  iterations: number;
  /** base64 of H(HMAC(SaltedPassword, "Client Key")) */
  storedKey: string;
  /** base64 of HMAC(SaltedPassword, "Server Key") */
  serverKey: string;
}

export const hmac = (key: Buffer, data: string | Buffer): Buffer => createHmac('sha256', key).update(data).digest();
export const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

/** Equal-length buffers in constant time; different lengths are simply unequal. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// RFC 4013 SASLprep, as far as passwords need it: map non-ASCII spaces to SPACE,
// drop "commonly mapped to nothing" characters, NFKC, refuse prohibited ones.
// The bidi rule (RFC 3454 §6) and the unassigned-code-point check are not applied.
const MAP_TO_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
const MAP_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
const PROHIBITED =
  /[\u0000-\u001F\u007F-\u009F\u0340\u0341\u06DD\u070F\u180E\u200E\u200F\u2028-\u202E\u206A-\u206F\u2FF0-\u2FFB\uD800-\uDFFF\uE000-\uF8FF\uFDD0-\uFDEF\uFFF9-\uFFFF\u{1D173}-\u{1D17A}\u{E0001}\u{E0020}-\u{E007F}\u{F0000}-\u{10FFFF}]/u;

export function saslprep(s: string): string | null {
  if (/^[\x20-\x7E]*$/.test(s)) return s;
  const out = s.replace(MAP_TO_SPACE, ' ').replace(MAP_TO_NOTHING, '').normalize('NFKC');
  return PROHIBITED.test(out) ? null : out;
}

export async function saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
}

/** Returns null when the password cannot be SASLprep'd (a SCRAM client could not use it either). */
export async function deriveScramCredentials(
  password: string,
  opts: { salt?: Buffer; iterations?: number } = {},
): Promise<ScramCredentials | null> {
  const prepped = saslprep(password);
  if (prepped === null) return null;
  const salt = opts.salt ?? randomBytes(16);
  const iterations = opts.iterations ?? SCRAM_ITERATIONS;
  const salted = await saltedPassword(prepped, salt, iterations);
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')).toString('base64'),
    serverKey: hmac(salted, 'Server Key').toString('base64'),
  };
}

/** True when `password` yields the StoredKey in `creds` (PLAIN against SCRAM-only material). */
export async function verifyScramPassword(creds: ScramCredentials, password: string): Promise<boolean> {
  const prepped = saslprep(password);
  if (prepped === null) return false;
  const salted = await saltedPassword(prepped, Buffer.from(creds.salt, 'base64'), creds.iterations);
  return sameBytes(sha256(hmac(salted, 'Client Key')), Buffer.from(creds.storedKey, 'base64'));
}

/** Dovecot's `{SCRAM-SHA-256}iterations,salt,StoredKey,ServerKey` (the part after the scheme). */
export function parseDovecotScram(body: string): ScramCredentials | null {
  const parts = body.split(',');
  if (parts.length !== 4) return null;
  const [it, salt, storedKey, serverKey] = parts;
  const iterations = Number(it);
  const b64 = /^[A-Za-z0-9+/]+={0,2}$/;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) return null;
  if (!b64.test(salt) || !b64.test(storedKey) || !b64.test(serverKey)) return null;
  if (Buffer.from(storedKey, 'base64').length !== 32 || Buffer.from(serverKey, 'base64').length !== 32) return null;
  return { salt, iterations, storedKey, serverKey };
}

// RFC 5802 §9 / RFC 7677 §5: answer unknown users with a salt that is stable per
// name, so that repeated probes cannot tell them from real accounts.
// The iteration count is the configured one, as for real keys.
export function fakeScramCredentials(secret: Buffer, username: string, iterations = SCRAM_ITERATIONS): ScramCredentials {
  return {
    salt: hmac(secret, `salt\0${username}`).subarray(0, 16).toString('base64'),
    iterations,
    storedKey: hmac(secret, `stored\0${username}`).toString('base64'),
    serverKey: hmac(secret, `server\0${username}`).toString('base64'),
  };
}
