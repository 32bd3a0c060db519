// Password hashes an ISP already has: argon2id (PHC string), bcrypt ($2y$/$2b$/$2a$),
// SHA-512-crypt / SHA-256-crypt ($6$/$5$, with rounds=), the same under Dovecot's
// {SCHEME} prefixes, and Dovecot {SCRAM-SHA-256}. New passwords get argon2id with
// the OWASP parameters. A hash we cannot read is a failed verification, not a throw.
import { createHash } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, parseOptions as argon2Options } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { verify as cryptVerify } from 'unixcrypt';
import { deriveScramCredentials, parseDovecotScram, sameBytes, verifyScramPassword, type ScramCredentials } from './scram-keys.ts';

/**
 * OWASP Password Storage Cheat Sheet lists equal-strength argon2id settings from
 * m=47104 t=1 to m=7168 t=5. A submission server verifies many logins at once in a
 * small thread pool, so it takes the low-memory end: 7 MiB per verification instead
 * of 19 MiB (four concurrent logins peaked at ~80 MiB with m=19456).
 */
export const ARGON2_PARAMS = { memoryCost: 7168, timeCost: 5, parallelism: 1 } as const;
/** Work below this (memory × passes, with a little slack) is weaker than what we make today. */
const ARGON2_WORK = ARGON2_PARAMS.memoryCost * ARGON2_PARAMS.timeCost * 0.9;

export type HashScheme = 'argon2id' | 'argon2i' | 'bcrypt' | 'sha512-crypt' | 'sha256-crypt' | 'scram-sha-256' | 'plain';

export interface VerifyOptions {
  /** Accept Dovecot {PLAIN}/{CLEAR} cleartext "hashes"; meant for imports only. */
  allowPlain?: boolean;
}

export type VerifyResult =
  | { ok: true; scheme: HashScheme }
  | { ok: false; scheme: HashScheme | null; reason: string };

// Dovecot scheme names (doveadm pw -l) we can verify, mapped to how we read the rest.
const DOVECOT_SCHEMES: Record<string, 'crypt' | 'scram' | 'plain'> = {
  'ARGON2ID': 'crypt',
  'ARGON2I': 'crypt',
  'BLF-CRYPT': 'crypt',
  'SHA512-CRYPT': 'crypt',
  'SHA256-CRYPT': 'crypt',
  'CRYPT': 'crypt',
  'SCRAM-SHA-256': 'scram',
  'PLAIN': 'plain',
  'CLEAR': 'plain',
  'CLEARTEXT': 'plain',
};

interface Parsed {
  scheme: HashScheme;
  /** What the verifier gets: the crypt string, the SCRAM fields or the cleartext. */
  body: string;
}

/** Which scheme a stored hash is in, or why it is not one we read. */
export function identifyHash(stored: string): Parsed | { error: string } {
  let body = stored;
  let kind: 'crypt' | 'scram' | 'plain' = 'crypt';
  const m = /^\{([A-Za-z0-9.-]+)\}/.exec(stored);
  if (m) {
    const name = m[1].toUpperCase();
    const k = DOVECOT_SCHEMES[name];
    if (!k) return { error: `unsupported scheme {${name}}` };
    kind = k;
    body = stored.slice(m[0].length);
  }
  if (kind === 'plain') return { scheme: 'plain', body };
  if (kind === 'scram') {
    return parseDovecotScram(body) ? { scheme: 'scram-sha-256', body } : { error: 'malformed {SCRAM-SHA-256} value' };
  }
  if (body.startsWith('$argon2id$')) return { scheme: 'argon2id', body };
  if (body.startsWith('$argon2i$')) return { scheme: 'argon2i', body };
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(body)) return { scheme: 'bcrypt', body };
  if (/^\$6\$(rounds=\d+\$)?[^$:]{0,16}\$[./A-Za-z0-9]{86}$/.test(body)) return { scheme: 'sha512-crypt', body };
  if (/^\$5\$(rounds=\d+\$)?[^$:]{0,16}\$[./A-Za-z0-9]{43}$/.test(body)) return { scheme: 'sha256-crypt', body };
  if (body === '') return { error: 'empty hash' };
  const prefix = /^\$[^$]{1,12}\$/.exec(body);
  return { error: prefix ? `unsupported crypt variant ${prefix[0]}` : 'unrecognised hash format' };
}

export async function checkPassword(stored: string, password: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const p = identifyHash(stored);
  if ('error' in p) return { ok: false, scheme: null, reason: p.error };
  try {
    let ok: boolean;
    switch (p.scheme) {
      case 'argon2id':
      case 'argon2i':
        ok = await argon2Verify(p.body, password);
        break;
      case 'bcrypt':
        ok = await bcrypt.compare(password, p.body);
        break;
      case 'sha512-crypt':
      case 'sha256-crypt':
        ok = cryptVerify(password, p.body);
        break;
      case 'scram-sha-256':
        ok = await verifyScramPassword(parseDovecotScram(p.body)!, password);
        break;
      case 'plain':
        if (!opts.allowPlain) return { ok: false, scheme: 'plain', reason: 'cleartext {PLAIN} hashes are not allowed' };
        // Digests first so the comparison does not leak the length.
        ok = sameBytes(sha256(p.body), sha256(password));
        break;
    }
    return ok ? { ok: true, scheme: p.scheme } : { ok: false, scheme: p.scheme, reason: 'password mismatch' };
  } catch (err) {
    return { ok: false, scheme: p.scheme, reason: `unreadable ${p.scheme} hash: ${(err as Error).message}` };
  }
}

export async function verifyPassword(stored: string, password: string, opts: VerifyOptions = {}): Promise<boolean> {
  return (await checkPassword(stored, password, opts)).ok;
}

export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password, ARGON2_PARAMS);
}

/** True when a stored hash is weaker than what hashPassword makes today. */
export function needsRehash(stored: string): boolean {
  const p = identifyHash(stored);
  if ('error' in p || p.scheme !== 'argon2id' || p.body !== stored) return true;
  try {
    const o = argon2Options(p.body);
    return o.memoryCost < ARGON2_PARAMS.memoryCost || o.memoryCost * o.timeCost < ARGON2_WORK;
  } catch {
    return true;
  }
}

/** What a new password is stored as: argon2id, plus SCRAM keys when it survives SASLprep. */
export async function newCredentials(password: string, scramIterations?: number): Promise<{ hash: string; scram: ScramCredentials | null }> {
  const [hash, scram] = await Promise.all([hashPassword(password), deriveScramCredentials(password, { iterations: scramIterations })]);
  return { hash, scram };
}

/** SCRAM keys carried by a Dovecot {SCRAM-SHA-256} hash, else null. */
export function scramFromHash(hash: string): ScramCredentials | null {
  const m = /^\{SCRAM-SHA-256\}(.*)$/i.exec(hash);
  return m ? parseDovecotScram(m[1]) : null;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
