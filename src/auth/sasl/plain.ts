// PLAIN (RFC 4616): message = [authzid] NUL authcid NUL passwd, UTF-8.
import type { Authenticator } from '../authenticator.ts';
import { decodeUtf8, Outcome, type SaslOptions } from './common.ts';
import type { SaslExchange, SaslStep } from './types.ts';

export function plainExchange(auth: Authenticator, opts: SaslOptions = {}): SaslExchange {
  const out = new Outcome('PLAIN', opts);
  let asked = false;
  return {
    async step(input: Buffer | null): Promise<SaslStep> {
      if (out.done) return out.finished();
      if (input === null) {
        if (asked) return out.malformed();
        asked = true;
        return { type: 'challenge', data: Buffer.alloc(0) };
      }
      const text = decodeUtf8(input);
      const parts = text?.split('\0');
      if (!parts || parts.length !== 3) return out.malformed();
      const [authzid, authcid, password] = parts;
      if (authcid === '' || password === '') return out.malformed(authcid || null);
      return out.result(authcid, await auth.verifyPlain(authcid, password, authzid === '' ? undefined : authzid, opts.gate));
    },
  };
}
