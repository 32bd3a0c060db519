// The control socket against a real spool and relay, with a capture sink as
// the next hop that first answers 451 (so mail stays queued) and then 250.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { MemoryLogger } from '../core/index.ts';
import { Spool } from '../spool/index.ts';
import { Relay } from '../relay/index.ts';
import { CaptureSink } from '../../test/lib/sink.ts';
import { tempDir, until } from '../../test/lib/tools.ts';
import { controlRequest, createControlServer, controlSocketPath, type ControlResponse, type ControlServer } from './index.ts';

/** One raw exchange: the lines sent, every line answered until the server closes or n answers came. */
function raw(path: string, data: string, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const finish = (): void => { s.destroy(); resolve(buf.split('\n').filter(Boolean)); };
    s.on('data', (d) => { buf += d; if (buf.split('\n').filter(Boolean).length >= n) finish(); });
    s.on('close', finish);
    s.on('error', reject);
    s.write(data);
  });
}

describe('control socket', () => {
  const tmp = tempDir('pw-control-');
  const logger = new MemoryLogger();
  let accept = false;
  const sink = new CaptureSink({ rcptReply: () => (accept ? '250 2.1.5 Ok' : '451 4.3.0 not now') });
  let spool: Spool;
  let relay: Relay;
  let control: ControlServer;
  const path = controlSocketPath(tmp.path);
  const ids: Record<string, string> = {};
  const ask = async (req: Parameters<typeof controlRequest>[1]): Promise<ControlResponse> => {
    const r = await controlRequest(path, req);
    assert.ok(r, 'a server answers');
    return r;
  };

  /** The entry as the server sees it (reading the spool directly would race the relay's renames). */
  const entry = async (id: string) => {
    const r = await ask({ op: 'show', ids: [id] });
    return r.ok && r.op === 'show' ? r.message : null;
  };

  before(async () => {
    const port = await sink.listen();
    spool = await Spool.open(join(tmp.path, 'spool'), { logger });
    // A long first retry: nothing is tried again unless the test asks.
    relay = new Relay({ spool, logger, ehloName: 'msa.test', smarthost: { host: '127.0.0.1', port, tls: 'none' }, retry: { schedule: [3600] }, pollMs: 50 });
    relay.start();
    control = await createControlServer({ spool, relay, logger, path });
    for (const [name, account, from] of [['a1', 'alice', 'alice@isp.example'], ['a2', 'alice', 'a.smith@isp.example'], ['b1', 'bob', 'bob@isp.example']]) {
      const w = spool.create({ mailFrom: { address: from }, recipients: [{ address: 'dave@example.net' }], account });
      w.stream.end(`From: <${from}>\r\nSubject: ${name}\r\nX-Name: ${name}\r\n\r\nbody of ${name}\r\n`);
      await w.commit();
      ids[name] = w.id;
    }
    await until(() => spool.stats().deferred === 3, 'three deferred', 10_000, 20);
  });
  after(async () => {
    await control?.close();
    await relay?.stop();
    await spool?.close();
    await sink.close();
    tmp.remove();
  });

  test('the socket is private to its user, and a second server on it is refused', async () => {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(createControlServer({ spool, relay, logger, path }), /one server per data directory/);
  });

  test('list and show', async () => {
    const r = await ask({ op: 'list' });
    assert.ok(r.ok && r.op === 'list');
    assert.deepEqual(r.messages.map((m) => m.id), [ids.a1, ids.a2, ids.b1]);
    const a2 = r.messages[1];
    assert.equal(a2.state, 'deferred');
    assert.equal(a2.sender, 'a.smith@isp.example');
    assert.equal(a2.account, 'alice');
    assert.equal(a2.attempts, 1);
    assert.deepEqual(a2.recipients, [{ address: 'dave@example.net', state: 'deferred', reply: '451 4.3.0 not now' }]);
    assert.equal(a2.size, Buffer.byteLength('From: <a.smith@isp.example>\r\nSubject: a2\r\nX-Name: a2\r\n\r\nbody of a2\r\n'));
    const s = await ask({ op: 'show', ids: [ids.b1] });
    assert.ok(s.ok && s.op === 'show');
    assert.equal(s.headers, 'From: <bob@isp.example>\r\nSubject: b1\r\nX-Name: b1\r\n');
    const missing = await ask({ op: 'show', ids: ['01KDZZZZZZ00000000'] });
    assert.deepEqual(missing, { ok: false, error: { code: 'not-found', message: 'no such message in the queue' } });
  });

  test('hold by account sticks through a retry; release by sender; requeue resets attempts', async () => {
    const h = await ask({ op: 'hold', account: 'ALICE', reason: 'case 17' });
    assert.ok(h.ok && h.op === 'hold');
    assert.deepEqual(h.result, { done: [ids.a1, ids.a2], skipped: [], missing: [], failed: [] });
    assert.deepEqual(spool.list('hold'), [ids.a1, ids.a2]);
    // flush: every deferred message is tried now; held ones are not.
    const f = await ask({ op: 'flush' });
    assert.deepEqual(f, { ok: true, op: 'flush' });
    await until(async () => (await entry(ids.b1))?.attempts === 2, 'b1 tried twice', 10_000, 20);
    assert.deepEqual(spool.list('hold'), [ids.a1, ids.a2]);
    assert.equal((await entry(ids.a1))?.holdReason, 'held by operator: case 17');
    const again = await ask({ op: 'hold', ids: [ids.a1] });
    assert.ok(again.ok && again.op === 'hold');
    assert.deepEqual(again.result.skipped, [{ id: ids.a1, reason: 'already held' }]);

    const rel = await ask({ op: 'release', sender: '<A.Smith@isp.example>' });
    assert.ok(rel.ok && rel.op === 'release');
    assert.deepEqual(rel.result.done, [ids.a2]);
    await until(async () => { const e = await entry(ids.a2); return e?.attempts === 2 && e.state === 'deferred'; }, 'a2 deferred again', 10_000, 20);

    const rq = await ask({ op: 'requeue', all: true });
    assert.ok(rq.ok && rq.op === 'requeue');
    assert.deepEqual(rq.result.done.sort(), [ids.a2, ids.b1].sort());
    // Tried once more at once, from a fresh schedule: attempts count from zero.
    await until(async () => {
      const [a, b] = await Promise.all([entry(ids.a2), entry(ids.b1)]);
      return a?.attempts === 1 && a.state === 'deferred' && b?.attempts === 1 && b.state === 'deferred';
    }, 'requeued ones tried', 10_000, 20);
  });

  test('delete one, then the next hop accepts and flush delivers the rest', async () => {
    const d = await ask({ op: 'delete', ids: [ids.b1, '01KDZZZZZZ00000000'] });
    assert.ok(d.ok && d.op === 'delete');
    assert.deepEqual(d.result, { done: [ids.b1], skipped: [], missing: ['01KDZZZZZZ00000000'], failed: [] });
    accept = true;
    assert.ok((await ask({ op: 'release', all: true })).ok);
    assert.ok((await ask({ op: 'flush' })).ok);
    const got = await sink.waitFor(2, 10_000);
    assert.deepEqual(got.map((m) => /X-Name: (\w+)/.exec(m.raw.toString())![1]).sort(), ['a1', 'a2']);
    await until(() => spool.stats().active + spool.stats().deferred + spool.stats().hold === 0, 'queue empty', 10_000, 20);
    const st = await ask({ op: 'stats' });
    assert.ok(st.ok && st.op === 'stats');
    assert.equal(st.stats.commits, 3);
    const audit = logger.records.filter((r) => r.event === 'queue').map((r) => r.op);
    assert.deepEqual(audit, ['hold', 'flush', 'hold', 'release', 'requeue', 'delete', 'release', 'flush']);
  });

  test('bad requests get coded errors; answers come in order; an overlong line is refused', async () => {
    const lines = await raw(path, 'nonsense\n{"op":"explode"}\n{"op":"hold"}\n{"op":"hold","ids":["../x"]}\n{"op":"stats","extra":1}\n{"op":"stats"}\n', 6);
    const rs = lines.map((l) => JSON.parse(l) as ControlResponse);
    assert.deepEqual(rs.slice(0, 5).map((r) => (r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`)), [
      'bad-request: not JSON',
      'bad-request: op must be one of list, show, hold, release, delete, flush, requeue, stats, limits, case',
      'bad-request: give queue ids, ALL, --account or --sender',
      'bad-request: not a queue id: "../x"',
      'bad-request: unknown field "extra"',
    ]);
    assert.equal(rs[5].ok && rs[5].op, 'stats');
    const big = await raw(path, `{"op":"list","account":"${'x'.repeat(300_000)}`, 1);
    assert.equal((JSON.parse(big[0]) as ControlResponse).ok, false);
    assert.match(big[0], /too-large/);
  });

  test('no server: the client says so (null), also for a stale socket left by a crash', async () => {
    assert.equal(await controlRequest(join(tmp.path, 'nothing.sock'), { op: 'stats' }), null);
    const stale = join(tmp.path, 'stale.sock');
    writeFileSync(stale, ''); // not a socket: connect fails, like a dead one
    assert.equal(await controlRequest(stale, { op: 'stats' }), null);
  });
});
