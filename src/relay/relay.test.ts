import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { InProcessBus, type EventMap } from '../events/index.ts';
import { Readable } from 'node:stream';
import { BodyDamaged, Spool, KEEP_MAX } from '../spool/index.ts';
import { connectClient } from './client.ts';
import { loopbackCert } from '../../test/lib/cert.ts';
import { needTools, until } from '../../test/lib/tools.ts';
import type { EnvelopeInput } from '../spool/index.ts';
import { Relay } from './index.ts';
import type { RelayOptions } from './index.ts';
import { CaptureSink } from '../../test/lib/sink.ts';
import type { SinkOptions } from '../../test/lib/sink.ts';

const env: EnvelopeInput = {
  mailFrom: { address: 'alice@example.org', ret: 'HDRS', envid: 'id+1=x', body: '8BITMIME' },
  recipients: [
    { address: 'bob@example.net', notify: ['FAILURE', 'DELAY'], orcpt: 'rfc822;bob@example.net' },
    { address: 'carol@example.net', notify: ['NEVER'] },
    { address: 'dave@example.net' },
  ],
  account: 'alice',
};

async function setup(t: TestContext, sinkOpts: SinkOptions = {}, relayOpts: Partial<RelayOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-relay-'));
  const clock = new ManualClock();
  const log = new MemoryLogger();
  const spool = await Spool.open(dir, { clock, logger: log });
  const sink = await CaptureSink.start(sinkOpts);
  const bus = new InProcessBus();
  const outcomes: Array<EventMap['relay.outcome']> = [];
  bus.subscribe('relay.outcome', (e) => outcomes.push(e));
  const relay = new Relay({
    spool, clock, logger: log, bus, ehloName: 'relay.test', concurrency: 1, pollMs: 20,
    smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' },
    retry: { schedule: [60, 300], jitter: 0 },
    timeouts: { connect: 2000, greeting: 2000, socket: 5000 },
    ...relayOpts,
  });
  t.after(async () => { await relay.stop(); await sink.close(); await spool.close(); rmSync(dir, { recursive: true, force: true }); });
  return { dir, clock, log, spool, sink, relay, outcomes };
}

async function queue(spool: Spool, body: string | Buffer, e: EnvelopeInput = env): Promise<string> {
  const w = spool.create(e);
  w.stream.write(body);
  await w.commit();
  return w.id;
}

test('byte-exact DATA: canonical CRLF, dot-stuffing (F3, F4), envelope parameters, connection reuse', async (t) => {
  const { spool, sink, relay } = await setup(t);
  relay.start();
  const body = Buffer.from(
    'Subject: t\r\n\r\n' +
    'line1\r\n.\r\nQUIT\r\n' +     // an embedded end-of-data must travel as ".."
    '..two dots\r\n' +
    'bare lf\n.\n' +               // bare LF: canonicalised, then stuffed
    'bare cr\r.\r' +               // bare CR: the same
    '.last line without newline',
  );
  const ids = [await queue(spool, body)];
  for (let i = 0; i < 4; i++) ids.push(await queue(spool, `Subject: ${i}\r\n\r\nhi\r\n`));
  await spool.waitEmpty();
  assert.equal(sink.messages.length, 5);
  const expected = 'Subject: t\r\n\r\n' +
    'line1\r\n..\r\nQUIT\r\n' +
    '...two dots\r\n' +
    'bare lf\r\n..\r\n' +
    'bare cr\r\n..\r\n' +
    '..last line without newline\r\n';
  assert.equal(sink.messages[0].data.toString('latin1'), expected);
  const raw = sink.messages[0].data;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0d) assert.equal(raw[i + 1], 0x0a, `bare CR at ${i}`);
    if (raw[i] === 0x0a) assert.equal(raw[i - 1], 0x0d, `bare LF at ${i}`);
  }
  const first = sink.messages[0];
  assert.match(first.mail, /^MAIL FROM:<alice@example\.org> /);
  assert.deepEqual(first.mail.split(' ').slice(2).sort(), [`SIZE=${body.length}`, 'BODY=8BITMIME', 'RET=HDRS', 'ENVID=id+2B1+3Dx'].sort());
  assert.deepEqual(first.rcpts, [
    'RCPT TO:<bob@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.net',
    'RCPT TO:<carol@example.net> NOTIFY=NEVER',
    'RCPT TO:<dave@example.net>',
  ]);
  assert.equal(sink.connections, 1, 'one connection carries all five messages');
  assert.deepEqual(spool.stats().active + spool.stats().deferred + spool.stats().hold, 0);
});

