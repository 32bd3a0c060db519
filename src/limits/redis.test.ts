import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { needTools } from '../../test/lib/tools.ts';
import { MemoryLimitStore, RedisLimitStore, createBruteForce, type LimitKey, type Decision } from './index.ts';
import { RedisServer } from './redis-fixture.ts';

const skip = needTools('redis-server');
const server = new RedisServer();
const stores: RedisLimitStore[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => { unhandled.push(e); };

before(async () => {
  if (skip) return;
  process.on('unhandledRejection', onUnhandled);
  await server.start();
});
after(async () => {
  for (const s of stores) await s.close();
  await server.stop();
  process.off('unhandledRejection', onUnhandled);
});

let n = 0;
const key = (limit: number, periodMs: number, burst = limit, extra: Partial<LimitKey> = {}): LimitKey =>
  ({ id: `t${++n}`, intervalMs: periodMs / limit, burst, ...extra });

async function store(opts: Partial<ConstructorParameters<typeof RedisLimitStore>[0]> = {}): Promise<RedisLimitStore> {
  const s = new RedisLimitStore({ url: server.url, ...opts });
  stores.push(s);
  assert.equal(await s.ready(3000), true);
  return s;
}

test('same GCRA as the memory store, decision by decision (node clock)', { skip }, async () => {
  const clock = new ManualClock();
  const redis = await store({ clock, time: 'node' });
  const mem = new MemoryLimitStore({ clock });
  const keys = [key(7, 60_000, 3), key(100, 3_600_000, 20), key(5, 1000, 5, { flood: true })];
  const seen = new Set<string>();
  let seed = 42;
  const rnd = (m: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % m; };
  for (let i = 0; i < 300; i++) {
    const ks = keys.filter(() => rnd(3) > 0);
    const op = rnd(10), cost = 1 + rnd(3);
    if (op === 0) {
      await redis.refund(ks, cost);
      mem.refund(ks, cost);
    } else if (op === 1) {
      assert.deepEqual(await redis.state(ks), mem.state(ks), `state at step ${i}`);
    } else {
      const d = await redis.check(ks, cost);
      assert.deepEqual(d, mem.check(ks, cost), `check at step ${i}`);
      seen.add(d.outcome);
    }
    clock.advance(rnd(4000));
  }
  assert.deepEqual([...seen].sort(), ['flood', 'limited', 'ok']);
});

test('two nodes share one limit exactly, also under concurrent decisions (Redis TIME)', { skip }, async () => {
  const a = await store(), b = await store();
  const k = key(25, 3_600_000);
  const all: Promise<Decision>[] = [];
  for (let i = 0; i < 40; i++) all.push((i % 2 ? a : b).check([k], 1));
  const ds = await Promise.all(all);
  assert.equal(ds.filter((d) => d.allowed).length, 25);
  const refused = ds.find((d) => !d.allowed)!;
  assert.equal(refused.outcome, 'limited');
  assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 144_000);
  assert.equal(ds.some((d) => d.degraded), false);
  await a.refund([k], 2);
  assert.equal((await b.check([k], 2)).allowed, true);
  assert.equal((await b.check([k], 1)).allowed, false);
});

test('per-subject hash tags: one script per owner, and a refusal gives back the other owners', { skip }, async () => {
  const s = await store({ hashTags: 'per-subject' });
  const acct = key(5, 3_600_000, 5, { subject: 'a:alice' }), ip = key(3, 3_600_000, 3, { subject: 'i:192.0.2.1' });
  assert.equal(s.redisKey(acct), `pw:l:{a:alice}${acct.id}`);
  for (let i = 0; i < 3; i++) assert.equal((await s.check([acct, ip], 1)).allowed, true);
  const d = await s.check([acct, ip], 1);
  assert.equal(d.hit, ip);
  assert.deepEqual((await s.state([acct, ip])).map((x) => x.remaining), [2, 0]);
});

test('the script survives SCRIPT FLUSH (NOSCRIPT → EVAL)', { skip }, async () => {
  const s = await store();
  const k = key(3, 60_000);
  assert.equal((await s.check([k], 1)).allowed, true);
  const admin = new Redis(server.url);
  await admin.script('FLUSH');
  admin.disconnect();
  assert.equal((await s.check([k], 2)).remaining, 0);
});

