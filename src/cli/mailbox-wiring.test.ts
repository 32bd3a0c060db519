// The mailbox wiring: the provider's space from the netpolicy pools and the
// directory's prefixes decides which Received hop is the source; the report
// store is handed to the operations; the engine and directory seams are used
// when given; the DNSBL checker does not start without an address source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { MemoryLogger } from '../core/index.ts';
import { parseConfig } from '../config/index.ts';
import { InProcessBus, type EventMap } from '../events/index.ts';
import { openStore } from '../store/index.ts';
import type { AppDeps } from '../app/index.ts';
import type { Signal } from '../abuse/index.ts';
import { PLAIN } from '../../test/lib/abuse-reports.ts';
import { mailboxService, PrefixSet } from './mailbox-wiring.ts';
import { needTools, tempDir } from '../../test/lib/tools.ts';
import { run } from '../../test/lib/portwarden.ts';

test('PrefixSet: IPv4 and IPv6 prefixes and hosts, mapped IPv4, junk ignored', () => {
  const s = new PrefixSet();
  s.set(['100.64.0.0/10', '198.51.100.7', '2001:db8:100::/40', 'junk', '10.0.0.0/33']);
  assert.equal(s.size, 3);
  for (const a of ['100.64.1.2', '100.127.255.255', '198.51.100.7', '::ffff:100.64.0.1', '2001:db8:1ff:ffff::1']) assert.ok(s.has(a), a);
  for (const a of ['100.128.0.1', '198.51.100.8', '2001:db8:200::1', 'nope']) assert.ok(!s.has(a), a);
});

test('the service: pools make the CGNAT hop the source, the seams get the signal and the holder, reports.* get the store', { skip: needTools('swaks') }, async () => {
  const dir = tempDir('pw-mbw-');
  const store = await openStore(join(dir.path, 'state.db'));
  const logger = new MemoryLogger();
  const bus = new InProcessBus({ logger });
  const events: Array<EventMap['abuse.report']> = [];
  bus.subscribe('abuse.report', (e) => events.push(e));
  const signals: Signal[] = [];
  const app = { clock: { now: Date.now }, logger } as AppDeps;
  const cfg = parseConfig(`dataDir: ${JSON.stringify(dir.path)}\nrelay: {smarthost: "127.0.0.1:9"}\nabuse:\n  mailbox: {listen: "127.0.0.1:0", domains: [provider.example]}\n`, 'pw.yaml');
  const svc = mailboxService(() => ({
    cfg, logger, bus, store, app,
    pools: async () => [{ prefix: '100.64.0.0/10' }],
    sink: { ingest: (s) => { signals.push(s); return true; } },
    holders: { holdersAt: async (a) => (a === '100.64.1.2' ? [{ subscriber: 'cust-9', assignment: { id: 1, subscriber: 'cust-9', prefix: a, portLo: null, portHi: null, start: 0, end: null, source: 'radius', session: null } }] : []) },
  }));
  try {
    await svc.start();
    const port = Number(logger.records.find((l) => l.event === 'listening' && l.listener === 'abuse-mailbox')?.port);
    assert.ok(port > 0);
    const file = join(dir.path, 'plain.eml');
    writeFileSync(file, PLAIN);
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(port), '--from', 'x@else.example', '--to', 'abuse@provider.example', '--data', file]);
    assert.match(r.stdout, /<- +250 2\.0\.0 Ok: report /, r.stdout);
    assert.equal(events.length, 1);
    assert.equal(events[0].source, '100.64.1.2', 'the CGNAT hop, not the first public address (203.0.113.50)');
    assert.equal(events[0].subscriber, 'cust-9');
    assert.equal(signals[0].address, '100.64.1.2');
    assert.ok(app.reports, 'the operations have the store');
    assert.equal((await app.reports.list()).reports[0].id, events[0].report);
  } finally {
    await svc.stop();
    await store.close();
    dir.remove();
  }
});

