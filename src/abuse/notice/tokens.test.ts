import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { ManualClock } from '../../core/index.ts';
import { tempDir } from '../../../test/lib/tools.ts';
import { NoticeTokens, loadNoticeSecret } from './tokens.ts';

const HOUR = 3_600_000;

function tokens(clock = new ManualClock(1_764_633_600_000)) {
  return { clock, t: new NoticeTokens({ secret: Buffer.alloc(32, 7), ttlHours: 24, clock }) };
}

test('a link token verifies to its case and subscriber until it expires (injected clock)', () => {
  const { clock, t } = tokens();
  const link = t.link('c12', 'cust-1');
  assert.match(link, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(t.verifyLink(link), { ok: true, value: { case: 'c12', subscriber: 'cust-1', expires: clock.now() + 24 * HOUR } });
  clock.advance(24 * HOUR - 1);
  assert.equal(t.verifyLink(link).ok, true);
  clock.advance(1);
  assert.deepEqual(t.verifyLink(link), { ok: false, reason: 'expired' });
});

test('tampering: another payload with the old signature, a changed signature, another key', () => {
  const { t, clock } = tokens();
  const link = t.link('c12', 'cust-1');
  const [body, sig] = link.split('.');
  const forged = Buffer.from(JSON.stringify({ c: 'c13', s: 'cust-1', e: clock.now() + 1e9 })).toString('base64url');
  assert.deepEqual(t.verifyLink(`${forged}.${sig}`), { ok: false, reason: 'bad-signature' });
  const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
  assert.deepEqual(t.verifyLink(`${body}.${flipped}`), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(t.verifyLink(`${body}.${sig.slice(0, 10)}`), { ok: false, reason: 'bad-signature' });
  const other = new NoticeTokens({ secret: Buffer.alloc(32, 8), ttlHours: 24, clock });
  assert.deepEqual(other.verifyLink(link), { ok: false, reason: 'bad-signature' });
  // A CSRF value is signed with another derived key: it is never a link token.
  assert.deepEqual(t.verifyLink(t.csrf('c12', 'subscriber:cust-1')), { ok: false, reason: 'bad-signature' });
});

test('malformed tokens are refused as malformed', () => {
  const { t } = tokens();
  for (const bad of ['', 'abc', 'a.b.c', '.x', 'x.', 'a b.c', 'ä.b', 'x'.repeat(2000) + '.y', 42, null, undefined]) {
    assert.deepEqual(t.verifyLink(bad), { ok: false, reason: 'malformed' }, String(bad));
  }
});

test('CSRF values: bound to the case and binding, good for csrfTtlMs, several at once (tabs)', () => {
  const { t, clock } = tokens();
  const a = t.csrf('c12', 'address:127.0.0.1');
  const b = t.csrf('c12', 'address:127.0.0.1');
  assert.notEqual(a, b);
  assert.equal(t.verifyCsrf(a, 'c12', 'address:127.0.0.1').ok, true);
  assert.equal(t.verifyCsrf(b, 'c12', 'address:127.0.0.1').ok, true);
  assert.deepEqual(t.verifyCsrf(a, 'c13', 'address:127.0.0.1'), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(t.verifyCsrf(a, 'c12', 'address:127.0.0.2'), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(t.verifyCsrf(t.link('c12', 'x'), 'c12', 'address:127.0.0.1'), { ok: false, reason: 'bad-signature' });
  clock.advance(2 * HOUR);
  assert.deepEqual(t.verifyCsrf(a, 'c12', 'address:127.0.0.1'), { ok: false, reason: 'expired' });
});

test('the secret is created once, 0600, 32 bytes, and read back the same', (t) => {
  const dir = tempDir();
  t.after(() => dir.remove());
  const first = loadNoticeSecret(dir.path);
  assert.equal(first.length, 32);
  assert.equal(statSync(`${dir.path}/notice-secret`).mode & 0o777, 0o600);
  assert.deepEqual(loadNoticeSecret(dir.path), first);
});
