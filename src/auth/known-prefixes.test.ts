import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { KNOWN_PREFIX_REFRESH_MS, KnownPrefixTable } from './known-prefixes.ts';
import { kit } from './testkit.ts';

const DAY = 86_400_000;

test('known prefixes: remembered per login across a reopen of the database, forgotten after maxAge, a few per login', async () => {
  const k = await kit();
  const file = k.store.location;
  try {
    const clock = new ManualClock();
    const t = new KnownPrefixTable(k.store, { clock });
    await t.add('alice@isp.example', '192.0.2.0/24', 30 * DAY);
    assert.equal((await t.has('alice@isp.example', '192.0.2.0/24', 30 * DAY)), true);
    assert.equal((await t.has('alice@isp.example', '198.51.100.0/24', 30 * DAY)), false);
    assert.equal((await t.has('bob@isp.example', '192.0.2.0/24', 30 * DAY)), false);
    await k.store.close();
    const reopened = await openStore(file);
    try {
      const t2 = new KnownPrefixTable(reopened, { clock });
      assert.equal((await t2.has('alice@isp.example', '192.0.2.0/24', 30 * DAY)), true, 'survives a restart');
      clock.advance(30 * DAY);
      assert.equal((await t2.has('alice@isp.example', '192.0.2.0/24', 30 * DAY)), false, 'forgotten without a login for maxAge');
      for (let i = 0; i < 40; i++) { clock.advance(1); (await t2.add('carol', `2001:db8:${i.toString(16)}::/64`, 30 * DAY)); }
      const n = (await reopened.db.get<{ n: number }>("SELECT count(*) AS n FROM auth_known_prefixes WHERE login = 'carol'"))!.n;
      assert.equal(n, 16);
      assert.equal((await t2.has('carol', '2001:db8:27::/64', 30 * DAY)), true, 'the newest are kept');
      assert.equal((await t2.has('carol', '2001:db8:0::/64', 30 * DAY)), false);
    } finally { await reopened.close(); }
  } finally { k.done(); }
});

test('known prefixes: a login from a prefix written within the hour is not written again (no write per AUTH), later it is', async () => {
  const k = await kit();
  try {
    const clock = new ManualClock();
    const t = new KnownPrefixTable(k.store, { clock });
    const lastOk = async () => (await k.store.db.get<{ t: number }>("SELECT last_ok AS t FROM auth_known_prefixes WHERE login = 'alice'"))!.t;
    await t.add('alice', '192.0.2.0/24', 30 * DAY);
    const first = await lastOk();
    clock.advance(KNOWN_PREFIX_REFRESH_MS - 1);
    await t.add('alice', '192.0.2.0/24', 30 * DAY);
    assert.equal(await lastOk(), first, 'within the refresh window: no write');
    clock.advance(1);
    await t.add('alice', '192.0.2.0/24', 30 * DAY);
    assert.equal(await lastOk(), first + KNOWN_PREFIX_REFRESH_MS, 'after it: written again');
    await k.store.close();
  } finally { k.done(); }
});
