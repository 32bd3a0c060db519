import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { needTools, tempDir } from '../../test/lib/tools.ts';
import { AttributionLog, type AttributionEntry } from './index.ts';

function entry(over: Partial<AttributionEntry> = {}): AttributionEntry {
  return {
    queueId: '01KAAAAAAA00000001', messageId: '<m1@isp.example>', account: 'alice', subscriber: 'cust-42',
    clientIp: '100.64.1.2', clientPort: 40001, listener: 'submission', tlsVersion: 'TLSv1.3',
    tlsCipher: 'TLS_AES_256_GCM_SHA384', authMechanism: 'PLAIN', sender: 'alice@isp.example',
    recipientCount: 3, size: 1234, verdicts: { limits: [{ key: 'a:alice', remaining: 97 }], scan: 'clean' }, ...over,
  };
}

async function open(t: { after(fn: () => Promise<void>): void }, clock = new ManualClock(), opts = {}, busyTimeoutMs?: number) {
  const dir = tempDir('pw-acct-');
  const path = join(dir.path, 'state.db');
  const store = await openStore({ kind: 'sqlite', path, busyTimeoutMs });
  const log = await AttributionLog.open(store, { clock, retentionDays: 30, ...opts });
  t.after(async () => { await log.close(); await store.close(); dir.remove(); });
  return { store, log, clock, path };
}

test('a recorded message is found by queue id, Message-ID (with or without brackets) and address', async (t) => {
  const { log, clock } = await open(t);
  const at = clock.now();
  log.record(entry());
  // Not flushed yet: lookups flush first, so the row is there.
  const [r] = (await log.byQueueId('01KAAAAAAA00000001'));
  assert.equal(r.account, 'alice');
  assert.equal(r.subscriber, 'cust-42');
  assert.equal(r.clientIp, '100.64.1.2');
  assert.equal(r.clientPort, 40001);
  assert.equal(r.time, at);
  assert.equal(r.tlsVersion, 'TLSv1.3');
  assert.equal(r.authMechanism, 'PLAIN');
  assert.equal(r.messageId, 'm1@isp.example');
  assert.deepEqual(r.verdicts, { limits: [{ key: 'a:alice', remaining: 97 }], scan: 'clean' });
  assert.equal((await log.byMessageId('<m1@isp.example>'))[0].queueId, r.queueId);
  assert.equal((await log.byMessageId(' m1@isp.example '))[0].queueId, r.queueId);
  assert.equal((await log.byIp('100.64.1.2', at + 60_000)).length, 1);
  assert.equal((await log.byQueueId('NOPE')).length, 0);
});

test('behind CGNAT the source port and the time window pick the one subscriber (RFC 6302)', async (t) => {
  const { log, clock } = await open(t);
  const t0 = clock.now();
  // Three subscribers share one public address; each has its own port block.
  log.record(entry({ queueId: 'Q1', account: 'alice', clientIp: '198.51.100.7', clientPort: 1024, time: t0 }));
  log.record(entry({ queueId: 'Q2', account: 'bob', clientIp: '198.51.100.7', clientPort: 2048, time: t0 + 5_000 }));
  log.record(entry({ queueId: 'Q3', account: 'carol', clientIp: '198.51.100.7', clientPort: 3072, time: t0 + 3_600_000 }));
  log.record(entry({ queueId: 'Q4', account: 'dave', clientIp: '198.51.100.8', clientPort: 2048, time: t0 + 5_000 }));
  assert.deepEqual((await log.byIp('198.51.100.7', t0 + 5_000, { port: 2048 })).map((r) => r.account), ['bob']);
  // Without the port: both within ten minutes, closest first; carol is an hour away.
  assert.deepEqual((await log.byIp('198.51.100.7', t0 + 4_000)).map((r) => r.account), ['bob', 'alice']);
  assert.deepEqual((await log.byIp('198.51.100.7', t0 + 3_600_000, { windowMs: 1000 })).map((r) => r.account), ['carol']);
  assert.deepEqual((await log.byIp('198.51.100.7', t0 + 20 * 60_000)).map((r) => r.account), []);
});

