// STARTTLS (RFC 3207). The session purges buffered plaintext before the
// handshake and forgets the pre-TLS state after it (§4.2).
import type { Session } from './session.ts';
import { upgradeTls } from './tls-upgrade.ts';
import { abortTx } from './transaction.ts';
import { R, syntax } from './replies.ts';

export function starttls(s: Session, arg: string): void {
  if (arg.trim()) {
    s.sendError(syntax('STARTTLS'), 'STARTTLS with parameter');
    return;
  }
  if (s.tlsActive || s.opts.tls === 'implicit') {
    s.sendError(R.tlsActive);
    return;
  }
  const ctx = s.opts.tls === 'starttls' ? s.tlsContext() : null;
  if (!ctx) {
    s.send(R.tlsUnavailable);
    return;
  }
  abortTx(s, 'STARTTLS');
  s.auth = null;
  s.send(R.readyTls);
  s.flush();
  upgradeTls(s, ctx, () => {});
}
