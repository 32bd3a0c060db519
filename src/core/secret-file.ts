// A secret that must outlive the process (the fake SCRAM salts' key, the notice
// links' HMAC key): `<dataDir>/<name>`, created once, exclusively, mode 0600,
// with 32 random bytes; read back on every later start. A file of the wrong
// size is refused rather than silently replaced: replacing it would change what
// the secret protects (salts a prober compares, links already mailed).
import { closeSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const SECRET_SIZE = 32;

/** Reads `<dataDir>/<name>`, or creates it; `consequence` is added to the error of a damaged file (what removing it costs). */
export function loadSecretFile(dataDir: string, name: string, consequence = ''): Buffer {
  const file = join(dataDir, name);
  let fd: number | null = null;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (fd !== null) {
    const secret = randomBytes(SECRET_SIZE);
    try { writeSync(fd, secret); } finally { closeSync(fd); }
    return secret;
  }
  const secret = readFileSync(file);
  if (secret.length !== SECRET_SIZE) {
    throw new Error(`${file}: expected ${SECRET_SIZE} bytes, found ${secret.length}; remove it to make a new one${consequence ? ` (${consequence})` : ''}`);
  }
  return secret;
}
