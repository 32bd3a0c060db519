// TLS material for the listeners. With no cert/key configured, a self-signed
// ECDSA P-256 certificate is generated on first start with the system's openssl
// (Node has no X.509 writer; openssl is on every Debian host) and reused after.
// reload() re-reads the files: SIGHUP picks up a renewed certificate for new sessions.
//
// Policy (Mozilla "intermediate", without DHE): TLS 1.2 and 1.3 only; on TLS 1.2
// only ECDHE with an AEAD (AES-GCM, ChaCha20-Poly1305), no CBC, in the server's
// order; no renegotiation (SSL_OP_NO_RENEGOTIATION; the engine refuses it too).
// A generated certificate lives at most 397 days (the CA/Browser Forum's 398-day
// ceiling) and is replaced on start when it is older-style or near its end.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from './datadir.ts';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { createHash, X509Certificate, constants } from 'node:crypto';

const CERT_DAYS = 397;
/** A generated certificate this close to its end is replaced on start (a year-long server must not let it lapse). */
const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;
/** TLS 1.3 suites (all AEAD) first, then the TLS 1.2 ones; without 1.3 names Node would cap the context at 1.2. */
const CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface TlsFiles { cert: string; key: string; generated: boolean }

export function ensureCertificate(dataDir: string, hostname: string, configured: { cert?: string; key?: string }): TlsFiles {
  if (configured.cert && configured.key) return { cert: configured.cert, key: configured.key, generated: false };
  const dir = join(dataDir, 'tls');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (existsSync(cert) && existsSync(key) && generatedStillGood(cert)) return { cert, key, generated: false };
  ensurePrivateDir(dir);
  const san = hostname === 'localhost' ? 'DNS:localhost,IP:127.0.0.1,IP:::1' : `DNS:${hostname},DNS:localhost,IP:127.0.0.1,IP:::1`;
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(CERT_DAYS),
    '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert,
  ], { stdio: 'pipe' });
  // openssl writes the key 0600 but the certificate per the umask: both private to the data directory's owner.
  for (const f of [key, cert]) chmodSync(f, 0o600);
  return { cert, key, generated: true };
}

/** False for a generated certificate that lives longer than we now generate, ends soon, or cannot be read. */
function generatedStillGood(file: string): boolean {
  try {
    const x = new X509Certificate(readFileSync(file));
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    return to - from <= (CERT_DAYS + 1) * DAY_MS && to - Date.now() > RENEW_BEFORE_DAYS * DAY_MS;
  } catch {
    return false;
  }
}

export class TlsStore {
  private ctx: SecureContext;
  private readonly files: TlsFiles;
  /** spkiPin is what `policy agent --pin` takes. */
  info: { subject: string; validTo: string; fingerprint256: string; spkiPin: string };
  constructor(files: TlsFiles) {
    this.files = files;
    [this.ctx, this.info, this.opts] = TlsStore.load(files);
  }
  private opts: SecureContextOptions;
  private static load(files: TlsFiles): [SecureContext, TlsStore['info'], SecureContextOptions] {
    const cert = readFileSync(files.cert);
    const key = readFileSync(files.key);
    // One set of options for the SMTP listeners and the edge endpoint (node:https) alike.
    const opts: SecureContextOptions = {
      cert, key, minVersion: 'TLSv1.2', ciphers: CIPHERS, honorCipherOrder: true,
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    };
    const ctx = createSecureContext(opts);
    const x = new X509Certificate(cert);
    const spki = x.publicKey.export({ type: 'spki', format: 'der' });
    return [ctx, { subject: x.subject, validTo: x.validTo, fingerprint256: x.fingerprint256, spkiPin: `sha256/${createHash('sha256').update(spki).digest('base64')}` }, opts];
  }
  context = (): SecureContext => this.ctx;
  /** The same material as options, for servers built by node:https (the edge endpoint). */
  options = (): SecureContextOptions => this.opts;
  /** Re-reads the files; keeps the old context when the new files are unusable. */
  reload(): void {
    [this.ctx, this.info, this.opts] = TlsStore.load(this.files);
  }
}
