import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { BodyDamaged, QUEUE_ID_RE, Spool } from './index.ts';
import { KEEP_MAX } from './writer.ts';
import type { EnvelopeInput } from './index.ts';

const input: EnvelopeInput = {
  mailFrom: { address: 'alice@example.org', ret: 'HDRS', envid: 'env-1', body: '8BITMIME', size: 1234 },
  recipients: [
    { address: 'bob@example.net', notify: ['FAILURE', 'DELAY'], orcpt: 'rfc822;bob@example.net' },
    { address: 'carol@example.net' },
  ],
  account: 'alice',
  client: { ip: '2001:db8::7', port: 51234 },
  attributes: { tls: 'TLSv1.3', auth: 'PLAIN' },
};

async function put(spool: Spool, body: Buffer | string, chunk = 1000): Promise<string> {
  const w = spool.create(input);
  const b = Buffer.from(body);
  for (let i = 0; i < b.length; i += chunk) w.stream.write(b.subarray(i, i + chunk));
  await w.commit();
  return w.id;
}

test('round trip: envelope, large body in many records, reopen', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const clock = new ManualClock();
  let spool = await Spool.open(tmp.path, { clock });
  const body = randomBytes(300_000); // > 4 data records, arbitrary bytes
  const id = await put(spool, body, 7777);
  assert.match(id, QUEUE_ID_RE);
  assert.deepEqual(readdirSync(join(tmp.path, 'active')), [id]);
  assert.deepEqual(readdirSync(join(tmp.path, 'incoming')), []);
  await spool.close();

  spool = await Spool.open(tmp.path, { clock });
  const m = await spool.read(id);
  assert.ok(m);
  assert.equal(m.state, 'active');
  assert.equal(m.bodyLength, body.length);
  assert.equal(m.envelope.id, id);
  assert.equal(m.envelope.receivedAt, clock.now());
  assert.deepEqual(m.envelope.mailFrom, input.mailFrom);
  assert.deepEqual(m.envelope.recipients.map((r) => [r.address, r.state, r.notify, r.orcpt]), [
    ['bob@example.net', 'pending', ['FAILURE', 'DELAY'], 'rfc822;bob@example.net'],
    ['carol@example.net', 'pending', undefined, undefined],
  ]);
  assert.deepEqual(m.envelope.client, input.client);
  assert.deepEqual(m.envelope.attributes, input.attributes);
  assert.ok((await buffer(spool.body(id))).equals(body));
  assert.deepEqual(spool.stats().active, 1);
  await spool.close();
});

test('ids are unique and sort by time', async () => {
  const { newQueueId, QUEUE_ID_RE } = await import('./id.ts');
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) ids.add(newQueueId(1_767_225_600_000));
  assert.equal(ids.size, 2000);
  for (const id of ids) assert.match(id, QUEUE_ID_RE);
  // Every one of the 8 random digits takes (nearly) all 32 values: no stuck bits.
  for (let pos = 10; pos < 18; pos++) {
    const seen = new Set([...ids].map((id) => id[pos]));
    assert.ok(seen.size >= 30, `digit ${pos} took only ${seen.size} values`);
  }
  assert.equal(newQueueId(1_767_225_600_000).slice(0, 10), '01KDVDNA00');
  assert.ok(newQueueId(1_767_225_600_000) < newQueueId(1_767_225_600_001));
});

test('progress records survive reopen; a torn last record is ignored', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const clock = new ManualClock();
  let spool = await Spool.open(tmp.path, { clock });
  const id = await put(spool, 'Subject: x\r\n\r\nhi\r\n');
  await spool.record(id, [{ t: 'rcpt', i: 0, state: 'done', reply: '250 ok', at: clock.now() }]);
  await spool.defer(id, clock.now() + 60_000, '451 try later');
  assert.equal(spool.stateOf(id), 'deferred');
  await spool.close();
  appendFileSync(join(tmp.path, 'deferred', id), Buffer.from([0x53, 0, 0, 0, 40, 1, 2])); // torn S record

  spool = await Spool.open(tmp.path, { clock });
  assert.deepEqual(spool.due(clock.now()), []);
  assert.deepEqual(spool.due(clock.now() + 60_000), [id]);
  const m = await spool.read(id);
  assert.ok(m);
  assert.equal(m.envelope.attempts, 1);
  assert.equal(m.envelope.lastReply, '451 try later');
  assert.deepEqual(m.envelope.recipients.map((r) => r.state), ['done', 'pending']);
  await spool.hold(id, 'all recipients failed');
  assert.equal((await spool.read(id))?.envelope.holdReason, 'all recipients failed');
  assert.deepEqual(spool.stats(), { ...spool.stats(), active: 0, deferred: 0, hold: 1, corrupt: 0 });
  await spool.close();
});

