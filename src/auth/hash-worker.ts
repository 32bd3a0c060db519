// Runs in a worker thread (hash-pool.ts): the crypt-style verifiers are pure
// JavaScript and take tens to hundreds of milliseconds of CPU each, which must
// not stall the SMTP sessions on the main thread.
import bcrypt from 'bcryptjs';
import { verify as cryptVerify } from 'unixcrypt';

export interface CryptTask { scheme: 'bcrypt' | 'sha-crypt'; body: string; password: string }

/** `ms` is the computation alone: not the thread's start-up, which must not count as a slow hash. */
export default function verifyCrypt(t: CryptTask): { ok: boolean; ms: number } {
  const t0 = performance.now();
  const ok = t.scheme === 'bcrypt' ? bcrypt.compareSync(t.password, t.body) : cryptVerify(t.password, t.body);
  return { ok, ms: performance.now() - t0 };
}
