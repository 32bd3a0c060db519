// TLS for a session: implicit (RFC 8314 §3.3) or after STARTTLS (RFC 3207).
// TLS 1.2 is the floor (RFC 8997); the context's own minimum is checked again
// after the handshake so that a lax context cannot lower it. Client-initiated
// renegotiation (TLS ≤ 1.2) is refused here too, whatever the context says:
// each one costs the server a full handshake (CVE-2011-1473).
import { TLSSocket } from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { TlsInfo } from './types.ts';
import type { Session } from './session.ts';

/**
 * Hands the socket to TLS. Anything received in plaintext and not yet processed
 * is discarded first (CVE-2011-0411; Postfix vstream_fpurge).
 */
export function upgradeTls(s: Session, ctx: SecureContext, then: () => void): void {
  const plain = s.socket;
  s.detach(plain);
  // TLS owns the connection now; the plaintext socket object must never crash us with an unheard 'error'.
  plain.on('error', () => {});
  s.purgeInput();
  s.mode = 'tls';
  if (plain.isPaused()) plain.resume();
  const secure = new TLSSocket(plain, { isServer: true, secureContext: ctx });
  s.socket = secure;
  refuseRenegotiation(s, secure);
  const timer = setTimeout(() => {
    s.warn({}, 'TLS handshake timeout');
    secure.destroy();
  }, s.opts.tlsHandshakeTimeout * 1000).unref();
  secure.on('close', s.onSocketClose);
  secure.once('error', (err) => {
    clearTimeout(timer);
    s.warn({ err: err.message }, 'TLS handshake failed');
    secure.destroy();
  });
  secure.once('secure', () => {
    clearTimeout(timer);
    const protocol = secure.getProtocol() ?? '';
    if (protocol !== 'TLSv1.2' && protocol !== 'TLSv1.3') {
      s.warn({ protocol }, 'TLS version below 1.2 refused');
      secure.destroy();
      return;
    }
    secure.removeAllListeners('error');
    secure.removeListener('close', s.onSocketClose);
    const c = secure.getCipher();
    const tls: TlsInfo = { protocol, cipher: c.standardName ?? c.name };
    const bits = cipherBits(tls.cipher);
    if (bits) tls.bits = bits;
    s.info.tls = tls;
    s.log.debug({ tls: protocol, cipher: tls.cipher }, 'TLS established');
    // RFC 3207 §4.2: forget everything learned before TLS.
    s.info.helo = null;
    s.info.esmtp = false;
    s.info.auth = null;
    s.attach(secure);
    s.mode = s.opts.tls === 'implicit' ? 'greeting' : 'line';
    s.timers.touch();
    then();
  });
}
/**
 * A TLSSocket made by hand (not by tls.Server) never "releases control": Node's
 * renegotiation guards (disableRenegotiation(), CLIENT_RENEG_LIMIT) then only
 * emit '_tlsError', which is what tls.Server itself listens to, and the handshake
 * goes on. So we listen to it as tls.Server does and end the connection.
 */
function refuseRenegotiation(s: Session, secure: TLSSocket): void {
  secure.disableRenegotiation();
  secure.on('_tlsError', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ERR_TLS_RENEGOTIATION_DISABLED' && err.code !== 'ERR_TLS_SESSION_ATTACK') return;
    s.warn({ err: err.code }, 'TLS renegotiation refused');
    secure.destroy();
  });
}

/** Symmetric key bits of a cipher suite, for Received and logs (Postfix's "256/256 bits"). */
function cipherBits(name: string): number | undefined {
  if (/CHACHA20|AES_256|AES256/.test(name)) return 256;
  if (/AES_128|AES128/.test(name)) return 128;
  return undefined;
}
