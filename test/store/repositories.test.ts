// One repository suite, run against both stores: SQLite (a file in a temp dir) and a
// private PostgreSQL (test/lib/postgres.ts; each test gets its own database). The same
// cases, the same expected answers: what a part sees must not depend on the store.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/index.ts';
import { openStore, type Store, type StoreConfig, type DbMigration } from '../../src/store/index.ts';
import { AccountStore, KnownPrefixTable } from '../../src/auth/index.ts';
import { AttributionLog } from '../../src/accountability/index.ts';
import { PolicyStore } from '../../src/netpolicy/index.ts';
import { tempDir } from '../lib/tools.ts';
import { storeBackends, type StoreBackend } from '../lib/backends.ts';

type Backend = StoreBackend;
const backends = storeBackends('repo');
const by = { actor: 'alice', reason: 'ticket 7' };

async function opened(b: Backend, t: { after(fn: () => Promise<void>): void }): Promise<{ store: Store; cfg: StoreConfig }> {
  const cfg = await b.config();
  const store = await openStore(cfg);
  t.after(() => store.close());
  return { store, cfg };
}

for (const b of backends) {
  describe(`repositories on ${b.name}`, { skip: b.skip }, () => {
    test('accounts: add, get, list pages, addresses, disable/enable, credentials, remove', async (t) => {
      const { store } = await opened(b, t);
      const clock = new ManualClock(1_700_000_000_000);
      const a = await AccountStore.open(store, { clock });
      const alice = await a.add({ login: 'Alice@isp.example', password: 'pw', subscriber: 'cust-1', addresses: ['sales@shop.example', '@owner.example'] });
      assert.equal(typeof alice.id, 'number', 'ids are numbers (BIGINT parsed)');
      assert.deepEqual([alice.login, alice.subscriber, alice.addresses, alice.createdAt], ['alice@isp.example', 'cust-1', ['@owner.example', 'sales@shop.example'], clock.now()]);
      for (const l of ['bob', 'carol', 'dave', 'erin']) await a.add({ login: `${l}@isp.example`, hash: '$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda', subscriber: l === 'bob' ? 'cust-1' : 'cust-2' });
      await assert.rejects(a.add({ login: 'ALICE@isp.example', password: 'x' }), (e: { code?: string }) => e.code === 'exists');
      const page1 = await a.list({ limit: 2 });
      const page2 = await a.list({ limit: 2, after: page1.at(-1)!.login });
      assert.deepEqual([...page1, ...page2].map((x) => x.login), ['alice@isp.example', 'bob@isp.example', 'carol@isp.example', 'dave@isp.example']);
      assert.deepEqual((await a.list({ subscriber: 'cust-1' })).map((x) => x.login), ['alice@isp.example', 'bob@isp.example']);
      assert.equal(await a.mayUseAddress('alice@isp.example', 'SALES@shop.example'), true);
      assert.equal(await a.mayUseAddress('alice@isp.example', 'anyone@owner.example'), true);
      assert.equal(await a.mayUseAddress('alice@isp.example', 'other@shop.example'), false);
      await a.addAddress('bob@isp.example', 'b@x.example');
      await a.addAddress('bob@isp.example', 'b@x.example'); // twice: no error, one row
      assert.deepEqual((await a.get('bob@isp.example'))!.addresses, ['b@x.example']);
      assert.equal(await a.removeAddress('bob@isp.example', 'B@x.example'), true);
      await a.disable('carol@isp.example', 'spam, case 42');
      assert.deepEqual((await a.list({ status: 'disabled' })).map((x) => [x.login, x.disabledReason]), [['carol@isp.example', 'spam, case 42']]);
      await a.enable('carol@isp.example');
      assert.equal((await a.get('carol@isp.example'))!.status, 'active');
      await assert.rejects(a.disable('nobody', 'x'), (e: { code?: string }) => e.code === 'not-found');
      clock.advance(5000);
      assert.equal(await a.updateCredentials('dave@isp.example', { hash: '$2y$05$DLEDxwAkFKinFOScP6zaYet4TwiNHwhoTocp0m0vHWk/Naie5AKp2', scram: { salt: 'c2FsdA==', iterations: 4096, storedKey: 'aw==', serverKey: 'c2s=' } }), true);
      const rec = (await a.authRecord('dave@isp.example'))!;
      assert.deepEqual([rec.hash.slice(0, 7), rec.scram?.iterations], ['$2y$05$', 4096]);
      assert.equal((await a.get('dave@isp.example'))!.updatedAt, clock.now());
      assert.equal(await a.updateCredentials('nobody@isp.example', { hash: 'x' }), false);
      assert.equal(await a.remove('alice@isp.example'), true);
      assert.equal(await a.remove('alice@isp.example'), false);
      assert.equal(Number((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM account_addresses'))!.n), 0, 'addresses go with the account');
    });

    test('known prefixes: has/add, expiry, at most 16 per login', async (t) => {
      const { store } = await opened(b, t);
      const clock = new ManualClock();
      const k = await KnownPrefixTable.open(store, { clock });
      await k.add('alice', '192.0.2.0/24', 1000);
      assert.equal(await k.has('alice', '192.0.2.0/24', 1000), true);
      assert.equal(await k.has('bob', '192.0.2.0/24', 1000), false);
      clock.advance(1000);
      assert.equal(await k.has('alice', '192.0.2.0/24', 1000), false);
      for (let i = 0; i < 20; i++) { clock.advance(1); await k.add('carol', `2001:db8:${i}::/64`, 100_000); }
      assert.equal(Number((await store.db.get<{ n: number }>("SELECT count(*) AS n FROM auth_known_prefixes WHERE login = 'carol'"))!.n), 16);
      assert.equal(await k.has('carol', '2001:db8:19::/64', 100_000), true);
      assert.equal(await k.has('carol', '2001:db8:0::/64', 100_000), false);
    });

    test('attribution: record, flush, by queue id, Message-ID, address and port; prune', async (t) => {
      const { store } = await opened(b, t);
      const clock = new ManualClock(1_700_000_000_000);
      const log = await AttributionLog.open(store, { clock, retentionDays: 30 });
      t.after(() => log.close());
      const base = { account: 'alice', recipientCount: 2, size: 900, verdicts: { scan: 'clean' } };
      for (let i = 0; i < 120; i++) log.record({ ...base, queueId: `Q${i}`, messageId: `<m${i}@isp.example>`, clientIp: '100.64.0.1', clientPort: 1000 + i, time: clock.now() + i });
      assert.equal(await log.flush(), 120, 'one batch (several multi-row statements)');
      assert.equal(await log.flush(), 0);
      const [r] = await log.byQueueId('Q7');
      assert.deepEqual([r.messageId, r.clientPort, r.time, r.verdicts, typeof r.id], ['m7@isp.example', 1007, clock.now() + 7, { scan: 'clean' }, 'number']);
      assert.equal((await log.byMessageId('<m8@isp.example>'))[0].queueId, 'Q8');
      assert.deepEqual((await log.byIp('100.64.0.1', clock.now() + 50, { port: 1050 })).map((x) => x.queueId), ['Q50']);
      assert.deepEqual((await log.byIp('100.64.0.1', clock.now() + 50, { limit: 3 })).map((x) => x.queueId), ['Q50', 'Q49', 'Q51']);
      log.record({ ...base, queueId: 'LATE', clientIp: '2001:DB8::1' });
      assert.equal((await log.byIp('2001:db8::1', clock.now())).length, 1, 'a lookup flushes first; addresses canonical');
      clock.advance(31 * 86_400_000);
      log.record({ ...base, queueId: 'NEW', clientIp: '192.0.2.1' });
      assert.equal(await log.prune(), 121);
      assert.deepEqual((await log.byIp('192.0.2.1', clock.now())).map((x) => x.queueId), ['NEW']);
    });

    test('policy: pools, relays, exemptions, quarantine, garden, settings; audit, revision, snapshot', async (t) => {
      const { store } = await opened(b, t);
      const clock = new ManualClock(1_700_000_000_000);
      const p = await PolicyStore.open(store, clock);
      const r0 = await p.revision();
      assert.ok((await p.addPool('198.51.100.0/24', 'dynamic', 'dhcp', by)).ok);
      assert.equal((await p.addPool('198.51.100.128/25', 'business', '', by)).ok, false, 'overlap of another class');
      assert.ok((await p.addPool('198.51.100.0/24', 'dynamic', 'dhcp again', by)).ok, 'upsert');
      assert.ok((await p.addRelay('192.0.2.25', 'provider', '', 'mx', by)).ok);
      const ex = await p.addExemption('198.51.100.7', 'c-7', clock.now() + 1000, by);
      assert.ok(ex.ok && typeof ex.value === 'number');
      assert.ok((await p.quarantine('198.51.100.66', 's-66', 'case-1', { actor: 'abuse', reason: 'bot' })).ok);
      assert.ok((await p.addGarden('192.0.2.25', 'tcp', '80,443', 'portal', by)).ok);
      assert.ok((await p.addGarden('192.0.2.25', 'tcp', '80,443', 'portal v2', by)).ok, 'upsert on (prefix, proto, ports)');
      assert.ok((await p.setSettings({ action: 'drop' }, by)).ok);
      assert.ok((await p.setSettings({ relay25: false }, by)).ok);
      assert.equal(await p.revision(), r0 + 9, 'each accepted change bumps the revision');
      const snap = await p.snapshot();
      assert.deepEqual(snap.pools, [{ prefix: '198.51.100.0/24', class: 'dynamic', note: 'dhcp again' }]);
      assert.deepEqual(snap.garden.map((g) => g.note), ['portal v2']);
      assert.deepEqual([snap.settings.action, snap.settings.relay25], ['drop', false]);
      assert.deepEqual(snap.exemptions.map((e) => [e.prefix, e.grantedBy, e.expiresAt]), [['198.51.100.7', 'alice', clock.now() + 1000]]);
      const keys = await p.partKeys();
      clock.advance(1000);
      assert.notEqual((await p.partKeys()).exemptions, keys.exemptions, 'an expiry moves the exemptions key');
      assert.deepEqual(await p.listExemptions(), []);
      assert.equal((await p.listExemptions(true)).length, 1);
      const audit = await p.audit(3);
      assert.deepEqual(audit.map((x) => x.action), ['settings.set', 'settings.set', 'garden.add']);
      assert.ok((await p.release('198.51.100.66', by)).ok);
      assert.equal((await p.release('198.51.100.66', by)).ok, false, 'nothing to release: refused, not audited');
      assert.equal((await p.audit()).length, 10);
    });

    test('policy: blocked counters keep the largest of duplicates, edge reports, applied versions, prune', async (t) => {
      const { store } = await opened(b, t);
      const clock = new ManualClock(1_700_000_000_000);
      const p = await PolicyStore.open(store, clock);
      await p.recordBlocked('e1', [{ source: '198.51.100.5', packets: 3, destinations: 9 }, { source: '198.51.100.5', packets: 7, destinations: 2 }, { source: '198.51.100.6', packets: 1, destinations: 1 }]);
      assert.deepEqual((await p.blocked()).map((x) => [x.source, x.packets, x.destinations]), [['198.51.100.5', 7, 9], ['198.51.100.6', 1, 1]]);
      clock.advance(10);
      await p.recordEdgeReport('e2', { version: 'ab', omitted: 3, rejected: { version: 'cd', error: 'bad set', at: 5 }, applied: { version: 'ab', sets: { dynamic4: ['198.51.100.0/24'] } },
        blocked: [{ source: '203.0.113.1', packets: 2, destinations: 2 }], pruneBefore: clock.now() - 5 });
      assert.deepEqual((await p.blocked()).map((x) => x.edge), ['e2'], "e1's counters were older than pruneBefore");
      assert.deepEqual((await p.lastApplied('e2'))?.sets, { dynamic4: ['198.51.100.0/24'] });
      const [st] = await p.edges();
      assert.deepEqual([st.edge, st.version, st.omitted, st.rejected], ['e2', 'ab', 3, { version: 'cd', error: 'bad set', at: 5 }]);
      await p.recordReport('e2', { version: 'ef', omitted: 0 });
      assert.equal((await p.edges())[0].rejected, null, 'a report without a refusal clears the one before');
      assert.equal(await p.pruneBlocked(clock.now() + 1), 1);
    });

    test('migrations: applied once per id, in order; a store reopened skips them; ledger per dialect', async (t) => {
      const { store, cfg } = await opened(b, t);
      const m: DbMigration[] = [
        { id: 't/001', sqlite: 'CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)', postgres: 'CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)' },
        { id: 't/002', sqlite: '', postgres: '', run: async (tx) => { await tx.run("INSERT INTO t (k, v) VALUES ('seed', 1)"); } },
      ];
      await Promise.all([store.migrate(m), store.migrate(m)]);
      await store.migrate(m);
      const again = await openStore(cfg);
      try {
        await again.migrate(m);
        await AccountStore.open(again);
        await AccountStore.open(again);
      } finally { await again.close(); }
      assert.deepEqual((await store.db.all('SELECT k, v FROM t')).map((r) => ({ ...r })), [{ k: 'seed', v: 1 }]);
      const ids = (await store.db.all<{ id: string }>("SELECT id FROM schema_migrations WHERE id LIKE 't/%' OR id LIKE 'auth/%' ORDER BY id")).map((r) => r.id);
      assert.deepEqual(ids, ['auth/001-accounts', 'auth/002-known-prefixes', 't/001', 't/002']);
    });

    test('transactions commit together or roll back together; nested transaction() runs inside', async (t) => {
      const { store } = await opened(b, t);
      await store.migrate([{ id: 'tx/001', sqlite: 'CREATE TABLE n (v BIGINT)', postgres: 'CREATE TABLE n (v BIGINT)' }]);
      await assert.rejects(store.transaction(async (tx) => {
        await tx.run('INSERT INTO n (v) VALUES (?)', [1]);
        await tx.transaction(async (inner) => { await inner.run('INSERT INTO n (v) VALUES (?)', [2]); });
        throw new Error('boom');
      }), /boom/);
      assert.deepEqual(await store.db.all('SELECT v FROM n'), []);
      const out = await store.transaction(async (tx) => {
        await tx.run('INSERT INTO n (v) VALUES (?)', [3]);
        await tx.transaction(async (inner) => { await inner.run('INSERT INTO n (v) VALUES (?)', [4]); });
        return (await tx.all<{ v: number }>('SELECT v FROM n ORDER BY v')).map((r) => r.v);
      });
      assert.deepEqual(out, [3, 4]);
      await assert.rejects(store.db.run('INSERT INTO nowhere VALUES (1)'), 'a failing statement rejects');
      assert.equal((await store.db.run('DELETE FROM n WHERE v = ?', [3])).changes, 1);
    });
  });
}

describe('SQLite transaction serialisation', () => {
  test("while one transaction's fn awaits, other callers' statements and transactions wait for its end", async (t) => {
    const d = tempDir('pw-serial-');
    t.after(() => d.remove());
    const store = await openStore(join(d.path, 'state.db'));
    t.after(() => store.close());
    await store.migrate([{ id: 's/001', sqlite: 'CREATE TABLE n (v INTEGER)', postgres: '' }]);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const a = store.transaction(async (tx) => {
      await tx.run('INSERT INTO n VALUES (1)');
      order.push('a: first insert');
      await gate; // other callers get the event loop here
      await tx.run('INSERT INTO n VALUES (2)');
      order.push('a: commit');
    });
    const seen = store.db.get<{ n: number }>('SELECT count(*) AS n FROM n').then((r) => { order.push(`outside read sees ${r!.n}`); });
    const c = store.transaction(async (tx) => { await tx.run('INSERT INTO n VALUES (3)'); order.push('c: insert'); });
    const failed = store.transaction(async (tx) => { await tx.run('INSERT INTO n VALUES (4)'); throw new Error('rolled back'); }).catch(() => order.push('d: rolled back'));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(order, ['a: first insert'], 'nothing else ran while a was open');
    release();
    await Promise.all([a, seen, c, failed]);
    assert.deepEqual(order, ['a: first insert', 'a: commit', 'outside read sees 2', 'c: insert', 'd: rolled back']);
    assert.deepEqual((await store.db.all<{ v: number }>('SELECT v FROM n ORDER BY v')).map((r) => r.v), [1, 2, 3]);
  });

  test("a repository called inside another's transaction through the outer handle joins it instead of deadlocking", async (t) => {
    const store = await openStore(':memory:');
    t.after(() => store.close());
    const p = await PolicyStore.open(store, new ManualClock());
    await assert.rejects(store.transaction(async () => {
      assert.ok((await p.addPool('198.51.100.0/24', 'dynamic', '', by)).ok);
      throw new Error('undo');
    }), /undo/);
    assert.deepEqual(await p.listPools(), [], 'rolled back with the outer transaction');
  });
});

describe('two nodes on one PostgreSQL database', { skip: backends[1].skip }, () => {
  test("each sees the other's accounts, policy and audit; migrating at once applies each migration once", async (t) => {
    const cfg = await backends[1].config();
    const url = cfg.kind === 'postgres' ? cfg.url : '';
    const [a, bnode] = await Promise.all([openStore({ kind: 'postgres', url }), openStore({ kind: 'postgres', url, poolSize: 2 })]);
    t.after(async () => { await a.close(); await bnode.close(); });
    const clock = new ManualClock(1_700_000_000_000);
    const [accA, accB] = await Promise.all([AccountStore.open(a), AccountStore.open(bnode)]);
    const [polA, polB] = await Promise.all([PolicyStore.open(a, clock), PolicyStore.open(bnode, clock)]);
    await accA.add({ login: 'alice@isp.example', password: 'pencil', addresses: ['sales@shop.example'] });
    assert.equal((await accB.get('alice@isp.example'))?.login, 'alice@isp.example');
    assert.equal(await accB.mayUseAddress('alice@isp.example', 'sales@shop.example'), true);
    await accB.disable('alice@isp.example', 'case 9');
    assert.equal((await accA.authRecord('alice@isp.example'))?.status, 'disabled');
    assert.ok((await polA.quarantine('198.51.100.66', 's', 'case-9', { actor: 'abuse', reason: 'bot' })).ok);
    assert.deepEqual((await polB.listQuarantines()).map((q) => q.prefix), ['198.51.100.66']);
    assert.deepEqual((await polB.audit()).map((x) => [x.actor, x.action]), [['abuse', 'quarantine.add']]);
    const ledger = await a.db.all<{ id: string; n: number }>('SELECT id, count(*) AS n FROM schema_migrations GROUP BY id ORDER BY id');
    assert.ok(ledger.length >= 5 && ledger.every((r) => r.n === 1), JSON.stringify(ledger));
  });
});
