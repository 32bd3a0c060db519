// The key behind the fake SCRAM salts of unknown users (RFC 5802 §9). It must
// outlive the process: a salt that changes at every restart while real salts
// stay put tells a prober which names are real.
import { loadSecretFile } from '../core/index.ts';

/** `<dataDir>/scram-secret`: read it, or create it (0600, exclusively) with 32 random bytes. */
export function loadScramSecret(dataDir: string): Buffer {
  return loadSecretFile(dataDir, 'scram-secret');
}