test('the service with the directory\'s address source: the DNSBL checker runs (an unreachable resolver: a round of unknowns, no crash), and stops', async () => {
  const dir = tempDir('pw-mbw-');
  const store = await openStore(join(dir.path, 'state.db'));
  const logger = new MemoryLogger();
  const cfg = parseConfig(`dataDir: ${JSON.stringify(dir.path)}\nrelay: {smarthost: "127.0.0.1:9"}\nabuse:\n  dnsbl: {zones: [xbl.example], servers: ["127.0.0.1:9"]}\n`, 'pw.yaml');
  let asked = 0;
  const svc = mailboxService(() => ({ cfg, logger, bus: new InProcessBus({ logger }), store, addressesInUse: async () => { asked++; return ['198.51.100.9', '2001:db8::/64']; } }));
  try {
    await svc.start();
    assert.ok(logger.records.some((l) => l.msg === 'DNSBL checker started'));
    assert.ok(!logger.records.some((l) => l.listener === 'abuse-mailbox'), 'no mailbox.listen: no listener');
    const deadline = Date.now() + 20_000;
    while (!logger.records.some((l) => l.msg === 'DNSBL round done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const done = logger.records.find((l) => l.msg === 'DNSBL round done');
    assert.equal(asked, 1);
    assert.deepEqual({ checked: done?.checked, unknown: done?.unknown, listed: done?.listed }, { checked: 2, unknown: 2, listed: 0 });
  } finally {
    await svc.stop();
    await store.close();
    dir.remove();
  }
});

test('retention: at start, reports received before directory.retentionDays are deleted, rows and files; newer ones stay; no directory: no DNSBL checker', async () => {
  const dir = tempDir('pw-mbw-');
  const store = await openStore(join(dir.path, 'state.db'));
  const logger = new MemoryLogger();
  const cfg = parseConfig(`dataDir: ${JSON.stringify(dir.path)}\nrelay: {smarthost: "127.0.0.1:9"}\ndirectory: {retentionDays: 30}\nabuse: {dnsbl: {zones: [xbl.example]}}\n`, 'pw.yaml');
  const now = Date.parse('2026-12-02T12:00:00Z');
  const { ReportStore } = await import('../abuse/index.ts');
  const s = await ReportStore.open(store, join(dir.path, 'abuse', 'reports'));
  const ids: string[] = [];
  for (const age of [31, 29]) {
    const at = now - age * 86_400_000;
    const id = s.newId(at);
    ids.push(id);
    await s.writeFile(id, [Buffer.from('x\r\n')]);
    await s.insert({ id, receivedAt: at, kind: 'plain', feedbackType: null, userAgent: null, reportedMessageId: null, source: null, sourcePort: null, sourceFrom: 'none',
      at: null, atFrom: 'none', subscriber: null, reporter: '', recipient: 'abuse@x.example', clientIp: '::1', subject: null, size: 3 });
  }
  const app = { clock: { now: () => now }, logger } as AppDeps;
  const svc = mailboxService(() => ({ cfg, logger, bus: new InProcessBus({ logger }), store, app, clock: { now: () => now } }));
  try {
    await svc.start();
    const deadline = Date.now() + 10_000;
    while (!logger.records.some((l) => l.pruned === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual((await s.list()).reports.map((r) => r.id), [ids[1]]);
    assert.equal(existsSync(s.fileOf(ids[0])), false);
    assert.equal(existsSync(s.fileOf(ids[1])), true);
    assert.ok(logger.records.some((l) => l.event === 'dnsbl' && /the directory is not running here/.test(String(l.msg))), 'no directory, no address source: no DNSBL checker');
  } finally {
    await svc.stop();
    await store.close();
    dir.remove();
  }
});

test('with the directory on the node: its held prefixes are the provider\'s space (the static host is the source) and the DNSBL checker\'s addresses', { skip: needTools('swaks') }, async () => {
  const dir = tempDir('pw-mbw-');
  const store = await openStore(join(dir.path, 'state.db'));
  const logger = new MemoryLogger();
  const bus = new InProcessBus({ logger });
  const events: Array<EventMap['abuse.report']> = [];
  bus.subscribe('abuse.report', (e) => events.push(e));
  const { openDirectory } = await import('../directory/index.ts');
  const directory = await openDirectory(store, { clock: { now: Date.now }, logger, syncMs: 0 });
  await directory.putSubscriber({ id: 'biz-1', tier: 'business' });
  await directory.assign({ subscriber: 'biz-1', prefix: '192.0.2.77', start: Date.parse('2026-01-01T00:00:00Z'), source: 'static' });
  await directory.putSubscriber({ id: 'home-1' });
  await directory.assign({ subscriber: 'home-1', prefix: '2001:db8:aa00::/56', start: Date.parse('2026-01-01T00:00:00Z'), source: 'radius', session: 's1' });
  const cfg = parseConfig(`dataDir: ${JSON.stringify(dir.path)}\nrelay: {smarthost: "127.0.0.1:9"}\nabuse:\n  mailbox: {listen: "127.0.0.1:0"}\n  dnsbl: {zones: [xbl.example], servers: ["127.0.0.1:9"]}\n`, 'pw.yaml');
  const svc = mailboxService(() => ({ cfg, logger, bus, store, holders: directory, pools: async () => [] }));
  try {
    await svc.start();
    const port = Number(logger.records.find((l) => l.event === 'listening' && l.listener === 'abuse-mailbox')?.port);
    const report = 'From: x@else.example\r\nSubject: spam\r\nDate: Wed, 02 Dec 2026 12:00:00 +0000\r\n\r\nSee below.\r\n\r\n'
      + 'Received: from relay.else.example ([203.0.113.50]) by mx.else.example; Wed, 02 Dec 2026 07:01:00 +0000\r\n'
      + 'Received: from srv ([192.0.2.77]) by relay.else.example; Wed, 02 Dec 2026 07:00:00 +0000\r\nSubject: buy\r\n';
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(port), '--from', 'x@else.example', '--to', 'abuse@anything.example', '--data', report]);
    assert.match(r.stdout, /<- +250 2\.0\.0 Ok: report /, r.stdout);
    assert.equal(events[0].source, '192.0.2.77', 'the hop the directory holds, not the first public one');
    assert.equal(events[0].subscriber, 'biz-1');
    const deadline = Date.now() + 20_000;
    while (!logger.records.some((l) => l.msg === 'DNSBL round done') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.equal(logger.records.find((l) => l.msg === 'DNSBL round done')?.addresses, 2, '192.0.2.77 and the /56 by its first address');
  } finally {
    await svc.stop();
    await directory.close();
    await store.close();
    dir.remove();
  }
});