test('a flipped byte or a truncation sends the file to corrupt/, never to delivery', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const log = new MemoryLogger();
  let spool = await Spool.open(tmp.path, { logger: log });
  const good = await put(spool, 'Subject: good\r\n\r\nfine\r\n');
  const flipped = await put(spool, 'Subject: flip\r\n\r\n' + 'y'.repeat(5000));
  const truncated = await put(spool, 'Subject: cut\r\n\r\n' + 'z'.repeat(5000));
  await spool.close();
  const fp = join(tmp.path, 'active', flipped);
  const bytes = readFileSync(fp);
  bytes[bytes.length - 100] ^= 0x01;
  writeFileSync(fp, bytes);
  const tp = join(tmp.path, 'active', truncated);
  truncateSync(tp, readFileSync(tp).length - 3); // END record incomplete
  writeFileSync(join(tmp.path, 'incoming', '0000000000AAAAAAAA'), 'half a message'); // crashed mid-write

  spool = await Spool.open(tmp.path, { logger: log });
  assert.deepEqual(spool.list('active'), [good]);
  assert.deepEqual(spool.list('corrupt'), [flipped, truncated].sort());
  assert.deepEqual(readdirSync(join(tmp.path, 'incoming')), []);
  const reasons = log.records.filter((r) => r.level === 'error').map((r) => r.reason).sort();
  assert.deepEqual(reasons, ['checksum mismatch', 'truncated record']);
  await spool.close();
});

test('body stream errors instead of ending when the file is damaged after open', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const spool = await Spool.open(tmp.path);
  // Larger than KEEP_MAX: no in-memory hand-off, the body comes from the file.
  const id = await put(spool, 'Subject: x\r\n\r\n' + 'q'.repeat(KEEP_MAX + 1000));
  const p = join(tmp.path, 'active', id);
  const bytes = readFileSync(p);
  bytes[200] ^= 0x20;
  writeFileSync(p, bytes);
  let ended = false;
  const s = spool.body(id);
  s.on('end', () => { ended = true; });
  await assert.rejects(buffer(s), BodyDamaged);
  assert.equal(ended, false);
  assert.equal(await spool.read(id), null); // read() quarantines it
  assert.deepEqual(spool.list('corrupt'), [id]);
  await spool.close();
});

test('200 parallel commits: all durable, directory fsyncs shared', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  let spool = await Spool.open(tmp.path);
  const bodies = new Map<string, string>();
  await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const body = `Subject: n${i}\r\n\r\n${'b'.repeat(10_000)}\r\n`;
    const w = spool.create(input);
    bodies.set(w.id, body);
    w.stream.write(body);
    await w.commit();
  }));
  const s = spool.stats();
  assert.equal(s.commits, 200);
  assert.equal(s.fileSyncs, 200);
  assert.ok(s.dirSyncs < 200, `dir fsyncs ${s.dirSyncs} should be shared`);
  t.diagnostic(`fsyncs per message: ${((s.fileSyncs + s.dirSyncs) / 200).toFixed(2)} (dir ${s.dirSyncs})`);
  await spool.close();
  spool = await Spool.open(tmp.path);
  assert.equal(spool.list('active').length, 200);
  for (const id of spool.list('active').slice(0, 20)) assert.equal((await buffer(spool.body(id))).toString(), bodies.get(id));
  await spool.close();
});

test('abort removes the file; commit after abort is refused', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const spool = await Spool.open(tmp.path);
  const w = spool.create(input);
  w.stream.write('partial');
  await w.abort();
  assert.deepEqual(readdirSync(join(tmp.path, 'incoming')), []);
  await assert.rejects(w.commit(), { name: 'SpoolError', kind: 'aborted' });
  assert.equal(spool.stats().active, 0);
  await spool.close();
});

test('waitEmpty resolves when active and deferred drain', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const spool = await Spool.open(tmp.path);
  await spool.waitEmpty();
  const a = await put(spool, 'x');
  const b = await put(spool, 'y');
  await spool.defer(b, 0);
  let drained = false;
  const p = spool.waitEmpty().then(() => { drained = true; });
  await spool.delete(a);
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false);
  await spool.hold(b, 'test');
  await p;
  assert.equal(drained, true);
  await spool.close();
});

