import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { AttributionLog, classifyTraceQuery, runTraceCommand } from './index.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const dir = tempDir('pw-trace-');
  const store = await openStore(join(dir.path, 'state.db'));
  const log = new AttributionLog(store, { clock: new ManualClock(T0) });
  const base = { listener: 'submissions', tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_128_GCM_SHA256', authMechanism: 'SCRAM-SHA-256', sender: 'a@isp.example', recipientCount: 2, size: 900 };
  log.record({ ...base, queueId: '01KJ8ZQ2W0ABCDEFGH', messageId: '<abc.1@mua.example>', account: 'alice', subscriber: 'line-7', clientIp: '100.64.9.9', clientPort: 50123, time: T0 });
  log.record({ ...base, queueId: '01KJ8ZQ2W1ABCDEFGH', messageId: '<abc.2@mua.example>', account: 'bob', clientIp: '100.64.9.9', clientPort: 50999, time: T0 + 60_000 });
  log.record({ ...base, queueId: '01KJ8ZQ2W2ABCDEFGH', account: 'carol', clientIp: '2001:db8:7::5', clientPort: 40000, time: T0 + 120_000, authMechanism: 'PLAIN', tlsVersion: null });
  await log.close();
  const out: string[] = [], err: string[] = [];
  t.after(async () => { await store.close(); dir.remove(); });
  const run = (...argv: string[]) => runTraceCommand(argv, { store, out: (s) => out.push(s), err: (s) => err.push(s), now: () => T0 + 180_000 });
  return { run, out, err };
}

test('the query form is detected: Message-ID, address (with port), queue id', () => {
  assert.deepEqual(classifyTraceQuery('<x@y>'), { kind: 'message-id', value: '<x@y>' });
  assert.deepEqual(classifyTraceQuery('x@y'), { kind: 'message-id', value: 'x@y' });
  assert.deepEqual(classifyTraceQuery('100.64.9.9'), { kind: 'ip', value: '100.64.9.9', port: undefined });
  assert.deepEqual(classifyTraceQuery('100.64.9.9:50123'), { kind: 'ip', value: '100.64.9.9', port: 50123 });
  assert.deepEqual(classifyTraceQuery('[2001:DB8::1]:25'), { kind: 'ip', value: '2001:db8::1', port: 25 });
  assert.deepEqual(classifyTraceQuery('2001:db8::1'), { kind: 'ip', value: '2001:db8::1', port: undefined });
  assert.deepEqual(classifyTraceQuery('01KJ8ZQ2W0ABCDEFGH'), { kind: 'queue-id', value: '01KJ8ZQ2W0ABCDEFGH' });
});

test('trace QUEUE-ID prints account, subscriber, client ip:port, time, TLS and mechanism', async (t) => {
  const { run, out } = await setup(t);
  assert.equal(await run('01kj8zq2w0abcdefgh'), 0); // retyped in lower case
  const text = out.join('\n');
  assert.match(text, /^account {5}alice \(subscriber line-7\)$/m);
  assert.match(text, /^client {6}100\.64\.9\.9:50123 on submissions$/m);
  assert.match(text, /^time {8}2026-03-01T12:00:00\.000Z$/m);
  assert.match(text, /^tls {9}TLSv1\.3 TLS_AES_128_GCM_SHA256$/m);
  assert.match(text, /^auth {8}SCRAM-SHA-256$/m);
  assert.match(text, /^message-id {2}<abc\.1@mua\.example>$/m);
});

test('trace MESSAGE-ID --json', async (t) => {
  const { run, out } = await setup(t);
  assert.equal(await run('<abc.2@mua.example>', '--json'), 0);
  const rows = JSON.parse(out.join(''));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].account, 'bob');
  assert.equal(rows[0].clientPort, 50999);
});

test('trace IP --at TIME --port N names the one sender; IPv6 printed in brackets', async (t) => {
  const { run, out, err } = await setup(t);
  assert.equal(await run('100.64.9.9', '--at', '2026-03-01T12:01:30Z', '--port', '50999', '--json'), 0);
  assert.deepEqual(JSON.parse(out.join('')).map((r: { account: string }) => r.account), ['bob']);
  out.length = 0;
  assert.equal(await run('100.64.9.9:50123', '--at', '2026-03-01T13:00:00+01:00', '--json'), 0); // same instant, other zone
  assert.deepEqual(JSON.parse(out.join('')).map((r: { account: string }) => r.account), ['alice']);
  out.length = 0;
  assert.equal(await run('2001:DB8:7:0::5'), 0); // no --at: newest first
  assert.match(out.join('\n'), /^client {6}\[2001:db8:7::5\]:40000 on submissions$/m);
  assert.match(out.join('\n'), /^tls {9}none$/m);
  assert.equal(await run('100.64.9.9', '--at', '2026-03-01T15:00:00Z'), 1);
  assert.match(err.join('\n'), /no message found for ip 100\.64\.9\.9 around 2026-03-01T15:00:00\.000Z/);
});

test('usage errors answer 2 and say why', async (t) => {
  const { run, err } = await setup(t);
  assert.equal(await run(), 2);
  assert.equal(await run('1.2.3.4', '--at', 'yesterday'), 2);
  assert.match(err.join('\n'), /not an ISO 8601 time/);
  assert.equal(await run('1.2.3.4', '--port', '70000'), 2);
  assert.equal(await run('1.2.3.4', '--bogus'), 2);
  assert.equal(await run('--help'), 0);
});
