import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_FAILED, MALFORMED, TEMPORARY } from '../replies.ts';
import { kit } from '../testkit.ts';
import type { SaslOutcome } from './common.ts';
import { createSaslServer, SASL_MECHANISMS } from './index.ts';
import type { SaslExchange } from './types.ts';

const plain = (authzid: string, authcid: string, pw: string) => Buffer.from(`${authzid}\0${authcid}\0${pw}`);
const B = (s: string) => Buffer.from(s);

function start(k: Awaited<ReturnType<typeof kit>>, mech: string, outcomes: SaslOutcome[] = []): SaslExchange {
  const x = createSaslServer(k.auth, mech, { onResult: (o) => outcomes.push(o) });
  assert.ok(x, mech);
  return x;
}

test('mechanism table', async () => {
  const k = await kit();
  try {
    assert.deepEqual([...SASL_MECHANISMS], ['PLAIN', 'LOGIN', 'SCRAM-SHA-256']);
    assert.ok(createSaslServer(k.auth, 'plain'), 'names are case-insensitive');
    assert.equal(createSaslServer(k.auth, 'CRAM-MD5'), null);
    assert.equal(createSaslServer(k.auth, '__proto__'), null);
  } finally { k.done(); }
});

test('PLAIN: empty challenge, then success; initial response works too', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'hunter2' });
    const outcomes: SaslOutcome[] = [];
    const x = start(k, 'PLAIN', outcomes);
    assert.deepEqual(await x.step(null), { type: 'challenge', data: Buffer.alloc(0) });
    assert.deepEqual(await x.step(plain('', 'Alice@isp.example', 'hunter2')), { type: 'success', identity: 'alice@isp.example' });
    assert.deepEqual(outcomes, [{ mechanism: 'PLAIN', authcid: 'Alice@isp.example', ok: true, identity: 'alice@isp.example' }]);
    assert.equal((await x.step(B('again'))).type, 'failure', 'a finished exchange takes no more input');
    assert.deepEqual(await start(k, 'PLAIN').step(plain('', 'alice@isp.example', 'hunter2')), { type: 'success', identity: 'alice@isp.example' });
  } finally { k.done(); }
});

test('PLAIN: unknown user and wrong password get the same reply', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'hunter2' });
    const outcomes: SaslOutcome[] = [];
    const wrong = await start(k, 'PLAIN', outcomes).step(plain('', 'alice@isp.example', 'hunter3'));
    const unknown = await start(k, 'PLAIN', outcomes).step(plain('', 'mallory@isp.example', 'hunter2'));
    assert.deepEqual(wrong, { type: 'failure', reply: AUTH_FAILED });
    assert.deepEqual(unknown, wrong);
    assert.deepEqual(AUTH_FAILED, { code: 535, enhanced: '5.7.8', text: 'Error: authentication failed' });
    assert.deepEqual(outcomes.map((o) => [o.authcid, o.fail]), [['alice@isp.example', 'credentials'], ['mallory@isp.example', 'credentials']]);
    const reasons = k.logger.records.filter((r) => r.event === 'auth-failed').map((r) => r.reason);
    assert.deepEqual(reasons, ['password mismatch', 'unknown user'], 'the log tells them apart, the client cannot');
  } finally { k.done(); }
});

test('PLAIN: every failure costs one real verification (a dummy argon2id for unknown users) and is padded to the same floor', async () => {
  const waits: number[] = [];
  const k = await kit({ failureFloorMs: 900, wait: async (ms: number) => { waits.push(ms); } });
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'hunter2' });
    await k.accounts.add({ login: 'bob@isp.example', hash: '{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda' });
    await k.accounts.add({ login: 'carol@isp.example', hash: '{SHA512-CRYPT}$6$.kSZILn7BSuyWtak$li81Vr7BON4sq9oBanQ5og8qXyDhwrvvrI.tlt9zh7HuQQoBAP3eqlidQ9UAJwbFKUM91lkTD052mgPTjc54h0' });
    const { hashStats } = await import('../hash-pool.ts');
    await start(k, 'PLAIN').step(plain('', 'warm@isp.example', 'x')); // makes the dummy hash once
    for (const user of ['alice@isp.example', 'bob@isp.example', 'carol@isp.example', 'nobody@isp.example', 'x'.repeat(300)]) {
      const before = hashStats().computed;
      waits.length = 0;
      assert.deepEqual(await start(k, 'PLAIN').step(plain('', user, 'wrong')), { type: 'failure', reply: AUTH_FAILED });
      assert.equal(hashStats().computed - before, 1, `${user}: one verification`);
      assert.equal(waits.length, 1, `${user}: padded once`);
      assert.ok(waits[0] > 0 && waits[0] <= 900, `${user}: padded to the floor (${waits[0]} ms)`);
    }
    const dummy = k.logger.records.filter((r) => r.event === 'auth-failed').map((r) => r.reason);
    assert.deepEqual(dummy.slice(-2), ['unknown user', 'unknown user']);
    waits.length = 0;
    assert.equal((await start(k, 'PLAIN').step(plain('', 'alice@isp.example', 'hunter2'))).type, 'success');
    assert.deepEqual(waits, [], 'a success is not slowed down');
  } finally { k.done(); }
});

