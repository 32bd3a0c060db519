// The staff repository (app/staff.ts, staff-access.ts) on both stores: SQLite in a
// temp dir and a private PostgreSQL (test/lib/postgres.ts). Users, names normalised
// once, TOTP with one step either side and replay refused, locks per name and per
// address, sessions and their revocation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP } from 'otpauth';
import { ManualClock } from '../../src/core/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { STAFF_MIGRATIONS, StaffRepository, addressKey, nameKey, totpFor } from '../../src/app/index.ts';
import { storeBackends, type StoreBackend } from '../lib/backends.ts';

type Backend = StoreBackend;
const backends = storeBackends('staff');

async function repo(b: Backend, t: { after(fn: () => Promise<void>): void }): Promise<{ store: Store; staff: StaffRepository; clock: ManualClock }> {
  const store = await openStore(await b.config());
  t.after(() => store.close());
  await store.migrate(STAFF_MIGRATIONS);
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 12, 0, 0));
  return { store, staff: new StaffRepository(store.db, () => clock.now()), clock };
}

const code = (secret: string, at: number): string => TOTP.generate({ secret: totpFor('x', secret).secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });

for (const b of backends) {
  describe(`staff repository on ${b.name}`, { skip: b.skip }, () => {
    test('add normalises the name once; a generated password must be changed; the URI is RFC 6238 SHA-1/6/30', async (t) => {
      const { staff } = await repo(b, t);
      const a = await staff.add({ name: '  Alice.Desk ', role: 'desk', createdBy: 'operator:root' });
      assert.equal(a.info.name, 'alice.desk');
      assert.equal(a.info.mustChangePassword, true);
      assert.match(a.password!, /^[A-Za-z2-9]{20}$/);
      assert.match(a.totp.secret, /^[A-Z2-7]{32}$/, '20 bytes of secret in base32');
      const u = new URL(a.totp.uri);
      assert.deepEqual([u.protocol, u.host, decodeURIComponent(u.pathname), u.searchParams.get('algorithm'), u.searchParams.get('digits'), u.searchParams.get('period'), u.searchParams.get('issuer'), u.searchParams.get('secret')],
        ['otpauth:', 'totp', '/portwarden:alice.desk', 'SHA1', '6', '30', 'portwarden', a.totp.secret]);
      await assert.rejects(staff.add({ name: 'ALICE.desk', role: 'admin', createdBy: 'x' }), (e: { code?: string }) => e.code === 'exists');
      for (const bad of ['a', 'élan', '1abc', 'a b', 'x'.repeat(33), 'bob<script>']) {
        await assert.rejects(staff.add({ name: bad, role: 'desk', createdBy: 'x' }), (e: { code?: string }) => e.code === 'invalid-value', bad);
      }
      await assert.rejects(staff.add({ name: 'bob', role: 'root', createdBy: 'x' }), (e: { code?: string }) => e.code === 'invalid-value');
      await assert.rejects(staff.add({ name: 'bob', role: 'desk', password: 'short', createdBy: 'x' }), (e: { code?: string }) => e.code === 'invalid-password');
      const bob = await staff.add({ name: 'bob', role: 'admin', password: 'correct horse battery', createdBy: 'x' });
      assert.equal(bob.password, undefined);
      assert.equal(bob.info.mustChangePassword, false);
      assert.deepEqual((await staff.list()).map((x) => [x.name, x.role]), [['alice.desk', 'desk'], ['bob', 'admin']]);
      assert.equal((await staff.get('ALICE.DESK'))?.name, 'alice.desk');
      // The last enabled admin stays one.
      for (const [what, fn] of [['disable', () => staff.disable('bob')], ['remove', () => staff.remove('bob')], ['role', () => staff.setRole('bob', 'desk')]] as const) {
        await assert.rejects(fn(), (e: { code?: string; message?: string }) => e.code === 'conflict' && /bob is the last enabled admin/.test(e.message!), what);
      }
      await staff.add({ name: 'carl', role: 'admin', password: 'correct horse battery', createdBy: 'x' });
      assert.equal((await staff.disable('bob')).disabledAt !== null, true, 'with another admin, one may go');
      await assert.rejects(staff.remove('carl'), (e: { code?: string }) => e.code === 'conflict');
    });

    test('password check: unknown, disabled and wrong passwords are told apart only to the caller', async (t) => {
      const { staff } = await repo(b, t);
      await staff.add({ name: 'carol', role: 'netops', password: 'a long passphrase', createdBy: 'x' });
      assert.equal((await staff.checkPassword('Carol', 'a long passphrase')).ok, true);
      assert.deepEqual(await staff.checkPassword('carol', 'wrong one here'), { ok: false, reason: 'bad-password' });
      assert.deepEqual(await staff.checkPassword('nobody', 'a long passphrase'), { ok: false, reason: 'unknown' });
      assert.deepEqual(await staff.checkPassword('<bad name>', 'x'), { ok: false, reason: 'unknown' });
      await staff.disable('carol');
      assert.deepEqual(await staff.checkPassword('carol', 'a long passphrase'), { ok: false, reason: 'disabled' });
      await staff.enable('carol');
      const p = await staff.setPassword('carol', undefined);
      assert.equal(p.info.mustChangePassword, true);
      assert.equal((await staff.checkPassword('carol', p.password!)).ok, true);
      assert.equal((await staff.checkPassword('carol', 'a long passphrase')).ok, false);
    });

    test('TOTP: this step and one either side; a code is good once; an older step after a newer one is refused', async (t) => {
      const { staff, clock } = await repo(b, t);
      const { totp } = await staff.add({ name: 'dave', role: 'desk', password: 'a long passphrase', createdBy: 'x' });
      const now = clock.now();
      assert.equal(await staff.checkCode('dave', '12345'), 'bad-code');
      assert.equal(await staff.checkCode('dave', code(totp.secret, now + 90_000)), 'bad-code', 'three steps ahead');
      assert.equal(await staff.checkCode('dave', code(totp.secret, now - 30_000)), 'ok', 'the previous step');
      assert.equal(await staff.checkCode('dave', code(totp.secret, now - 30_000)), 'replayed', 'the same code again');
      assert.equal(await staff.checkCode('dave', code(totp.secret, now)), 'ok', 'the current step is newer');
      assert.equal(await staff.checkCode('dave', code(totp.secret, now)), 'replayed');
      assert.equal(await staff.checkCode('dave', code(totp.secret, now - 30_000)), 'replayed', 'an older step than the last used');
      clock.advance(30_000);
      assert.equal(await staff.checkCode('dave', code(totp.secret, clock.now())), 'ok', 'the next step');
      // Two requests with one code at once: one wins.
      clock.advance(30_000);
      const c = code(totp.secret, clock.now());
      assert.deepEqual((await Promise.all([staff.checkCode('dave', c), staff.checkCode('dave', c)])).sort(), ['ok', 'replayed']);
      const reset = await staff.resetTotp('dave');
      clock.advance(30_000);
      assert.equal(await staff.checkCode('dave', code(totp.secret, clock.now())), 'bad-code', 'the old secret is dead');
      assert.equal(await staff.checkCode('dave', code(reset.totp.secret, clock.now())), 'ok');
      await staff.disable('dave');
      clock.advance(30_000);
      assert.equal(await staff.checkCode('dave', code(reset.totp.secret, clock.now())), 'bad-code', 'a disabled user has no good code');
    });

    test('locks: per name (existing or not) and per address, for the window; clear ends one', async (t) => {
      const { staff, clock } = await repo(b, t);
      const a = staff.access;
      const keys = (name: string, addr: string) => [{ key: nameKey(name), attempts: 3 }, { key: addressKey(addr), attempts: 5 }];
      const W = 15 * 60_000;
      for (let i = 0; i < 2; i++) assert.deepEqual((await a.fail(keys('ghost', '192.0.2.1'), W)).locked, []);
      assert.equal(await a.lockedUntil([nameKey('ghost')]), null);
      const r = await a.fail(keys('ghost', '192.0.2.1'), W);
      assert.deepEqual(r.locked, [nameKey('ghost')], 'the third failure locks the name, though no such user exists');
      assert.equal(await a.lockedUntil([nameKey('ghost'), addressKey('192.0.2.1')]), clock.now() + W);
      // The same address walking through other names: locked at its fifth failure.
      await a.fail(keys('u1', '192.0.2.1'), W);
      assert.deepEqual((await a.fail(keys('u2', '192.0.2.1'), W)).locked, [addressKey('192.0.2.1')]);
      assert.notEqual(await a.lockedUntil([nameKey('u3'), addressKey('192.0.2.1')]), null);
      assert.equal(await a.lockedUntil([nameKey('u3'), addressKey('192.0.2.2')]), null, 'another address is not locked');
      assert.deepEqual(await a.state(nameKey('u1')), { failures: 1, lockedUntil: null });
      clock.advance(W);
      assert.equal(await a.lockedUntil([nameKey('ghost'), addressKey('192.0.2.1')]), null, 'the lock ends after the window');
      assert.deepEqual((await a.fail(keys('ghost', '192.0.2.1'), W)).locked, [], 'counting starts again');
      assert.equal((await a.state(nameKey('ghost'))).failures, 1);
      // Failures spread wider than the window never lock.
      for (let i = 0; i < 4; i++) { clock.advance(W); assert.deepEqual((await a.fail(keys('slow', '192.0.2.9'), W)).locked, []); }
      assert.equal(await a.clear(nameKey('ghost')), true);
      assert.equal(addressKey('::ffff:192.0.2.1'), addressKey('192.0.2.1'), 'a mapped IPv4 address is the address');
      assert.equal(addressKey('2001:db8:0:1::1'), 'addr:2001:db8:0:1::/64');
      assert.equal(addressKey('2001:db8:0:1:ffff::2'), addressKey('2001:db8:0:1::1'), 'one /64 is one address');
      assert.deepEqual(await a.state(nameKey('ghost')), { failures: 0, lockedUntil: null });
    });

    test('sessions: only the hash is stored; rotate, stage, prune; disable, role change and removal end them', async (t) => {
      const { store, staff, clock } = await repo(b, t);
      await staff.add({ name: 'erin', role: 'desk', password: 'a long passphrase', createdBy: 'x' });
      const a = staff.access;
      const id = await a.createSession('erin', 'code', '192.0.2.7');
      assert.match(id, /^[A-Za-z0-9_-]{43}$/);
      const rows = await store.db.all<{ id_hash: string }>('SELECT id_hash FROM app_staff_sessions');
      assert.equal(rows.length, 1);
      assert.notEqual(rows[0].id_hash, id);
      const s = (await a.session(id))!;
      assert.deepEqual([s.name, s.role, s.stage, s.origin, s.disabled], ['erin', 'desk', 'code', '192.0.2.7', false]);
      assert.equal(await a.session('not-an-id'), null);
      const id2 = (await a.rotate(s.idHash, 'ok'))!;
      assert.equal(await a.session(id), null, 'the id from before the second step is dead');
      assert.equal((await a.session(id2))!.stage, 'ok');
      await staff.setRole('erin', 'postmaster');
      assert.equal(await a.session(id2), null, 'a role change ends the sessions');
      const id3 = await a.createSession('erin', 'ok', 'x');
      await staff.setPassword('erin', 'another passphrase', { endSessions: false });
      assert.notEqual(await a.session(id3), null, 'the person\'s own change keeps their session');
      await staff.disable('erin');
      assert.equal(await a.session(id3), null, 'disabling ends the sessions');
      await staff.enable('erin');
      const id4 = await a.createSession('erin', 'ok', 'x');
      clock.advance(60_000);
      const id5 = await a.createSession('erin', 'ok', 'x');
      assert.equal(await a.prune(clock.now() - 30_000, 0), 1);
      assert.equal(await a.session(id4), null);
      assert.equal(await staff.sessionCount('erin'), 1);
      await staff.remove('erin');
      assert.equal(await a.session(id5), null);
      await assert.rejects(staff.remove('erin'), (e: { code?: string }) => e.code === 'not-found');
    });
  });
}