test('per recipient: 2xx done, 4xx deferred then delivered, 5xx failed → DSN, then deleted', async (t) => {
  let carolOk = false;
  const { spool, sink, relay, clock, outcomes } = await setup(t, {
    reply: (line) => {
      if (line.startsWith('RCPT TO:<carol@') && !carolOk) return '451 4.2.0 carol is busy';
      if (line.startsWith('RCPT TO:<dave@')) return '550 5.1.1 dave: no such user';
      return undefined;
    },
  });
  relay.start();
  const id = await queue(spool, 'Subject: x\r\n\r\nhello\r\n');
  await until(() => spool.stateOf(id) === 'deferred', 'deferral');
  const mail = () => sink.messages.filter((m) => m.mail.startsWith('MAIL FROM:<alice@'));
  const dsns = () => sink.messages.filter((m) => m.mail.startsWith('MAIL FROM:<> '));
  assert.equal(mail().length, 1);
  assert.deepEqual(mail()[0].rcpts.map((l) => l.split(' ')[1]), ['TO:<bob@example.net>']);
  let m = await spool.read(id);
  assert.deepEqual(m?.envelope.recipients.map((r) => r.state), ['done', 'deferred', 'failed']);
  assert.equal(m?.envelope.nextAttemptAt, clock.now() + 60_000);
  await until(() => dsns().length === 1, 'the bounce for dave');
  assert.deepEqual(dsns()[0].rcpts.map((l) => l.split(' ')[1]), ['TO:<alice@example.org>']);
  assert.match(dsns()[0].data.toString(), /^Final-Recipient: rfc822; dave@example\.net\r\nAction: failed\r\nStatus: 5\.1\.1\r\n/m);

  carolOk = true;
  clock.advance(59_000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(spool.stateOf(id), 'deferred', 'not due yet');
  clock.advance(1_000);
  await until(() => spool.stateOf(id) === undefined, 'deleted once every recipient is final');
  assert.equal(mail().length, 2);
  assert.deepEqual(mail()[1].rcpts.map((l) => l.split(' ')[1]), ['TO:<carol@example.net>'], 'bob is not sent twice');
  assert.equal(dsns().length, 1, 'dave is reported once');
  assert.equal(spool.stats().hold, 0);
  assert.deepEqual(outcomes.map((o) => `${o.recipient} ${o.outcome}`).sort(),
    ['alice@example.org sent', 'bob@example.net sent', 'carol@example.net deferred', 'carol@example.net sent', 'dave@example.net bounced'],
    'one relay.outcome per recipient per attempt (the bounce to alice included)');
  assert.match(outcomes.find((o) => o.outcome === 'bounced')!.reply, /^550 5\.1\.1 /);
});

test('max age: a recipient still deferred after maxAge fails with 4.4.7 and the message is deleted', async (t) => {
  const { spool, sink, relay, clock } = await setup(t, { reply: (l) => (l.startsWith('RCPT TO:<bob') ? '452 4.2.2 full' : undefined) }, { retry: { schedule: [60], maxAge: 100, jitter: 0 } });
  relay.start();
  const id = await queue(spool, 'Subject: x\r\n\r\nhi\r\n', { ...env, recipients: [env.recipients[0]] });
  await until(() => spool.stateOf(id) === 'deferred', 'deferral');
  clock.advance(120_000);
  await until(() => spool.stateOf(id) === undefined, 'given up');
  await until(() => sink.messages.some((m) => m.mail.startsWith('MAIL FROM:<> ')), 'bounce');
  const dsn = sink.messages.find((m) => m.mail.startsWith('MAIL FROM:<> '))!.data.toString();
  assert.match(dsn, /^Status: 4\.4\.7\r\n/m);
  assert.match(dsn, /^Diagnostic-Code: smtp; 452 4\.2\.2 full\r\n/m);
});

test('STARTTLS required: delivered over TLS; refused when the next hop does not offer it', { skip: needTools('openssl') }, async (t) => {
  const { key, cert, remove } = loopbackCert();
  remove();
  const a = await setup(t, { tls: { key, cert } }, {});
  const relayTls = new Relay({
    spool: a.spool, clock: a.clock, ehloName: 'relay.test', pollMs: 20,
    smarthost: { host: '127.0.0.1', port: a.sink.port, tls: 'required', rejectUnauthorized: false },
  });
  relayTls.start();
  t.after(() => relayTls.stop());
  const id = await queue(a.spool, 'Subject: tls\r\n\r\nsecret\r\n');
  await a.spool.waitEmpty();
  assert.equal(a.sink.messages.length, 1);
  assert.equal(a.sink.messages[0].tls, true);
  assert.ok(a.sink.commands.includes('STARTTLS'));
  assert.equal(a.spool.stateOf(id), undefined);

  const b = await setup(t, {}, { smarthost: { host: '127.0.0.1', port: 0, tls: 'required' } });
  const relayB = new Relay({
    spool: b.spool, clock: b.clock, ehloName: 'relay.test', pollMs: 20,
    smarthost: { host: '127.0.0.1', port: b.sink.port, tls: 'required' },
    timeouts: { connect: 2000, greeting: 2000, socket: 2000 },
  });
  relayB.start();
  t.after(() => relayB.stop());
  const id2 = await queue(b.spool, 'Subject: plain\r\n\r\nno\r\n');
  await until(() => b.spool.stateOf(id2) === 'deferred', 'deferral without TLS');
  assert.equal(b.sink.messages.length, 0);
});

test('a queue file damaged after acceptance is never sent: no final dot, moved to corrupt/', async (t) => {
  const { spool, sink, relay, dir } = await setup(t);
  // Over the spool's in-memory hand-off size, so the relay reads (and checks) the file.
  const id = await queue(spool, 'Subject: x\r\n\r\n' + 'z'.repeat(KEEP_MAX + 1000) + '\r\n');
  const p = join(dir, 'active', id);
  const bytes = readFileSync(p);
  bytes[bytes.length - 1000] ^= 0x02; // late in the body: most of it is already on the wire
  writeFileSync(p, bytes);
  relay.start();
  await until(() => spool.stateOf(id) === 'corrupt', 'corrupt');
  assert.equal(sink.messages.length, 0);
});

test('damage found mid-stream: the transaction is cut before the final dot', async (t) => {
  const { spool, sink } = await setup(t);
  const id = await queue(spool, 'x');
  const envelope = (await spool.read(id))!.envelope;
  const client = await connectClient({ host: '127.0.0.1', port: sink.port, tls: 'none' }, 'relay.test', { connect: 2000, greeting: 2000, socket: 5000 });
  async function* damaged() {
    yield Buffer.from('Subject: x\r\n\r\n' + 'y'.repeat(100_000) + '\r\n');
    await until(() => sink.commands.includes('DATA'), 'DATA');
    await new Promise((res) => setTimeout(res, 50)); // part of the body is on the wire
    throw new BodyDamaged('checksum mismatch');
  }
  const r = await client.deliver(envelope, [0, 1, 2], 100_000, Readable.from(damaged()));
  assert.equal(r.damaged, true);
  assert.equal(r.reusable, false);
  await until(() => sink.commands.includes('DATA'), 'DATA');
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(sink.messages.length, 0, 'the sink never saw end-of-data');
});
