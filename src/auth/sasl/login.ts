// LOGIN (draft-murchison-sasl-login): "Username:" then "Password:"; the engine
// base64-encodes the challenges. Clients may send the username as the initial
// response (AUTH LOGIN <b64 user>), which skips the first challenge.
import type { Authenticator } from '../authenticator.ts';
import { decodeUtf8, Outcome, type SaslOptions } from './common.ts';
import type { SaslExchange, SaslStep } from './types.ts';

const USERNAME = Buffer.from('Username:');
const PASSWORD = Buffer.from('Password:');

export function loginExchange(auth: Authenticator, opts: SaslOptions = {}): SaslExchange {
  const out = new Outcome('LOGIN', opts);
  let state: 'start' | 'user' | 'password' = 'start';
  let user = '';
  return {
    async step(input: Buffer | null): Promise<SaslStep> {
      if (out.done) return out.finished();
      if (input === null) {
        if (state !== 'start') return out.malformed();
        state = 'user';
        return { type: 'challenge', data: USERNAME };
      }
      if (state === 'start' || state === 'user') {
        const u = decodeUtf8(input);
        if (u === null || u.includes('\0')) return out.malformed();
        user = u;
        state = 'password';
        return { type: 'challenge', data: PASSWORD };
      }
      const pw = decodeUtf8(input);
      if (pw === null) return out.malformed(user);
      return out.result(user, await auth.verifyPlain(user, pw, undefined, opts.gate));
    },
  };
}
