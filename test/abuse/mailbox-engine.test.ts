// An ARF-less plain complaint about a CGNAT address at a past time, delivered
// with swaks to the abuse mailbox, reaches the real abuse engine through the
// real subscriber directory: the case is opened for whoever held the address
// then, not for its holder now, with the report as evidence (origin
// mailbox:ID). The engine's store, the directory and the reports share one
// SQLite file, as on a node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../../src/core/index.ts';
import { InProcessBus } from '../../src/events/index.ts';
import { openStore } from '../../src/store/index.ts';
import { openDirectory } from '../../src/directory/index.ts';
import { ABUSE_MIGRATIONS, DEFAULT_RULES, DEFAULT_WEIGHTS, ReportStore, openAbuseEngine, startMailbox } from '../../src/abuse/index.ts';
import { RecordingEnforcer } from '../lib/abuse-fakes.ts';
import { PLAIN, own } from '../lib/abuse-reports.ts';
import { run } from '../lib/portwarden.ts';
import { needTools, tempDir } from '../lib/tools.ts';

const T = (iso: string): number => Date.parse(iso);

test('a complaint about 100.64.1.2 at 07:00 opens a case for who held it at 07:00', { skip: needTools('swaks') }, async () => {
  const dir = tempDir('pw-mb-engine-');
  const store = await openStore(join(dir.path, 'state.db'));
  const clock = new ManualClock(T('2026-12-02T12:00:00Z'));
  const logger = new MemoryLogger();
  const bus = new InProcessBus({ logger });
  const directory = await openDirectory(store, { clock, logger, bus, syncMs: 0 });
  await directory.putSubscriber({ id: 'cust-then' });
  await directory.putSubscriber({ id: 'cust-now' });
  await directory.assign({ subscriber: 'cust-then', prefix: '100.64.1.2', start: T('2026-12-02T06:00:00Z'), end: T('2026-12-02T08:00:00Z'), source: 'radius', session: 'a' });
  await directory.assign({ subscriber: 'cust-now', prefix: '100.64.1.2', start: T('2026-12-02T08:00:00Z'), source: 'radius', session: 'b' });
  await store.migrate(ABUSE_MIGRATIONS);
  const engine = await openAbuseEngine({
    db: store.db, clock, logger, bus, directory, enforcer: new RecordingEnforcer(), rules: DEFAULT_RULES, weights: DEFAULT_WEIGHTS,
    halfLifeMinutes: 360, closeAfterDays: 14, queueSize: 1000,
  });
  const reports = await ReportStore.open(store, join(dir.path, 'reports'));
  const mb = await startMailbox({ hostname: 'mx.provider.example', domains: ['provider.example'], maxReportBytes: 1 << 20, host: '127.0.0.1', port: 0 },
    { store: reports, isOwn: own, holders: directory, sink: engine, bus, logger, clock });
  try {
    const file = join(dir.path, 'plain.eml');
    writeFileSync(file, PLAIN);
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(mb.port), '--from', 'someone@else.example', '--to', 'abuse@provider.example', '--data', file]);
    const id = /<- +250 2\.0\.0 Ok: report (r[0-9a-z]{17}) stored/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    await engine.flush();
    const then = await engine.cases.openOf('cust-then');
    assert.ok(then, 'a case for the subscriber who held the address at 07:00');
    assert.equal(await engine.cases.openOf('cust-now'), null, 'none for its holder now');
    const shown = await engine.cases.show(then.id);
    const ev = shown!.evidence.find((e) => e.class === 'report');
    assert.ok(ev, JSON.stringify(shown!.evidence));
    assert.equal(ev.origin, `mailbox:${id}`);
    assert.equal(ev.address, '100.64.1.2');
    assert.equal(ev.firstAt, T('2026-12-02T07:00:00Z'));
  } finally {
    await mb.close();
    await engine.stop();
    await directory.close();
    await store.close();
    dir.remove();
  }
});
