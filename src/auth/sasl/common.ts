// What every mechanism shares: strict UTF-8, turning an AuthResult into a
// SaslStep, and telling the caller (throttling, bot detection) how it ended.
import type { Reply } from '../../core/index.ts';
import type { AuthFailure, AuthResult, LoginGate } from '../authenticator.ts';
import { MALFORMED } from '../replies.ts';
import type { SaslStep } from './types.ts';

export interface SaslOutcome {
  mechanism: string;
  /** The identity the client claimed, when it got that far (unnormalised). */
  authcid: string | null;
  ok: boolean;
  fail?: AuthFailure | 'malformed';
  identity?: string;
}

export interface SaslOptions {
  /** Called once per exchange with its outcome; the submission part feeds its limits from it. */
  onResult?: (outcome: SaslOutcome) => void;
  /** The brute-force lock, asked with the login before any lookup or hash work (see LoginGate). */
  gate?: LoginGate;
  /** Server nonce part for SCRAM; injectable for the RFC 7677 test vector. */
  nonce?: () => string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8, or null (RFC 4616 §2 and RFC 5802 §5.1 require UTF-8). */
export function decodeUtf8(b: Buffer): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}

export class Outcome {
  private readonly mechanism: string;
  private readonly onResult?: SaslOptions['onResult'];
  done = false;

  constructor(mechanism: string, opts: SaslOptions) {
    this.mechanism = mechanism;
    this.onResult = opts.onResult;
  }

  /** Input after the exchange ended: refused, and not reported a second time. */
  finished(): SaslStep {
    return { type: 'failure', reply: MALFORMED };
  }

  malformed(authcid: string | null = null, reply: Reply = MALFORMED): SaslStep {
    this.report({ mechanism: this.mechanism, authcid, ok: false, fail: 'malformed' });
    return { type: 'failure', reply };
  }

  result(authcid: string, r: AuthResult, data?: Buffer): SaslStep {
    if (r.ok) {
      this.report({ mechanism: this.mechanism, authcid, ok: true, identity: r.identity });
      return data ? { type: 'success', identity: r.identity, data } : { type: 'success', identity: r.identity };
    }
    this.report({ mechanism: this.mechanism, authcid, ok: false, fail: r.fail });
    return { type: 'failure', reply: r.reply };
  }

  private report(o: SaslOutcome): void {
    this.done = true;
    this.onResult?.(o);
  }
}
