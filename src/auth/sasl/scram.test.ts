import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveScramCredentials } from '../scram-keys.ts';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_FAILED, MALFORMED } from '../replies.ts';
import { kit, scramClientFinal, type Kit } from '../testkit.ts';
import { createSaslServer } from './index.ts';
import { decodeSaslname } from './scram.ts';
import type { SaslExchange, SaslStep } from './types.ts';

const B = (s: string) => Buffer.from(s);
const text = (s: SaslStep) => (s.type === 'challenge' ? s.data.toString() : assert.fail(`expected a challenge, got ${JSON.stringify(s)}`));

function scram(k: Kit, nonce?: () => string): SaslExchange {
  return createSaslServer(k.auth, 'SCRAM-SHA-256', nonce ? { nonce } : {})!;
}

/** A whole exchange as a client would run it; returns the last server step. */
async function login(k: Kit, user: string, password: string, gs2Header = 'n,,'): Promise<SaslStep> {
  const x = scram(k);
  const bare = `n=${user},r=clientnonce${Math.random().toString(36).slice(2)}`;
  const serverFirst = text(await x.step(B(gs2Header + bare)));
  const { message, serverSignature } = await scramClientFinal({ password, gs2Header, clientFirstBare: bare, serverFirst });
  const last = await x.step(B(message));
  if (last.type === 'success') assert.equal(last.data?.toString(), `v=${serverSignature}`, 'server proves it knows the keys');
  return last;
}

test('RFC 7677 §3 test vector', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'user', password: 'pencil' });
    const keys = await deriveScramCredentials('pencil', { salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), iterations: 4096 });
    await k.accounts.updateCredentials('user', { scram: keys! });
    const x = scram(k, () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    assert.deepEqual(await x.step(null), { type: 'challenge', data: Buffer.alloc(0) });
    assert.equal(text(await x.step(B('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'))),
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const last = await x.step(B('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    assert.deepEqual(last, { type: 'success', identity: 'user', data: B('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=') });
  } finally { k.done(); }
});

test('full exchanges: right and wrong password, "y" flag, own authzid', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'correct horse' });
    assert.equal((await login(k, 'alice@isp.example', 'correct horse')).type, 'success');
    assert.equal((await login(k, 'ALICE@isp.example', 'correct horse', 'y,,')).type, 'success');
    assert.equal((await login(k, 'alice@isp.example', 'correct horse', 'n,a=alice@isp.example,')).type, 'success');
    assert.deepEqual(await login(k, 'alice@isp.example', 'correct horsE'), { type: 'failure', reply: AUTH_FAILED });
    assert.deepEqual(await login(k, 'alice@isp.example', 'correct horse', 'n,a=bob@isp.example,'), { type: 'failure', reply: AUTH_FAILED });
  } finally { k.done(); }
});

test('unknown user: same reply, and a salt that stays the same per name', async () => {
  const k = await kit();
  try {
    assert.deepEqual(await login(k, 'ghost@isp.example', 'x'), { type: 'failure', reply: AUTH_FAILED });
    const salt = async (u: string) => text(await scram(k).step(B(`n,,n=${u},r=abc`))).split(',')[1];
    assert.equal(await salt('ghost@isp.example'), await salt('ghost@isp.example'));
    assert.notEqual(await salt('ghost@isp.example'), await salt('phantom@isp.example'));
    assert.match(await salt('ghost@isp.example'), /^s=[A-Za-z0-9+/]{22}==$/, 'looks like a real 16-byte salt');
  } finally { k.done(); }
});

test('account without SCRAM keys answers exactly like an unknown one (no 432 oracle); a PLAIN login derives them', async () => {
  const outcomes: string[] = [];
  const k = await kit();
  try {
    await k.accounts.add({ login: 'old@isp.example', hash: '{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda' });
    const shape = async (user: string) => {
      const x = createSaslServer(k.auth, 'SCRAM-SHA-256', { onResult: (o) => outcomes.push(`${o.ok}/${o.fail}`) })!;
      const bare = `n=${user},r=clientnonce`;
      const first = text(await x.step(B(`n,,${bare}`)));
      const { message } = await scramClientFinal({ password: 'pencil', gs2Header: 'n,,', clientFirstBare: bare, serverFirst: first });
      const last = await x.step(B(message));
      // salt length and iteration count, with the nonce and salt bytes blanked out
      return { first: first.replace(/^r=[^,]*/, 'r=').replace(/s=[A-Za-z0-9+/=]*/, (m) => `s=${m.length}`), last };
    };
    const noKeys = await shape('old@isp.example');
    const unknown = await shape('ghost@isp.example');
    assert.deepEqual(noKeys, unknown);
    assert.deepEqual(noKeys.last, { type: 'failure', reply: AUTH_FAILED });
    assert.deepEqual(outcomes, ['false/credentials', 'false/credentials'], 'both count as failed credentials');
    assert.ok(k.logger.records.some((r) => r.event === 'auth-transition' && r.login === 'old@isp.example'), 'the reason is in the log only');
    const p = createSaslServer(k.auth, 'PLAIN')!;
    assert.equal((await p.step(B('\0old@isp.example\0pencil'))).type, 'success');
    assert.equal((await login(k, 'old@isp.example', 'pencil')).type, 'success');
  } finally { k.done(); }
});

