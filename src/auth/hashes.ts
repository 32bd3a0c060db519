// Password hashes an ISP already has: argon2id (PHC string), bcrypt ($2y$/$2b$/$2a$),
// SHA-512-crypt / SHA-256-crypt ($6$/$5$, with rounds=), the same under Dovecot's
// {SCHEME} prefixes, and Dovecot {SCRAM-SHA-256}. New passwords get argon2id with
// the OWASP parameters. A hash we cannot read is a failed verification, not a throw;
// a full hash queue (HashBusyError) is thrown, for a temporary reply. Every
// computation takes a slot of hash-pool.ts; bcrypt and SHA-crypt run in its workers.
import { createHash } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, parseOptions as argon2Options } from '@node-rs/argon2';
import { HashBusyError, hashSlot, verifyInWorker } from './hash-pool.ts';
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

/** `ms`: how long the computation itself took (0 when none ran), without the wait for a slot. */
export type VerifyResult =
  | { ok: true; scheme: HashScheme; ms: number }
  | { ok: false; scheme: HashScheme | null; reason: string; ms: number };

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

export interface ParsedHash {
  scheme: HashScheme;
  /** What the verifier gets: the crypt string, the SCRAM fields or the cleartext. */
  body: string;
}

/** Which scheme a stored hash is in, or why it is not one we read. */
export function identifyHash(stored: string): ParsedHash | { error: string } {
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
  if ('error' in p) return { ok: false, scheme: null, reason: p.error, ms: 0 };
  if (p.scheme === 'plain') {
    if (!opts.allowPlain) return { ok: false, scheme: 'plain', reason: 'cleartext {PLAIN} hashes are not allowed', ms: 0 };
    // Digests first so the comparison does not leak the length.
    const ok = sameBytes(sha256(p.body), sha256(password));
    return ok ? { ok: true, scheme: 'plain', ms: 0 } : { ok: false, scheme: 'plain', reason: 'password mismatch', ms: 0 };
  }
  // Workers time themselves (their start-up is not hash work); the rest is timed by the slot.
  const verify = async (): Promise<boolean | { ok: boolean; ms: number }> => {
    switch (p.scheme) {
      case 'bcrypt': return verifyInWorker({ scheme: 'bcrypt', body: p.body, password });
      case 'sha512-crypt':
      case 'sha256-crypt': return verifyInWorker({ scheme: 'sha-crypt', body: p.body, password });
      case 'scram-sha-256': return verifyScramPassword(parseDovecotScram(p.body)!, password);
      default: return argon2Verify(p.body, password);
    }
  };
  const t0 = performance.now();
  try {
    const { value, ms: slotMs } = await hashSlot(verify);
    const [ok, ms] = typeof value === 'boolean' ? [value, slotMs] : [value.ok, value.ms];
    return ok ? { ok: true, scheme: p.scheme, ms } : { ok: false, scheme: p.scheme, reason: 'password mismatch', ms };
  } catch (err) {
    if (err instanceof HashBusyError) throw err;
    return { ok: false, scheme: p.scheme, reason: `unreadable ${p.scheme} hash: ${(err as Error).message}`, ms: performance.now() - t0 };
  }
}

export async function verifyPassword(stored: string, password: string, opts: VerifyOptions = {}): Promise<boolean> {
  return (await checkPassword(stored, password, opts)).ok;
}

export async function hashPassword(password: string): Promise<string> {
  return (await hashSlot(() => argon2Hash(password, ARGON2_PARAMS))).value;
}

/** Import limits: the most work one stored hash may cost per login (README "Authentication"). */
export interface HashCaps {
  /** bcrypt cost (log2 rounds); default 13. */
  bcryptCost?: number;
  /** SHA-crypt rounds=; default 200 000. */
  cryptRounds?: number;
}

export const HASH_CAPS = { bcryptCost: 13, cryptRounds: 200_000 } as const;
// Not configurable: argon2 memory is what a burst of checks allocates, and 64 MiB
// (Dovecot's default ARGON2ID) times the hash concurrency is already a lot.
const ARGON2_MAX_MEMORY = 65_536;
const ARGON2_MAX_WORK = ARGON2_MAX_MEMORY * 4;
const SCRAM_MAX_ITERATIONS = 1_000_000;

/** Why a hash (as identifyHash read it) may not be imported (it would cost too much at every login), or null. */
export function hashCapError(p: ParsedHash, caps: HashCaps = {}): string | null {
  if (p.scheme === 'bcrypt') {
    const cost = Number(p.body.slice(4, 6));
    const max = caps.bcryptCost ?? HASH_CAPS.bcryptCost;
    return cost > max ? `bcrypt cost ${cost} is above the limit of ${max} (auth.maxBcryptCost)` : null;
  }
  if (p.scheme === 'sha512-crypt' || p.scheme === 'sha256-crypt') {
    const rounds = Number(/^\$[56]\$rounds=(\d+)\$/.exec(p.body)?.[1] ?? 5000);
    const max = caps.cryptRounds ?? HASH_CAPS.cryptRounds;
    return rounds > max ? `${p.scheme} rounds=${rounds} is above the limit of ${max} (auth.maxCryptRounds)` : null;
  }
  if (p.scheme === 'argon2id' || p.scheme === 'argon2i') {
    let o: { memoryCost: number; timeCost: number };
    try { o = argon2Options(p.body); } catch { return 'malformed argon2 parameters'; }
    if (o.memoryCost > ARGON2_MAX_MEMORY) return `argon2 memory ${o.memoryCost} KiB is above the limit of ${ARGON2_MAX_MEMORY} KiB`;
    if (o.memoryCost * o.timeCost > ARGON2_MAX_WORK) return `argon2 memory × passes ${o.memoryCost * o.timeCost} is above the limit of ${ARGON2_MAX_WORK}`;
    return null;
  }
  if (p.scheme === 'scram-sha-256') {
    const it = parseDovecotScram(p.body)!.iterations;
    return it > SCRAM_MAX_ITERATIONS ? `SCRAM iterations ${it} are above the limit of ${SCRAM_MAX_ITERATIONS}` : null;
  }
  return null;
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
  const [hash, scram] = await Promise.all([hashPassword(password), deriveScram(password, scramIterations)]);
  return { hash, scram };
}

/**
 * SCRAM keys for a password, derived in a hash slot (PBKDF2 is hash work like any other).
 * The slot is taken here, not in deriveScramCredentials: verifyScramPassword already runs
 * inside one, and taking a second there could deadlock.
 */
export async function deriveScram(password: string, iterations?: number): Promise<ScramCredentials | null> {
  return (await hashSlot(() => deriveScramCredentials(password, { iterations }))).value;
}

/** SCRAM keys carried by a Dovecot {SCRAM-SHA-256} hash, else null. */
export function scramFromHash(hash: string): ScramCredentials | null {
  const m = /^\{SCRAM-SHA-256\}(.*)$/i.exec(hash);
  return m ? parseDovecotScram(m[1]) : null;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
