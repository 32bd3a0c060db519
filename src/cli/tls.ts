// TLS material for the listeners. With no cert/key configured, a self-signed
// ECDSA P-256 certificate is generated on first start with the system's openssl
// (Node has no X.509 writer; openssl is on every Debian host) and reused after.
// reload() re-reads the files: SIGHUP picks up a renewed certificate for new sessions.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { createHash, X509Certificate } from 'node:crypto';

export interface TlsFiles { cert: string; key: string; generated: boolean }

export function ensureCertificate(dataDir: string, hostname: string, configured: { cert?: string; key?: string }): TlsFiles {
  if (configured.cert && configured.key) return { cert: configured.cert, key: configured.key, generated: false };
  const dir = join(dataDir, 'tls');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key, generated: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const san = hostname === 'localhost' ? 'DNS:localhost,IP:127.0.0.1,IP:::1' : `DNS:${hostname},DNS:localhost,IP:127.0.0.1,IP:::1`;
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '825',
    '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert,
  ], { stdio: 'pipe' });
  return { cert, key, generated: true };
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
    const opts: SecureContextOptions = { cert, key, minVersion: 'TLSv1.2' };
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
