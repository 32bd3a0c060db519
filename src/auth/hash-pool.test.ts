// Slow hashes off the event loop and bounded: bcrypt and SHA-crypt run in worker
// threads, and every hash computation (argon2id, PBKDF2, the workers) takes a slot
// of one limiter, so a burst of cold logins waits instead of allocating at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { checkPassword, hashPassword } from './hashes.ts';
import { configureHashing, hashStats, HashBusyError } from './hash-pool.ts';
import { TEMPORARY } from './replies.ts';
import { kit } from './testkit.ts';

const BCRYPT = '{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda';
// openssl passwd -6 -salt 'rounds=20000$abc' pencil
const SHA_CRYPT = '$6$rounds=20000$abc$T/1rGbGc0Xf/INAoU9rEszGGSO8jwTdQTqjsJrT2eFojvKKtqR2bxwGZsFS3Gj9LkGuNA2Ic2MZK..tjlLHak/';

test('bcrypt and SHA-crypt are verified in worker threads: the event loop keeps turning meanwhile', async () => {
  for (const [hash, ok] of [[BCRYPT, 'pencil'], [SHA_CRYPT, 'pencil']] as const) {
    const before = hashStats().offloaded;
    let ticks = 0;
    let done = false;
    const spin = (async () => { while (!done) { await tick(); if (!done) ticks++; } })();
    const v = await checkPassword(hash, ok);
    done = true;
    await spin;
    assert.equal(v.ok, true, hash);
    assert.equal(hashStats().offloaded, before + 1, 'ran in the pool');
    assert.ok(ticks > 0, 'the main thread was free while it ran');
    assert.equal((await checkPassword(hash, 'wrong')).ok, false);
  }
});

test('at most `concurrency` hash computations at once; the rest queue, and past the queue bound it is a temporary failure', async () => {
  const hash = await hashPassword('pw');
  configureHashing({ concurrency: 2, queue: 30 });
  try {
    const start = hashStats();
    const results = await Promise.all(Array.from({ length: 20 }, () => checkPassword(hash, 'wrong')));
    assert.ok(results.every((r) => !r.ok && r.reason === 'password mismatch'));
    const st = hashStats();
    assert.equal(st.computed - start.computed, 20);
    assert.ok(st.peak <= 2, `peak ${st.peak}`);
    assert.equal(st.running, 0);
    // 2 running + 30 queued fit; the 33rd and later are refused at once.
    const burst = await Promise.allSettled(Array.from({ length: 40 }, () => checkPassword(hash, 'wrong')));
    const refused = burst.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, 8);
    assert.ok(refused.every((r) => r.status === 'rejected' && r.reason instanceof HashBusyError));
    assert.ok(hashStats().peak <= 2);
    // Through the authenticator an overflow is 454 4.7.0, not a wrong password.
    const k = await kit();
    try {
      await k.accounts.add({ login: 'alice', password: 'pw' });
      const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => k.auth.verifyPlain('alice', `guess${i}`)));
      const temp = flood.filter((r) => !r.ok && r.fail === 'temporary');
      assert.ok(temp.length >= 1, 'some were refused as temporary');
      assert.ok(temp.every((r) => !r.ok && r.reply === TEMPORARY));
    } finally { k.done(); }
  } finally {
    configureHashing({});
  }
});

test('the SCRAM key upgrade on login takes a hash slot like every other PBKDF2 derivation', async () => {
  const k = await kit({ rehashOnLogin: false });
  try {
    await k.accounts.add({ login: 'bob', hash: BCRYPT });
    const before = hashStats().computed;
    const r = await k.auth.verifyPlain('bob', 'pencil');
    assert.equal(r.ok, true);
    assert.notEqual((await k.accounts.authRecord('bob'))!.scram, null, 'SCRAM keys were derived');
    // One slot for the bcrypt check, one for the PBKDF2 derivation.
    assert.equal(hashStats().computed - before, 2);
  } finally { k.done(); }
});