test('brute-force counters are shared by two nodes through Redis', { skip }, async () => {
  const events: unknown[] = [];
  const mk = async () => {
    const r = createBruteForce({ store: await store(), spec: { ip: { failures: 4, per: 600 }, prefix: false, account: false }, accountKey: (l) => l, onLockout: (e) => events.push(e) });
    assert.ok(r.ok);
    return r.tracker;
  };
  const n1 = await mk(), n2 = await mk();
  const ip = `192.0.2.${100 + (Date.now() % 100)}`;
  await n1.failed(ip, 'a'); await n2.failed(ip, 'b'); await n1.failed(ip, 'c');
  assert.equal((await n2.failed(ip, 'd')).action, 'locked');
  assert.equal((await n1.before(ip, 'e')).action, 'locked');
  assert.equal(events.length, 1);
});

// ioredis 6 speaks RESP3 (HELLO 3) and falls back to RESP2 where HELLO is unknown
// (Redis before 6, some proxies); the limits must work on both.
test('RESP3 where the server has HELLO, RESP2 where it has not; same decisions on both', { skip }, async () => {
  const old = new RedisServer(['--rename-command', 'HELLO', '']);
  await old.start();
  try {
    // The protocol of each connection named `name`, as the server's CLIENT LIST reports it.
    const resps = async (url: string, name: string): Promise<string[]> => {
      const admin = new Redis(url, { protocol: 2 });
      try {
        const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal'));
        return list.split('\n').filter((l) => l.includes(` name=${name} `)).map((l) => / resp=(\d) /.exec(` ${l} `)?.[1] ?? '?');
      } finally { admin.disconnect(); }
    };
    const clock = new ManualClock();
    const k = key(2, 60_000);
    for (const [url, resp] of [[server.url, '3'], [old.url, '2']]) {
      const s = await store({ url, clock, time: 'node', redisOptions: { connectionName: 'pw-resp' } });
      const ds = [await s.check([k], 1), await s.check([k], 1), await s.check([k], 1)];
      assert.deepEqual(ds.map((d) => [d.allowed, d.degraded, d.outcome]), [[true, undefined, 'ok'], [true, undefined, 'ok'], [false, undefined, 'limited']], url);
      assert.deepEqual(await resps(url, 'pw-resp'), [resp], `protocol of the limits connection on ${url}`);
      await s.close();
      stores.splice(stores.indexOf(s), 1);
    }
  } finally {
    await old.stop();
  }
});

test('known prefixes are shared by two nodes through Redis, so a lockout elsewhere spares them on either', { skip }, async () => {
  const mk = async () => {
    const r = createBruteForce({ store: await store(), spec: { ip: false, prefix: false, account: { failures: 3, per: 600 } }, accountKey: (l) => l });
    assert.ok(r.ok);
    return r.tracker;
  };
  const n1 = await mk(), n2 = await mk();
  const who = `kp${Date.now()}@isp.example`;
  await n1.succeeded('192.0.2.10', who);
  for (let i = 0; i < 3; i++) await n2.failed(`198.51.100.${i + 1}`, who);
  assert.equal((await n1.before('203.0.113.9', who)).action, 'locked');
  assert.equal((await n2.before('192.0.2.200', who)).action, 'proceed');

});

// Last: stops the shared server.
test('Redis down: fail-open uses the local bucket, fail-closed refuses, both recover', { skip }, async () => {
  const logger = new MemoryLogger();
  const open = await store({ failMode: 'open', logger, commandTimeoutMs: 200 });
  const closed = await store({ failMode: 'closed', commandTimeoutMs: 200 });
  const k = key(3, 3_600_000);
  assert.equal((await open.check([k], 1)).degraded, undefined);
  await server.stop();
  const t0 = Date.now();
  const ds: Decision[] = [];
  for (let i = 0; i < 5; i++) ds.push(await open.check([k], 1));
  // The node-local bucket starts empty (it cannot know Redis's count) and still limits.
  assert.deepEqual(ds.map((d) => [d.allowed, d.degraded]), [[true, true], [true, true], [true, true], [false, true], [false, true]]);
  const c = await closed.check([k], 1);
  assert.deepEqual([c.allowed, c.outcome], [false, 'unavailable']);
  await open.refund([k], 1);
  assert.equal((await open.state([k]))[0].remaining, 1);
  assert.ok(Date.now() - t0 < 2000, 'decisions while down are fast');
  assert.ok(open.isDegraded);
  assert.equal(logger.records.filter((r) => r.msg === 'redis unreachable; limits fall back').length, 1);
  await server.start();
  assert.equal(await open.ready(5000), true);
  assert.equal(await closed.ready(5000), true);
  const back = await open.check([k], 1);
  assert.deepEqual([back.allowed, back.degraded, back.remaining], [true, undefined, 2]);
  assert.equal((await closed.check([k], 1)).outcome, 'ok');
  assert.ok(logger.records.some((r) => r.msg === 'redis reachable again; shared limits restored'));
  assert.equal(open.isDegraded, false);
  assert.deepEqual(unhandled, []);
});