test('PLAIN: malformed messages get 501 5.5.2', async () => {
  const k = await kit();
  try {
    const bad = [B('no-nul-at-all'), B('a\0b'), B('a\0b\0c\0d'), plain('', '', 'pw'), plain('', 'alice', ''), Buffer.from([0, 0x61, 0, 0xff, 0xfe])];
    for (const b of bad) assert.deepEqual(await start(k, 'PLAIN').step(b), { type: 'failure', reply: MALFORMED }, JSON.stringify(b.toString()));
    assert.deepEqual(MALFORMED.code, 501);
    assert.deepEqual(MALFORMED.enhanced, '5.5.2');
  } finally { k.done(); }
});

test('PLAIN: authzid equal to authcid is fine, another one needs the authorize hook', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'pw' });
    assert.deepEqual(await start(k, 'PLAIN').step(plain('ALICE@isp.example', 'alice@isp.example', 'pw')), { type: 'success', identity: 'alice@isp.example' });
    assert.deepEqual(await start(k, 'PLAIN').step(plain('bob@isp.example', 'alice@isp.example', 'pw')), { type: 'failure', reply: AUTH_FAILED });
  } finally { k.done(); }
  const calls: string[][] = [];
  const k2 = await kit({ authorize: (authcid, authzid) => { calls.push([authcid, authzid]); return authzid === 'shop@isp.example'; } });
  try {
    await k2.accounts.add({ login: 'admin@isp.example', password: 'pw' });
    assert.deepEqual(await start(k2, 'PLAIN').step(plain('Shop@isp.example', 'admin@isp.example', 'pw')), { type: 'success', identity: 'shop@isp.example' });
    assert.deepEqual(await start(k2, 'PLAIN').step(plain('other@isp.example', 'admin@isp.example', 'pw')), { type: 'failure', reply: AUTH_FAILED });
    assert.deepEqual(await start(k2, 'PLAIN').step(plain('shop@isp.example', 'admin@isp.example', 'bad')), { type: 'failure', reply: AUTH_FAILED });
    assert.deepEqual(calls, [['admin@isp.example', 'shop@isp.example'], ['admin@isp.example', 'other@isp.example']], 'the hook is asked only after the password proved right');
  } finally { k2.done(); }
});

test('disabled account: 525 5.7.13 with the URL only after a correct password', async () => {
  const k = await kit({ disabledUrl: ({ login }) => `https://isp.example/unlock?u=${encodeURIComponent(login)}` });
  try {
    await k.accounts.add({ login: 'zombie@isp.example', password: 'pw' });
    await k.accounts.disable('zombie@isp.example', 'bot detected, case 7');
    const outcomes: SaslOutcome[] = [];
    assert.deepEqual(await start(k, 'PLAIN', outcomes).step(plain('', 'zombie@isp.example', 'nope')), { type: 'failure', reply: AUTH_FAILED });
    const r = await start(k, 'PLAIN', outcomes).step(plain('', 'zombie@isp.example', 'pw'));
    assert.deepEqual(r, { type: 'failure', reply: { code: 525, enhanced: '5.7.13', text: 'User account disabled, see https://isp.example/unlock?u=zombie%40isp.example' } });
    assert.deepEqual(outcomes.map((o) => o.fail), ['credentials', 'disabled']);
    const l = await start(k, 'LOGIN');
    await l.step(null); await l.step(B('zombie@isp.example'));
    assert.equal(((await l.step(B('pw'))) as { reply: { code: number } }).reply.code, 525);
  } finally { k.done(); }
});

