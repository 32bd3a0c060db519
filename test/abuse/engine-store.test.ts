// The engine's store layer on both stores: SQLite (a temp file) and a private
// PostgreSQL (test/lib/postgres.ts). The same lifecycle, the same answers:
// one open case per subscriber is the store's rule, ids and numbers come back
// as numbers, and a restart continues on either.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rig, runBot, signal, T0 } from '../lib/abuse-engine.ts';
import { storeBackends } from '../lib/backends.ts';

const backends = storeBackends('abuse');

const DAY = 86_400_000;

for (const b of backends) {
  describe(`abuse engine store on ${b.name}`, { skip: b.skip }, () => {
    test('lifecycle: case, coalesced evidence, decision with undo data, edge, release, restart, close', async (t) => {
      const r = await rig({ cfg: await b.config(), closeAfterDays: 2 });
      t.after(() => r.close());
      r.dir.addSubscriber('cust-1');
      r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
      r.dir.assign('cust-1', '2001:db8:1::/56', T0 - DAY);
      const ms = await runBot(r, '198.51.100.7', 30);
      assert.equal(ms, 27_000);
      r.bus.publish('edge.applied', { edge: 'bng1', version: 'v1', revision: r.enforcer.revision });
      await r.engine.flush();
      assert.equal(r.of('case.enforced').length, 1);
      await r.restart();
      const c = await r.engine.cases.openOf('cust-1');
      assert.ok(c);
      assert.equal(typeof c.openedAt, 'number');
      assert.equal(typeof c.score, 'number');
      assert.ok(c.score > 300);
      assert.deepEqual(c.active.map((a) => a.action).sort(), ['notify', 'quarantine']);
      assert.deepEqual(c.recurrences, { bot: 1, notify: 1 });
      const d = await r.engine.cases.show(c.id);
      assert.ok(d);
      const blocked = d.evidence.filter((e) => e.class === 'edge-blocked');
      assert.deepEqual(blocked.map((e) => [e.amount, e.count, e.firstAt, e.lastAt, e.caseId]), [[150, 30, T0, T0 + 29_000, c.id]]);
      assert.deepEqual(d.timeline.map((x) => x.kind), ['opened', 'decision', 'notice', 'decision', 'enforced', 'notice', 'enforced']);
      assert.equal(d.timeline[0].data.previous, undefined);
      r.bus.publish('edge.applied', { edge: 'bng1', version: 'v2', revision: r.enforcer.revision + 1 });
      await r.engine.flush();
      assert.equal(r.of('case.enforced').length, 1, 'the edge was recorded in the store');
      await r.engine.cases.release(c.id, 'desk:ann', 'fixed', 'desk');
      assert.equal(r.enforcer.quarantined.size, 0);
      r.clock.advance(3 * DAY);
      await r.engine.flush();
      assert.deepEqual(r.of('case.closed').map((e) => e.case), [c.id]);
      r.engine.ingest(signal({ class: 'auth-failure', at: r.clock.now(), address: '198.51.100.7' }));
      await r.engine.flush();
      const next = await r.engine.cases.openOf('cust-1');
      assert.ok(next && next.id !== c.id);
      assert.deepEqual((await r.engine.cases.list({ subscriber: 'cust-1' })).map((x) => [x.id, x.state]), [[next.id, 'open'], [c.id, 'closed']]);
      assert.deepEqual((await r.engine.cases.list({ state: 'closed' })).map((x) => x.id), [c.id]);
      assert.deepEqual((await r.engine.cases.list({ after: next.id })).map((x) => x.id), [c.id], 'paging by id');
    });

    test('a batch of hundreds of subscribers is written in chunks and read back whole', async (t) => {
      const r = await rig({ cfg: await b.config() });
      t.after(() => r.close());
      for (let i = 0; i < 300; i++) {
        r.dir.addSubscriber(`s${i}`);
        r.dir.assign(`s${i}`, `198.51.${i >> 8}.${i & 255}`, T0 - DAY);
        r.engine.ingest(signal({ class: 'auth-failure', at: T0, address: `198.51.${i >> 8}.${i & 255}`, detail: { n: i } }));
        r.engine.ingest(signal({ class: 'auth-failure', at: T0, address: `198.51.${i >> 8}.${i & 255}` }));
        r.engine.ingest(signal({ class: 'auth-failure', at: T0 + 1, address: `198.0.2.${i & 255}`, origin: `edge:e${i}` }));
      }
      await r.engine.flush();
      await r.restart();
      const cases = await r.engine.cases.list({ limit: 1000 });
      assert.equal(cases.length, 300);
      assert.ok(cases.every((c) => c.score === 2 && c.lastSignalAt === T0));
      const ev = await r.store.db.all<{ amount: number; count: number; detail: string }>('SELECT amount, count, detail FROM abuse_evidence ORDER BY id');
      assert.equal(ev.length, 300);
      assert.ok(ev.every((e) => e.amount === 2 && e.count === 2));
      assert.deepEqual(JSON.parse(ev[299].detail), { n: 299 });
      assert.equal((await r.engine.unattributed(1000)).length, 300);
    });

    test('one open case per subscriber is enforced by the store itself', async (t) => {
      const r = await rig({ cfg: await b.config() });
      t.after(() => r.close());
      await r.store.db.run("INSERT INTO abuse_cases (subscriber, state, opened_at, score, score_at) VALUES ('x', 'open', 1, 0, 1)");
      await assert.rejects(r.store.db.run("INSERT INTO abuse_cases (subscriber, state, opened_at, score, score_at) VALUES ('x', 'open', 2, 0, 2)"));
      await r.store.db.run("INSERT INTO abuse_cases (subscriber, state, opened_at, score, score_at) VALUES ('x', 'closed', 3, 0, 3)");
    });
  });
}
