// reports.list and reports.show over a real report store: unavailable without
// one, a page, the start of the bytes with the truncation said, not-found, and
// an id that is no report id refused before any path is made of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { ReportStore } from '../abuse/index.ts';
import { checkInput, loadOperation, type AppDeps } from './index.ts';
import { reportsList, reportsShow } from './ops/reports.ts';
import { tempDir } from '../../test/lib/tools.ts';

test('reports.list and reports.show', async () => {
  const dir = tempDir('pw-reports-op-');
  const store = await openStore(join(dir.path, 'state.db'));
  try {
    const clock = new ManualClock(Date.parse('2026-12-02T12:00:00Z'));
    const deps = { clock, logger: new MemoryLogger() } as AppDeps;
    const ctx = { actor: { kind: 'operator' as const, name: 't', from: 'cli' } };
    await assert.rejects(reportsList.run({}, ctx, deps), /the abuse mailbox's reports is not available here/);
    const s = await ReportStore.open(store, join(dir.path, 'r'));
    deps.reports = s;
    const id = s.newId(clock.now());
    await s.writeFile(id, [Buffer.from('Return-Path: <>\r\nSubject: x\r\n\r\nbody\r\n')]);
    await s.insert({ id, receivedAt: clock.now(), kind: 'arf', feedbackType: 'abuse', userAgent: null, reportedMessageId: null, source: '198.51.100.7', sourcePort: null,
      sourceFrom: 'Source-IP', at: null, atFrom: 'none', subscriber: null, reporter: '', recipient: 'abuse@x.example', clientIp: '127.0.0.1', subject: 'x', size: 20 });
    assert.equal((await reportsList.run({ limit: 1 }, ctx, deps)).reports[0].id, id);
    const shown = await reportsShow.run({ id, maxBytes: 6 }, ctx, deps);
    assert.deepEqual({ raw: shown.raw, rawSize: shown.rawSize, truncated: shown.truncated, file: shown.file }, { raw: 'Return', rawSize: 37, truncated: true, file: s.fileOf(id) });
    assert.equal((await reportsShow.run({ id }, ctx, deps)).truncated, false);
    await assert.rejects(reportsShow.run({ id: 'r000000000deadbeef' }, ctx, deps), /no report r000000000deadbeef/);
    await assert.rejects(reportsShow.run({ id: '../../../../../etc/x' }, ctx, deps), /not a report id/);
    assert.throws(() => checkInput(reportsShow, { id: 'short' }), /reports\.show: id must not have fewer than 18 characters/);
    assert.equal(await loadOperation('reports.show'), reportsShow);
  } finally {
    await store.close();
    dir.remove();
  }
});