test('a store failure is 454 4.7.0, not a credentials failure', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'pw' });
    k.store.close();
    const outcomes: SaslOutcome[] = [];
    assert.deepEqual(await start(k, 'PLAIN', outcomes).step(plain('', 'alice@isp.example', 'pw')), { type: 'failure', reply: TEMPORARY });
    assert.deepEqual(TEMPORARY, { code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure' });
    assert.equal(outcomes[0].fail, 'temporary');
    assert.ok(k.logger.records.some((r) => r.level === 'error' && r.event === 'auth-temporary'));
  } finally { k.done(); }
});

test('LOGIN: Username:, Password:, with or without the username as initial response', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'pässwörd' });
    const x = start(k, 'LOGIN');
    assert.deepEqual(await x.step(null), { type: 'challenge', data: B('Username:') });
    assert.deepEqual(await x.step(B('alice@isp.example')), { type: 'challenge', data: B('Password:') });
    assert.deepEqual(await x.step(B('pässwörd')), { type: 'success', identity: 'alice@isp.example' });

    const y = start(k, 'LOGIN');
    assert.deepEqual(await y.step(B('alice@isp.example')), { type: 'challenge', data: B('Password:') });
    assert.deepEqual(await y.step(B('wrong')), { type: 'failure', reply: AUTH_FAILED });

    const z = start(k, 'LOGIN');
    await z.step(null);
    assert.deepEqual(await z.step(Buffer.from([0xc3, 0x28])), { type: 'failure', reply: MALFORMED }, 'invalid UTF-8');
  } finally { k.done(); }
});

test('a PLAIN success upgrades imported credentials: SCRAM keys, and argon2id by default (audit-logged)', async () => {
  const k = await kit();
  try {
    await k.accounts.importDovecotPasswdFile('old@isp.example:{SHA512-CRYPT}$6$.kSZILn7BSuyWtak$li81Vr7BON4sq9oBanQ5og8qXyDhwrvvrI.tlt9zh7HuQQoBAP3eqlidQ9UAJwbFKUM91lkTD052mgPTjc54h0\n');
    assert.deepEqual([(await k.accounts.get('old@isp.example'))!.scheme, (await k.accounts.get('old@isp.example'))!.scram], ['sha512-crypt', false]);
    assert.equal((await start(k, 'PLAIN').step(plain('', 'old@isp.example', 'wrong'))).type, 'failure');
    assert.equal((await k.accounts.get('old@isp.example'))!.scram, false, 'a failed login changes nothing');
    assert.equal((await start(k, 'PLAIN').step(plain('', 'old@isp.example', 'pencil'))).type, 'success');
    assert.deepEqual([(await k.accounts.get('old@isp.example'))!.scheme, (await k.accounts.get('old@isp.example'))!.scram], ['argon2id', true]);
    assert.ok(k.logger.records.some((r) => r.event === 'auth-rehash' && r.login === 'old@isp.example' && r.from === 'sha512-crypt' && r.to === 'argon2id'));
    assert.equal((await start(k, 'PLAIN').step(plain('', 'old@isp.example', 'pencil'))).type, 'success');
  } finally { k.done(); }
  const off = await kit({ rehashOnLogin: false });
  try {
    await off.accounts.add({ login: 'old', hash: '{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda' });
    assert.equal((await start(off, 'PLAIN').step(plain('', 'old', 'pencil'))).type, 'success');
    assert.equal((await off.accounts.get('old'))!.scheme, 'bcrypt', 'kept when rehashOnLogin is off');
  } finally { off.done(); }
});

test('input after the end is refused and reported once; over-long passwords fail like wrong ones', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'pw' });
    const outcomes: SaslOutcome[] = [];
    const x = start(k, 'PLAIN', outcomes);
    assert.equal((await x.step(plain('', 'alice@isp.example', 'pw'))).type, 'success');
    assert.deepEqual(await x.step(B('more')), { type: 'failure', reply: MALFORMED });
    assert.equal(outcomes.length, 1);
    assert.deepEqual(await start(k, 'PLAIN').step(plain('', 'alice@isp.example', 'p'.repeat(5000))), { type: 'failure', reply: AUTH_FAILED });
  } finally { k.done(); }
});
