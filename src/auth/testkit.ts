// Test helpers for auth's own tests (not exported through index.ts): a real
// store in a temp dir, and the client side of SCRAM-SHA-256 per RFC 5802 §3.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLogger, ManualClock } from '../core/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { AccountStore } from './accounts.ts';
import { Authenticator, type AuthenticatorOptions } from './authenticator.ts';
import { hmac, saltedPassword, sha256 } from './scram-keys.ts';

export interface Kit {
  store: Store;
  accounts: AccountStore;
  auth: Authenticator;
  logger: MemoryLogger;
  clock: ManualClock;
  done(): Promise<void>;
}

export async function kit(opts: Partial<AuthenticatorOptions> = {}, storeOpts: { scramIterations?: number; hashCaps?: { bcryptCost?: number; cryptRounds?: number } } = {}): Promise<Kit> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-auth-'));
  const store = await openStore(join(dir, 'state.db'));
  const logger = new MemoryLogger();
  const clock = new ManualClock();
  const accounts = await AccountStore.open(store, { clock, logger, ...storeOpts });
  const auth = new Authenticator(accounts, { logger, disabledUrl: 'https://isp.example/unlock', ...opts });
  return {
    store, accounts, auth, logger, clock,
    async done() {
      try { await store.close(); } catch { /* already closed by the test */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Client-final-message for a server-first, as a SCRAM client computes it. */
export async function scramClientFinal(opts: {
  password: string;
  gs2Header: string;
  clientFirstBare: string;
  serverFirst: string;
}): Promise<{ message: string; serverSignature: string }> {
  const attrs = Object.fromEntries(opts.serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
  const salted = await saltedPassword(opts.password, Buffer.from(attrs.s, 'base64'), Number(attrs.i));
  const clientKey = hmac(salted, 'Client Key');
  const withoutProof = `c=${Buffer.from(opts.gs2Header).toString('base64')},r=${attrs.r}`;
  const authMessage = `${opts.clientFirstBare},${opts.serverFirst},${withoutProof}`;
  const sig = hmac(sha256(clientKey), authMessage);
  const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
  return {
    message: `${withoutProof},p=${proof.toString('base64')}`,
    serverSignature: hmac(hmac(salted, 'Server Key'), authMessage).toString('base64'),
  };
}
