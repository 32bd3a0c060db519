// The SASL mechanisms auth offers, by name (RFC 4422 names are case-insensitive).
import type { Authenticator } from '../authenticator.ts';
import type { SaslOptions } from './common.ts';
import { loginExchange } from './login.ts';
import { plainExchange } from './plain.ts';
import { scramExchange } from './scram.ts';
import type { SaslExchange } from './types.ts';

export const SASL_MECHANISMS = ['PLAIN', 'LOGIN', 'SCRAM-SHA-256'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const TABLE: Record<SaslMechanism, (auth: Authenticator, opts: SaslOptions) => SaslExchange> = {
  'PLAIN': plainExchange,
  'LOGIN': loginExchange,
  'SCRAM-SHA-256': scramExchange,
};

/** A fresh exchange for one AUTH command, or null for a mechanism we do not implement. */
export function createSaslServer(auth: Authenticator, mechanism: string, opts: SaslOptions = {}): SaslExchange | null {
  const name = mechanism.toUpperCase();
  return Object.hasOwn(TABLE, name) ? TABLE[name as SaslMechanism](auth, opts) : null;
}
