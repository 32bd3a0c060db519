// The SASL exchange contract between the SMTP engine (which does the RFC 4954
// framing: base64, '*', 334, line length) and the mechanisms in auth. It lives
// here because neither of those two parts may import the other.
import type { Reply } from './reply.ts';

/** A step of a SASL exchange. */
export type SaslStep =
  | { type: 'challenge'; data: Buffer }
  /** Success; `data` is server-final data (SCRAM) the engine sends as a 334 before the 235. */
  | { type: 'success'; identity: string; data?: Buffer }
  | { type: 'failure'; reply: Reply; close?: boolean };

export interface SaslExchange {
  /** Called first with the initial response (null when none was given), then with each client response. */
  step(input: Buffer | null): Promise<SaslStep>;
}
