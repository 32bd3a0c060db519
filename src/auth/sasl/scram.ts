// SCRAM-SHA-256 server (RFC 5802, RFC 7677), without channel binding: the gs2
// flag may be "n" or "y" (the client could bind but we offer no -PLUS), never "p".
// The server sends no SCRAM "e=" message: a failure is an SMTP reply instead.
import { randomBytes } from 'node:crypto';
import type { Authenticator, ScramLookup } from '../authenticator.ts';
import { hmac, sameBytes, sha256 } from '../scram-keys.ts';
import { decodeUtf8, Outcome, type SaslOptions } from './common.ts';
import type { SaslExchange, SaslStep } from './types.ts';

const NONCE = /^[\x21-\x2B\x2D-\x7E]+$/; // printable except ','
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 5802 §5.1 saslname: "=2C" is ',', "=3D" is '=', any other '=' is malformed. */
export function decodeSaslname(s: string): string | null {
  if (s === '' || /=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

// Optional extensions after the two fixed attributes are attr-val pairs we ignore.
const extensionsOk = (attrs: string[]): boolean => attrs.slice(2).every((a) => /^[A-Za-z]=/.test(a));

const defaultNonce = (): string => randomBytes(18).toString('base64');

export function scramExchange(auth: Authenticator, opts: SaslOptions = {}): SaslExchange {
  const out = new Outcome('SCRAM-SHA-256', opts);
  const makeNonce = opts.nonce ?? defaultNonce;
  let state: 'start' | 'first' | 'final' = 'start';
  let gs2Header = '';
  let clientFirstBare = '';
  let serverFirst = '';
  let nonce = '';
  let username = '';
  let authzid: string | undefined;
  let lookup: ScramLookup | null = null;

  async function clientFirst(msg: string): Promise<SaslStep> {
    const m = /^(n|y|p=[A-Za-z0-9.-]+),(a=[^,]*)?,(.*)$/s.exec(msg);
    if (!m || m[1].startsWith('p=')) return out.malformed();
    if (m[2] !== undefined) {
      const a = decodeSaslname(m[2].slice(2));
      if (a === null) return out.malformed();
      authzid = a;
    }
    gs2Header = msg.slice(0, msg.length - m[3].length);
    clientFirstBare = m[3];
    const attrs = clientFirstBare.split(',');
    // "m=" is reserved for a future mandatory extension we cannot know (RFC 5802 §5.1).
    if (attrs.length < 2 || !attrs[0].startsWith('n=') || !attrs[1].startsWith('r=') || !extensionsOk(attrs)) return out.malformed();
    const user = decodeSaslname(attrs[0].slice(2));
    const cnonce = attrs[1].slice(2);
    if (user === null || !NONCE.test(cnonce)) return out.malformed();
    username = user;
    const found = await auth.scramLookup(username, opts.gate);
    if ('fail' in found) return out.result(username, found);
    lookup = found;
    const snonce = makeNonce();
    if (!NONCE.test(snonce)) throw new Error('SCRAM server nonce must be printable without commas');
    nonce = cnonce + snonce;
    serverFirst = `r=${nonce},s=${found.creds.salt},i=${found.creds.iterations}`;
    state = 'final';
    return { type: 'challenge', data: Buffer.from(serverFirst) };
  }

  async function clientFinal(msg: string): Promise<SaslStep> {
    const cut = msg.lastIndexOf(',p=');
    if (cut === -1) return out.malformed(username);
    const withoutProof = msg.slice(0, cut);
    const proofB64 = msg.slice(cut + 3);
    const attrs = withoutProof.split(',');
    if (attrs.length < 2 || !attrs[0].startsWith('c=') || !attrs[1].startsWith('r=') || !extensionsOk(attrs)) return out.malformed(username);
    const cbind = attrs[0].slice(2);
    if (!B64.test(cbind) || !Buffer.from(cbind, 'base64').equals(Buffer.from(gs2Header))) return out.malformed(username);
    if (attrs[1].slice(2) !== nonce) return out.malformed(username);
    if (!B64.test(proofB64)) return out.malformed(username);
    const proof = Buffer.from(proofB64, 'base64');
    const creds = lookup!.creds;
    const storedKey = Buffer.from(creds.storedKey, 'base64');
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    let proofOk = false;
    if (proof.length === signature.length) {
      const clientKey = Buffer.alloc(proof.length);
      for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ signature[i];
      proofOk = sameBytes(sha256(clientKey), storedKey);
    }
    const r = await auth.scramFinish(lookup!, username, proofOk, authzid);
    if (!r.ok) return out.result(username, r);
    const v = hmac(Buffer.from(creds.serverKey, 'base64'), authMessage).toString('base64');
    return out.result(username, r, Buffer.from(`v=${v}`));
  }

  return {
    async step(input: Buffer | null): Promise<SaslStep> {
      if (out.done) return out.finished();
      if (input === null) {
        if (state !== 'start') return out.malformed(username || null);
        state = 'first';
        return { type: 'challenge', data: Buffer.alloc(0) };
      }
      const msg = decodeUtf8(input);
      if (msg === null) return out.malformed(username || null);
      if (state === 'final') return clientFinal(msg);
      return clientFirst(msg);
    },
  };
}
