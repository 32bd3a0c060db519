// EHLO/HELO (RFC 5321 §4.1.1.1) and the small commands: NOOP, RSET, QUIT, HELP, VRFY, EXPN.
import type { Session } from './session.ts';
import { abortTx } from './transaction.ts';
import { R, syntax } from './replies.ts';

async function greet(s: Session, arg: string, esmtp: boolean): Promise<void> {
  const name = arg.trim();
  if (!name) {
    s.sendError(syntax(esmtp ? 'EHLO hostname' : 'HELO hostname'), 'HELO/EHLO without argument');
    return;
  }
  abortTx(s, esmtp ? 'EHLO' : 'HELO');
  if (s.handler.helo) {
    const v = await s.ask('helo', () => s.handler.helo!(s.info, name));
    if (v === null || s.closed) return;
    if (!v.ok) {
      s.refuse(v);
      return;
    }
  }
  s.info.helo = name;
  s.info.esmtp = esmtp;
  if (!esmtp) {
    s.send(R.ehlo(s.opts.hostname));
    return;
  }
  const o = s.opts;
  const lines = [o.hostname, 'PIPELINING', `SIZE ${o.maxMessageSize}`, '8BITMIME', 'ENHANCEDSTATUSCODES', 'DSN'];
  if (o.chunking) lines.push('CHUNKING');
  if (o.smtputf8) lines.push('SMTPUTF8');
  if (o.tls === 'starttls' && !s.tlsActive) lines.push('STARTTLS');
  // RFC 4954 §4 and the IANA X.7.11 note: do not advertise what may not be used yet.
  const authAllowed = s.tlsActive || (!o.authRequiresTls && !o.requireTls);
  if (authAllowed && !s.info.auth) {
    const mechs = await s.ask('authMechanisms', () => s.handler.authMechanisms(s.info));
    if (mechs === null) return;
    if (mechs.length) lines.push(`AUTH ${mechs.join(' ')}`);
  }
  s.send(R.ehlo(lines));
}

export const ehlo = (s: Session, arg: string): Promise<void> => greet(s, arg, true);
export const helo = (s: Session, arg: string): Promise<void> => greet(s, arg, false);

export function noop(s: Session): void {
  s.send(R.ok);
}

export function rset(s: Session, arg: string): void {
  if (arg.trim()) {
    s.sendError(syntax('RSET'));
    return;
  }
  abortTx(s, 'RSET');
  s.send(R.ok);
}

export function quit(s: Session): void {
  s.close(R.bye);
}

export function help(s: Session): void {
  s.send(R.help);
}

export function vrfy(s: Session): void {
  s.send(R.vrfyDisabled);
}

export function expn(s: Session): void {
  s.send(R.expnDisabled);
}
