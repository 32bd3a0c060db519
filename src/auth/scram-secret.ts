// The key behind the fake SCRAM salts of unknown users (RFC 5802 §9). It must
// outlive the process: a salt that changes at every restart while real salts
// stay put tells a prober which names are real.
import { closeSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const SIZE = 32;

/** `<dataDir>/scram-secret`: read it, or create it (0600, exclusively) with 32 random bytes. */
export function loadScramSecret(dataDir: string): Buffer {
  const file = join(dataDir, 'scram-secret');
  let fd: number | null = null;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (fd !== null) {
    const secret = randomBytes(SIZE);
    try { writeSync(fd, secret); } finally { closeSync(fd); }
    return secret;
  }
  const secret = readFileSync(file);
  if (secret.length !== SIZE) throw new Error(`${file}: expected ${SIZE} bytes, found ${secret.length}; remove it to make a new one`);
  return secret;
}
