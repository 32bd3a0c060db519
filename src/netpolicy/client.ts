// The agent's HTTPS client. The server is verified against the system's CAs or
// the operator's CA file, by name, and optionally pinned to its public key
// (sha256 of the SubjectPublicKeyInfo, as HPKP and curl's --pinnedpubkey: it
// survives a renewal that keeps the key). The answer's size is capped: the agent
// trusts no server to send a sane amount.
import { createHash, X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity, getCACertificates, type PeerCertificate } from 'node:tls';

export interface TlsTrust {
  /** PEM of the CAs to trust instead of the system's (e.g. the server's own self-signed certificate). */
  ca?: string;
  /** "sha256/BASE64" pins of the server's SPKI; checked in addition to the chain and the name. */
  pins?: readonly string[];
}

export interface HttpAnswer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** The pin of a certificate's public key: "sha256/" + base64 of sha256(SPKI DER). */
export function spkiPin(certDerOrPem: Buffer | string): string {
  const spki = new X509Certificate(certDerOrPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256/${createHash('sha256').update(spki).digest('base64')}`;
}

/** Accepts "sha256/B64" and curl's "sha256//B64"; null when malformed. */
export function parsePin(text: string): string | null {
  const m = /^sha256\/\/?([A-Za-z0-9+/]{43}=)$/.exec(text.trim());
  return m ? `sha256/${m[1]}` : null;
}

export function httpsCall(url: URL, opts: {
  method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; trust: TlsTrust; timeoutMs: number; maxBytes: number;
  /** Ends the exchange early (the agent stopping while a long poll is held). */
  signal?: AbortSignal;
}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) { reject(new Error('aborted')); return; }
    const pins = opts.trust.pins ?? [];
    const req = httpsRequest(url, {
      method: opts.method,
      headers: { ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) },
      ca: opts.trust.ca ?? getCACertificates('system'),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      agent: false,
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        const err = checkServerIdentity(host, cert);
        if (err || !pins.length) return err;
        const got = spkiPin(cert.raw);
        return pins.includes(got) ? undefined : new Error(`server key ${got} matches no --pin`);
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size > opts.maxBytes) { res.destroy(new Error(`answer larger than ${opts.maxBytes} bytes`)); return; }
        chunks.push(b);
      });
      res.on('error', (e) => { clearTimeout(deadline); reject(e); });
      res.on('end', () => { clearTimeout(deadline); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }); });
    });
    // One deadline for the whole exchange: a server that drips bytes cannot hold the agent.
    const deadline = setTimeout(() => req.destroy(new Error(`no answer in ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const abort = (): void => { req.destroy(new Error('aborted')); };
    opts.signal?.addEventListener('abort', abort, { once: true });
    req.on('close', () => opts.signal?.removeEventListener('abort', abort));
    req.on('error', (e) => { clearTimeout(deadline); reject(e); });
    req.end(opts.body);
  });
}
