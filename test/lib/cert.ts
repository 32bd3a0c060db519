// A throwaway self-signed certificate for 127.0.0.1 and localhost (ECDSA P-256,
// made with the system's openssl), for tests of HTTPS servers and the clients
// that verify them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tools.ts';

export interface TestCert { key: string; cert: string; certFile: string; remove(): void }

export function loopbackCert(cn = 'localhost'): TestCert {
  const dir = tempDir('pw-cert-');
  const key = join(dir.path, 'key.pem'), cert = join(dir.path, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const out = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), certFile: cert, remove: dir.remove };
  return out;
}