test('a just-committed small message is handed to the relay from memory once, then read from disk', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const spool = await Spool.open(tmp.path);
  const text = 'Subject: fresh\r\n\r\n' + 'f'.repeat(5000);
  const id = await put(spool, text);
  const p = join(tmp.path, 'active', id);
  const bytes = readFileSync(p);
  writeFileSync(p, bytes.subarray(0, bytes.length - 10)); // cut the END record on disk: only a disk read can notice
  const first = await spool.read(id);
  assert.equal(first?.bodyLength, Buffer.byteLength(text));
  assert.equal((await buffer(spool.body(id))).toString('latin1'), text, 'the accepted bytes, from memory');
  assert.equal(await spool.read(id), null, 'the second read goes to disk and finds the damage');
  assert.deepEqual(spool.list('corrupt'), [id]);
  await spool.close();
});

test('read() follows a message that moves between states while it is being opened', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const spool = await Spool.open(tmp.path);
  const id = await put(spool, 'Subject: moving\r\n\r\n' + 'm'.repeat(KEEP_MAX + 10)); // on disk only
  const reads: Array<Promise<unknown>> = [];
  for (let i = 0; i < 200; i++) {
    // The read's open is queued in the thread pool; the move renames the file right away.
    reads.push(spool.read(id).catch((err: Error) => err));
    await spool.move(id, i % 2 ? 'active' : 'deferred', Date.now() + 60_000);
  }
  const got = await Promise.all(reads);
  const bad = got.filter((m) => m === null || m instanceof Error || (m as { envelope: { id: string } }).envelope.id !== id);
  assert.equal(bad.length, 0, `${bad.length} of 200 reads lost the message: ${bad.slice(0, 2).map(String).join('; ')}`);
  await spool.close();
});

test('read() checks the structure but leaves the body to body(), which fails on damage before it ends', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const spool = await Spool.open(tmp.path);
  const text = 'Subject: big\r\n\r\n' + 'b'.repeat(KEEP_MAX + 5000); // on disk only
  const id = await put(spool, text);
  const p = join(tmp.path, 'active', id);
  const bytes = readFileSync(p);
  bytes[bytes.length - 5000] ^= 0x20; // late in the body
  writeFileSync(p, bytes);
  const m = await spool.read(id);
  assert.equal(m?.bodyLength, Buffer.byteLength(text), 'length checked against END without reading the body');
  await assert.rejects(buffer(spool.body(id)), BodyDamaged);
  const cut = readFileSync(p).subarray(0, bytes.length - 100_000); // a DATA record now runs past the end of the file
  writeFileSync(p, cut);
  assert.equal(await spool.read(id), null, 'a truncated body is found without reading it');
  assert.deepEqual(spool.list('corrupt'), [id]);
  await spool.close();
});

test('commit with hold: synced straight into hold/ with its reason, the relay is never told, release sends it', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  const clock = new ManualClock();
  const points: string[] = [];
  let spool = await Spool.open(tmp.path, { clock, crashHook: (p) => { points.push(p); } });
  const woken: string[] = [];
  spool.onActive((id) => { woken.push(id); });
  const w = spool.create(input);
  w.stream.write('Subject: held\r\n\r\nbody\r\n');
  const before = spool.stats();
  await w.commit({ hold: 'held: over limit residential/messages-hour' });
  const after = spool.stats();
  assert.deepEqual(points, ['written', 'file-synced', 'renamed', 'dir-synced'], 'the same durability steps as a commit to active/');
  assert.equal(after.fileSyncs - before.fileSyncs, 1);
  assert.equal(after.dirSyncs - before.dirSyncs, 1, 'hold/ itself is fsynced');
  assert.deepEqual(readdirSync(join(tmp.path, 'hold')), [w.id]);
  assert.deepEqual(readdirSync(join(tmp.path, 'active')), []);
  assert.equal(woken.length, 0, 'no active listener (the relay) heard of it');
  assert.equal(spool.stateOf(w.id), 'hold');
  await spool.close();

  spool = await Spool.open(tmp.path, { clock });
  spool.onActive((id) => { woken.push(id); });
  const m = await spool.read(w.id);
  assert.equal(m?.state, 'hold');
  assert.equal(m?.envelope.holdReason, 'held: over limit residential/messages-hour');
  assert.equal((await buffer(spool.body(w.id))).toString(), 'Subject: held\r\n\r\nbody\r\n', 'the body checksum holds with the record after END');
  await spool.release(w.id);
  assert.deepEqual(woken, [w.id]);
  assert.equal((await spool.read(w.id))?.envelope.holdReason, undefined);
  await spool.close();
});