test('addresses are stored canonically, so any spelling of the address finds the row (RFC 5952)', async (t) => {
  const { log, clock } = await open(t);
  log.record(entry({ queueId: 'V6', clientIp: '2001:DB8:0:0:0:0:0:1', clientPort: 587 }));
  log.record(entry({ queueId: 'MAPPED', clientIp: '::ffff:203.0.113.9' }));
  assert.equal((await log.byIp('2001:db8::1', clock.now()))[0].queueId, 'V6');
  assert.equal((await log.byIp('[2001:0db8::0001]', clock.now()))[0].clientIp, '2001:db8::1');
  assert.equal((await log.byIp('203.0.113.9', clock.now()))[0].queueId, 'MAPPED');
});

test('prune removes rows older than the retention and keeps the rest', async (t) => {
  const { log, clock } = await open(t);
  log.record(entry({ queueId: 'OLD' }));
  clock.advance(20 * 86_400_000);
  log.record(entry({ queueId: 'NEW' }));
  clock.advance(11 * 86_400_000); // OLD is 31 days old, NEW 11
  assert.equal((await log.prune()), 1);
  assert.equal((await log.byQueueId('OLD')).length, 0);
  assert.equal((await log.byQueueId('NEW')).length, 1);
  assert.equal((await log.prune()), 0);
});

test('rows are batched per tick and flushed on close; another reader (sqlite3) sees them', async (t) => {
  const skip = needTools('sqlite3');
  const { log, store, path } = await open(t);
  for (let i = 0; i < 10; i++) log.record(entry({ queueId: `B${i}` }));
  const count = async () => Number((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM attribution'))!.n);
  assert.equal(await count(), 0, 'written in the next tick, not inline');
  await new Promise((r) => setImmediate(r));
  assert.equal(await count(), 10, 'one tick later all ten are in');
  log.record(entry({ queueId: 'LAST', messageId: null }));
  await log.close();
  assert.equal(await count(), 11);
  assert.throws(() => log.record(entry()), /closed/);
  if (skip) { t.diagnostic(skip); return; }
  const out = execFileSync('sqlite3', [path, "SELECT account, client_ip, client_port, message_id IS NULL FROM attribution WHERE queue_id = 'LAST'"], { encoding: 'utf8' });
  assert.equal(out.trim(), 'alice|100.64.1.2|40001|1');
});

test('a failed write keeps the rows queued and logs; the next flush writes them', async (t) => {
  const logger = new MemoryLogger();
  const { log, path } = await open(t, new ManualClock(), { logger }, 0);
  // Another connection holds the write lock: our transaction cannot begin.
  const { DatabaseSync } = await import('node:sqlite');
  const other = new DatabaseSync(path);
  other.exec('PRAGMA busy_timeout = 0');
  other.exec('BEGIN IMMEDIATE');
  log.record(entry({ queueId: 'HELD' }));
  await new Promise((r) => setImmediate(r));
  assert.ok(logger.records.some((r) => r.level === 'error' && r.msg === 'attribution write failed'));
  other.exec('COMMIT');
  other.close();
  assert.equal((await log.byQueueId('HELD')).length, 1);
});

test('insert rate on the hot path (prepared statement, one transaction per tick)', async (t) => {
  const { log, store } = await open(t);
  const n = 20_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    log.record(entry({ queueId: `P${i}`, messageId: `<${i}@isp.example>`, clientPort: 1024 + (i % 60000) }));
    // The submission server records from many sessions between I/O turns; model ~100 per turn.
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await log.flush();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const rows = Number((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM attribution'))!.n);
  assert.equal(rows, n);
  t.diagnostic(`${Math.round(n / secs)} attribution rows/s (batches of 100)`);
});
