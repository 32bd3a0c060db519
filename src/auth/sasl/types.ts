// The SASL exchange contract, shared with the SMTP engine through core (auth may
// not import smtp: tools/check-deps.ts).
export type { SaslStep, SaslExchange } from '../../core/index.ts';
