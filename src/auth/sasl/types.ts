// The SASL exchange contract, restated structurally: auth may not import smtp
// (tools/check-deps.ts), and TypeScript's structural typing makes these the same
// types as smtp's SaslStep / SaslExchange. Keep the two in step.
import type { Reply } from '../../core/index.ts';

export type SaslStep =
  | { type: 'challenge'; data: Buffer }
  /** Success; `data` is server-final data (SCRAM) the engine sends as a 334 before the 235. */
  | { type: 'success'; identity: string; data?: Buffer }
  | { type: 'failure'; reply: Reply; close?: boolean };

export interface SaslExchange {
  /** Called first with the initial response (null when none was given), then with each client response. */
  step(input: Buffer | null): Promise<SaslStep>;
}
