// The report store on both state stores (SQLite, and a private PostgreSQL from
// test/lib/postgres.ts): rows page newest first and filter, prune removes rows
// and files by age, ids cannot name a path; the DNSBL checker's listings state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../../core/index.ts';
import { openStore, type StoreConfig } from '../../store/index.ts';
import { ReportStore, type ReportRow } from './store.ts';
import { dnsblStateStore } from '../dnsbl.ts';
import { currentPrefixes, openDirectory } from '../../directory/index.ts';
import { postgresBin, startPostgres, type TestPostgres } from '../../../test/lib/postgres.ts';
import { tempDir } from '../../../test/lib/tools.ts';

const found = postgresBin();
let server: TestPostgres | null = null;
before(async () => { if (!('skip' in found)) server = await startPostgres(); });
after(async () => { await server?.stop(); });

const T = (iso: string): number => Date.parse(iso);
const row = (id: string, receivedAt: number, i: number): ReportRow => ({
  id, receivedAt, kind: 'plain', feedbackType: null, userAgent: null, reportedMessageId: null, source: i % 2 ? '192.0.2.1' : null, sourcePort: i % 2 ? 40000 + i : null,
  sourceFrom: i % 2 ? 'Received' : 'none', at: i % 2 ? receivedAt - 60_000 : null, atFrom: i % 2 ? 'Received' : 'none', subscriber: i === 3 ? 'cust-3' : null,
  reporter: '', recipient: 'abuse@x.example', clientIp: '::1', subject: `n° ${i}`, size: 12,
});

for (const b of [{ name: 'sqlite', skip: false as string | false }, { name: 'postgres', skip: 'skip' in found ? found.skip : false }]) {
  describe(`report store on ${b.name}`, { skip: b.skip }, () => {
    test('paging newest first, filters, prune by age removes rows and files', async () => {
      const dir = tempDir('pw-reports-');
      const cfg: StoreConfig = b.name === 'sqlite' ? { kind: 'sqlite', path: join(dir.path, 'state.db') } : { kind: 'postgres', url: await server!.createDatabase('pw_reports') };
      const store = await openStore(cfg);
      try {
        const s = await ReportStore.open(store, join(dir.path, 'r'));
        const clock = new ManualClock(T('2026-01-01T00:00:00Z'));
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          clock.advance(1000);
          const id = s.newId(clock.now());
          ids.push(id);
          await s.writeFile(id, [Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`)]);
          await s.insert(row(id, clock.now(), i));
        }
        assert.deepEqual(await s.get(ids[3]), row(ids[3], T('2026-01-01T00:00:04Z'), 3), 'every field back as written');
        const p1 = await s.list({ limit: 2 });
        assert.deepEqual(p1.reports.map((r) => r.id), [ids[4], ids[3]]);
        const p2 = await s.list({ limit: 2, after: p1.next });
        assert.deepEqual(p2.reports.map((r) => r.id), [ids[2], ids[1]]);
        assert.equal((await s.list({ limit: 2, after: p2.next })).next, undefined);
        assert.deepEqual((await s.list({ source: '192.0.2.1' })).reports.map((r) => r.id), [ids[3], ids[1]]);
        assert.deepEqual((await s.list({ subscriber: 'cust-3' })).reports.map((r) => r.id), [ids[3]]);
        assert.deepEqual((await s.list({ since: T('2026-01-01T00:00:02Z'), until: T('2026-01-01T00:00:04Z') })).reports.map((r) => r.id), [ids[2], ids[1]]);

        assert.equal(await s.prune(T('2026-01-01T00:00:03Z')), 2);
        assert.deepEqual((await s.list()).reports.map((r) => r.id), [ids[4], ids[3], ids[2]]);
        assert.equal(existsSync(s.fileOf(ids[0])), false);
        assert.equal(existsSync(s.fileOf(ids[2])), true);
        assert.deepEqual(await s.unindexed(), []);
        assert.throws(() => s.fileOf('../../etc/passwd'), RangeError);
      } finally {
        await store.close();
        dir.remove();
      }
    });

    test('the DNSBL listings state: set, update, list, clear; the directory\'s prefixes held now', async () => {
      const dir = tempDir('pw-dnsbl-state-');
      const cfg: StoreConfig = b.name === 'sqlite' ? { kind: 'sqlite', path: join(dir.path, 'state.db') } : { kind: 'postgres', url: await server!.createDatabase('pw_dnsbl_state') };
      const store = await openStore(cfg);
      try {
        const st = await dnsblStateStore(store);
        await st.set('z', '192.0.2.1', { answer: '127.0.0.2', since: 1 });
        await st.set('z', '192.0.2.1', { answer: '127.0.0.4', since: 2 });
        await st.set('y', '2001:db8::', { answer: '127.0.0.3', since: 3 });
        assert.deepEqual((await st.listed()).sort((a, c) => a.zone.localeCompare(c.zone)), [{ zone: 'y', address: '2001:db8::' }, { zone: 'z', address: '192.0.2.1' }]);
        assert.deepEqual((await store.db.all<{ answer: string; since: number | string }>('SELECT answer, since FROM abuse_dnsbl_listings WHERE zone = ?', ['z'])).map((r) => [r.answer, Number(r.since)]), [['127.0.0.4', 1]]);
        // The "Am I blocked?" lookup: the standing listings of the addresses asked, each zone's with its answer and since.
        assert.deepEqual(await st.of(['192.0.2.1', '2001:db8::', '192.0.2.9']), [
          { zone: 'y', address: '2001:db8::', answer: '127.0.0.3', since: 3 }, { zone: 'z', address: '192.0.2.1', answer: '127.0.0.4', since: 1 }]);
        assert.deepEqual(await st.of([]), []);
        await st.set('z', '192.0.2.1', null);
        assert.deepEqual(await st.listed(), [{ zone: 'y', address: '2001:db8::' }]);
        assert.deepEqual(await st.of(['192.0.2.1']), []);
        // The directory's prefixes held now (what the checker asks about): ended ones left out, each once.
        const d = await openDirectory(store, { clock: { now: () => 10_000 }, logger: new MemoryLogger(), syncMs: 0 });
        await d.putSubscriber({ id: 's1' });
        await d.assign({ subscriber: 's1', prefix: '198.51.100.9', start: 1000, source: 'static' });
        await d.assign({ subscriber: 's1', prefix: '2001:db8:1::/56', start: 1000, source: 'radius', session: 'a' });
        await d.assign({ subscriber: 's1', prefix: '100.64.0.7', portLo: 1024, portHi: 2047, start: 1000, source: 'radius', session: 'b' });
        await d.assign({ subscriber: 's1', prefix: '100.64.0.7', portLo: 2048, portHi: 3071, start: 1000, source: 'radius', session: 'c' });
        await d.assign({ subscriber: 's1', prefix: '192.0.2.1', start: 1000, source: 'radius', session: 'd' });
        await d.end({ source: 'radius', session: 'd' }, 5000);
        assert.deepEqual(await currentPrefixes(store.db), ['100.64.0.7', '198.51.100.9', '2001:db8:1::/56']);
        await d.close();
      } finally {
        await store.close();
        dir.remove();
      }
    });
  });
}