test('iteration count: default far above 4096, configurable, the same for real and fake keys', async () => {
  const iters = async (k: Kit, user: string) => text(await scram(k).step(B(`n,,n=${user},r=abc`))).split(',')[2];
  const d = await kit();
  try {
    await d.accounts.add({ login: 'alice@isp.example', password: 'pw' });
    assert.equal(await iters(d, 'alice@isp.example'), 'i=100000');
    assert.equal(await iters(d, 'ghost@isp.example'), 'i=100000');
  } finally { d.done(); }
  const k = await kit({ scramIterations: 20000 }, { scramIterations: 20000 });
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'pw' });
    assert.equal(await iters(k, 'alice@isp.example'), 'i=20000');
    assert.equal(await iters(k, 'ghost@isp.example'), 'i=20000');
    assert.equal((await login(k, 'alice@isp.example', 'pw')).type, 'success');
  } finally { k.done(); }
});

test('keys below the configured count are re-derived at the next PLAIN login', async () => {
  const k = await kit({ scramIterations: 20000 }, { scramIterations: 20000 });
  try {
    await k.accounts.add({ login: 'user', password: 'pencil' });
    await k.accounts.updateCredentials('user', { scram: (await deriveScramCredentials('pencil', { iterations: 4096 }))! });
    assert.equal((await createSaslServer(k.auth, 'PLAIN')!.step(B('\0user\0pencil'))).type, 'success');
    assert.equal((await k.accounts.authRecord('user'))!.scram!.iterations, 20000);
  } finally { k.done(); }
});

test('the fake-salt secret lives in the data directory (0600) and survives a restart', async () => {
  const { loadScramSecret } = await import('../scram-secret.ts');
  const dir = mkdtempSync(join(tmpdir(), 'pw-scram-'));
  try {
    const a = loadScramSecret(dir);
    assert.equal(statSync(join(dir, 'scram-secret')).mode & 0o777, 0o600);
    assert.equal(a.length, 32);
    assert.deepEqual(loadScramSecret(dir), a, 'the same secret again');
    const salt = async (secret: Buffer) => {
      const k = await kit({ scramSecret: secret });
      try { return text(await scram(k).step(B('n,,n=ghost@isp.example,r=abc'))).split(',')[1]; } finally { k.done(); }
    };
    assert.equal(await salt(a), await salt(loadScramSecret(dir)));
    writeFileSync(join(dir, 'scram-secret'), 'short');
    assert.throws(() => loadScramSecret(dir), /scram-secret/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('Dovecot {SCRAM-SHA-256} imports work for SCRAM at once', async () => {
  const k = await kit();
  try {
    await k.accounts.importDovecotPasswdFile('carol@isp.example:{SCRAM-SHA-256}4096,dfS24R4W1a9BQFeLGzXU7Q==,mFSL0twNczzP5Y8ejhf3WWjKr6OZlA2f9/rGY2X2jrc=,JFLNg0lF0BIQ9dBaWsxvkn1lf1gGbQCNwMOlN5EiN1o=\n');
    assert.equal((await login(k, 'carol@isp.example', 'pencil')).type, 'success');
    assert.equal((await login(k, 'carol@isp.example', 'pencil2')).type, 'failure');
  } finally { k.done(); }
});

test('disabled account: 525 only after a correct proof', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'zombie@isp.example', password: 'pw' });
    await k.accounts.disable('zombie@isp.example', 'infected');
    assert.deepEqual(await login(k, 'zombie@isp.example', 'wrong'), { type: 'failure', reply: AUTH_FAILED });
    const r = await login(k, 'zombie@isp.example', 'pw');
    assert.equal(r.type === 'failure' && `${r.reply.code} ${r.reply.enhanced} ${r.reply.text}`, '525 5.7.13 User account disabled, see https://isp.example/unlock');
  } finally { k.done(); }
});

test('malformed and refused messages get 501 5.5.2', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'user', password: 'pencil' });
    const firsts = ['p=tls-unique,,n=user,r=abc', 'x,,n=user,r=abc', 'n,,m=ext,n=user,r=abc', 'n,,r=abc,n=user', 'n,,n=us=er,r=abc', 'n,,n=user,r=a,b', 'n,,n=user', 'n,,n=user,r=', 'n,a=x=1,n=user,r=abc'];
    for (const f of firsts) assert.deepEqual(await scram(k).step(B(f)), { type: 'failure', reply: MALFORMED }, f);

    const finals = (nonce: string) => [
      `c=eSws,r=${nonce},p=AAAA`, // c= says "y," but the client sent "n,,"
      `c=biws,r=${nonce}x,p=AAAA`, // nonce changed
      `c=biws,r=${nonce}`, // no proof
      `c=biws,r=${nonce},p=not*base64`,
      `r=${nonce},c=biws,p=AAAA`,
    ];
    for (let i = 0; i < 5; i++) {
      const x = scram(k);
      const nonce = text(await x.step(B('n,,n=user,r=abc'))).split(',')[0].slice(2);
      const f = finals(nonce)[i];
      assert.deepEqual(await x.step(B(f)), { type: 'failure', reply: MALFORMED }, f);
    }
    const x = scram(k);
    text(await x.step(B('n,,n=user,r=abc')));
    const nonce = 'abc';
    assert.deepEqual(await x.step(B(`c=biws,r=${nonce},p=${Buffer.alloc(32).toString('base64')}`)), { type: 'failure', reply: MALFORMED });
  } finally { k.done(); }
});

test('saslname escapes', async () => {
  assert.equal(decodeSaslname('a=2Cb=3Dc'), 'a,b=c');
  assert.equal(decodeSaslname('a=2'), null);
  assert.equal(decodeSaslname(''), null);
  const k = await kit();
  try {
    await k.accounts.add({ login: 'we,ird=name', password: 'pw' });
    assert.equal((await login(k, 'we=2Cird=3Dname', 'pw')).type, 'success');
  } finally { k.done(); }
});
