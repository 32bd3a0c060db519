import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { KnownPrefixTable } from './known-prefixes.ts';
import { kit } from './testkit.ts';

const DAY = 86_400_000;

test('known prefixes: remembered per login across a reopen of the database, forgotten after maxAge, a few per login', () => {
  const k = kit();
  const file = join(k.store.db.location()!);
  try {
    const clock = new ManualClock();
    const t = new KnownPrefixTable(k.store, { clock });
    t.add('alice@isp.example', '192.0.2.0/24', 30 * DAY);
    assert.equal(t.has('alice@isp.example', '192.0.2.0/24', 30 * DAY), true);
    assert.equal(t.has('alice@isp.example', '198.51.100.0/24', 30 * DAY), false);
    assert.equal(t.has('bob@isp.example', '192.0.2.0/24', 30 * DAY), false);
    k.store.close();
    const reopened = openStore(file);
    try {
      const t2 = new KnownPrefixTable(reopened, { clock });
      assert.equal(t2.has('alice@isp.example', '192.0.2.0/24', 30 * DAY), true, 'survives a restart');
      clock.advance(30 * DAY);
      assert.equal(t2.has('alice@isp.example', '192.0.2.0/24', 30 * DAY), false, 'forgotten without a login for maxAge');
      for (let i = 0; i < 40; i++) { clock.advance(1); t2.add('carol', `2001:db8:${i.toString(16)}::/64`, 30 * DAY); }
      const n = (reopened.db.prepare("SELECT count(*) AS n FROM auth_known_prefixes WHERE login = 'carol'").get() as { n: number }).n;
      assert.equal(n, 16);
      assert.equal(t2.has('carol', '2001:db8:27::/64', 30 * DAY), true, 'the newest are kept');
      assert.equal(t2.has('carol', '2001:db8:0::/64', 30 * DAY), false);
    } finally { reopened.close(); }
  } finally { k.done(); }
});
