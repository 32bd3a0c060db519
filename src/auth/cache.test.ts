// The verification cache: repeat logins skip the hash, nothing else changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kit } from './testkit.ts';

test('a repeated correct login is answered from the cache; failures, password changes and expiry are not', async (t) => {
  let now = 1_000_000;
  const k = await kit({ cacheTtl: 60, now: () => now });
  t.after(() => k.done());
  await k.accounts.add({ login: 'erin@isp.example', password: 'first-password-1' });
  const timed = async (pw: string) => {
    const t0 = performance.now();
    const r = await k.auth.verifyPlain('erin@isp.example', pw);
    return { ok: r.ok, ms: performance.now() - t0 };
  };
  const first = await timed('first-password-1');
  const second = await timed('first-password-1');
  assert.ok(first.ok && second.ok);
  assert.ok(second.ms * 5 < first.ms, `cached ${second.ms.toFixed(2)} ms vs hashed ${first.ms.toFixed(2)} ms`);
  assert.equal((await timed('wrong-password')).ok, false);
  const wrongAgain = await timed('wrong-password');
  assert.equal(wrongAgain.ok, false);
  assert.ok(wrongAgain.ms * 5 > first.ms, 'failures are hashed every time');
  now += 61_000;
  const expired = await timed('first-password-1');
  assert.ok(expired.ok && expired.ms * 5 > first.ms, 'an expired entry costs a full hash again');
  await k.accounts.setPassword('erin@isp.example', 'second-password-2');
  assert.equal((await timed('first-password-1')).ok, false, 'the old password no longer works after a change');
  await k.accounts.disable('erin@isp.example', 'test');
  const disabled = await k.auth.verifyPlain('erin@isp.example', 'second-password-2');
  assert.equal(disabled.ok, false);
  assert.equal(!disabled.ok && disabled.fail, 'disabled', 'status is checked on every login, cached or not');
});
