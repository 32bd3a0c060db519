// Runs in a worker thread (hash-pool.ts): the crypt-style verifiers are pure
// JavaScript and take tens to hundreds of milliseconds of CPU each, which must
// not stall the SMTP sessions on the main thread.
import bcrypt from 'bcryptjs';
import { verify as cryptVerify } from 'unixcrypt';

export interface CryptTask { scheme: 'bcrypt' | 'sha-crypt'; body: string; password: string }

export default function verifyCrypt(t: CryptTask): boolean {
  return t.scheme === 'bcrypt' ? bcrypt.compareSync(t.password, t.body) : cryptVerify(t.password, t.body);
}
