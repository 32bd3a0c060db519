// AUTH (RFC 4954 §4): the SASL framing only. Mechanisms live in the handler's
// SaslExchange; the engine does base64, '*', 334 challenges, line length, and
// keeps credentials out of logs.
import type { Session } from './session.ts';
import type { SaslExchange } from './types.ts';
import { R } from './replies.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decode(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

export async function auth(s: Session, arg: string): Promise<void> {
  const parts = arg.trim().split(/ +/);
  if (!parts[0] || parts.length > 2) return s.sendError(R.authSyntax, 'AUTH syntax');
  if (!s.info.esmtp) return s.sendError(R.authBeforeHelo, 'AUTH before EHLO');
  if (s.info.auth) return s.sendError(R.alreadyAuthed, 'AUTH twice');
  if (s.tx) return s.sendError(R.authInTx, 'AUTH in transaction');
  if (!s.tlsActive && (s.opts.authRequiresTls || s.opts.requireTls)) {
    // The initial response on this line is never looked at (REQUIREMENTS B3).
    return s.sendError(R.mustStartTls, 'AUTH before STARTTLS');
  }
  const mechanism = parts[0].toUpperCase();
  const offered = await s.ask('authMechanisms', () => s.handler.authMechanisms(s.info));
  if (offered === null) return;
  let exchange: SaslExchange | null = null;
  if (offered.some((m) => m.toUpperCase() === mechanism)) {
    try {
      exchange = s.handler.authStart(s.info, mechanism);
    } catch (err) {
      s.log.error({ err, phase: 'authStart' }, 'handler failed');
      s.send(R.internal);
      return;
    }
  }
  if (!exchange) return s.sendError(R.authMechUnknown, 'unknown AUTH mechanism');
  let initial: Buffer | null = null;
  if (parts.length === 2) {
    initial = parts[1] === '=' ? Buffer.alloc(0) : decode(parts[1]);
    if (initial === null) return s.sendError(R.authBadBase64, 'AUTH initial response not base64');
  }
  s.auth = { exchange, mechanism, identity: null };
  await step(s, initial);
}

function end(s: Session): void {
  s.auth = null;
  if (s.mode === 'auth') s.mode = 'line';
}

async function step(s: Session, input: Buffer | null): Promise<void> {
  const a = s.auth!;
  let next;
  try {
    next = await a.exchange.step(input);
  } catch (err) {
    s.log.error({ err, phase: 'auth' }, 'handler failed');
    end(s);
    s.send(R.internal);
    return;
  }
  if (s.closed || s.auth !== a) return;
  switch (next.type) {
    case 'challenge':
      s.send(R.saslChallenge(next.data.toString('base64')));
      s.mode = 'auth';
      s.flush();
      return;
    case 'success':
      if (next.data && next.data.length) {
        // Server-final data (e.g. SCRAM): the client answers with an empty line before 235.
        a.identity = next.identity;
        s.send(R.saslChallenge(next.data.toString('base64')));
        s.mode = 'auth';
        s.flush();
        return;
      }
      succeed(s, next.identity);
      return;
    case 'failure':
      end(s);
      s.errors++;
      // The operator's line is the handler's (auth.failed, with why); this one is the engine's trace.
      s.log.debug({ mechanism: a.mechanism, code: next.reply.code }, 'authentication failed');
      if (next.close) s.close(next.reply);
      else s.send(next.reply);
      return;
  }
}

function succeed(s: Session, identity: string): void {
  const mechanism = s.auth!.mechanism;
  end(s);
  s.setAuth({ identity, mechanism });
  s.log.debug({ identity, mechanism }, 'authenticated');
  s.send(R.authOk);
}

/** A client line inside an AUTH exchange (never logged). */
export async function authLine(s: Session, line: Buffer): Promise<void> {
  const a = s.auth!;
  const text = line.toString('latin1');
  if (text === '*') {
    end(s);
    s.sendError(R.authAborted, 'AUTH aborted by client');
    return;
  }
  if (a.identity !== null) {
    succeed(s, a.identity);
    return;
  }
  const input = decode(text);
  if (input === null) {
    end(s);
    s.sendError(R.authBadBase64, 'AUTH response not base64');
    return;
  }
  await step(s, input);
}
