// Delivery status notifications end to end in smarthost mode: the relay
// delivers to a capture sink, which also receives the notices (MAIL FROM:<>);
// each notice is parsed by Python's email package, not by our own code.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { Spool } from '../spool/index.ts';
import type { EnvelopeInput } from '../spool/index.ts';
import { needTools, until } from '../../test/lib/tools.ts';
import { Relay, statusOf } from './index.ts';
import type { RelayOptions } from './index.ts';
import { parseReport } from './testdata/report.ts';
import { CaptureSink } from '../../test/lib/sink.ts';
import type { SinkOptions } from '../../test/lib/sink.ts';

const skip = needTools('python3');

async function setup(t: TestContext, sinkOpts: SinkOptions = {}, relayOpts: Partial<RelayOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-dsn-'));
  const clock = new ManualClock();
  const spool = await Spool.open(dir, { clock });
  const sink = await CaptureSink.start(sinkOpts);
  const relay = new Relay({
    spool, clock, ehloName: 'relay.test', pollMs: 10,
    route: { kind: 'smarthost', host: '127.0.0.1', port: sink.port, tls: 'none' },
    retry: { schedule: [60], jitter: 0 },
    timeouts: { connect: 2000, greeting: 2000, socket: 5000 },
    ...relayOpts,
  });
  relay.start();
  t.after(async () => { await relay.stop(); await sink.close(); await spool.close(); rmSync(dir, { recursive: true, force: true }); });
  const dsns = () => sink.messages.filter((m) => m.mail.startsWith('MAIL FROM:<> ') || m.mail === 'MAIL FROM:<>');
  return { clock, spool, sink, relay, dsns };
}

async function queue(spool: Spool, e: EnvelopeInput, body: string): Promise<string> {
  const w = spool.create(e);
  w.stream.write(body);
  await w.commit();
  return w.id;
}

const BODY = 'From: alice@example.org\r\nSubject: quarterly figures\r\nMessage-ID: <q1@example.org>\r\n\r\nline one\r\n.\r\nafter a dot line\r\n';

test('statusOf: enhanced code when present, else the reply class', () => {
  assert.equal(statusOf('550 5.1.1 no such user'), '5.1.1');
  assert.equal(statusOf('550-5.7.1 first line\n550 5.7.1 last'), '5.7.1');
  assert.equal(statusOf('554 transaction failed'), '5.0.0');
  assert.equal(statusOf('451 try later'), '4.0.0');
  assert.equal(statusOf('250 2.0.0 Ok'), '2.0.0');
});

test('5xx at RCPT: a multipart/report to the sender with ENVID, ORCPT and the whole message (RET=FULL)', { skip, timeout: 15_000 }, async (t) => {
  const { spool, sink, dsns } = await setup(t, { reply: (l) => (l.startsWith('RCPT TO:<bob@') ? '550 5.1.1 <bob@example.net>: Recipient address rejected' : undefined) });
  const id = await queue(spool, {
    mailFrom: { address: 'alice@example.org', ret: 'FULL', envid: 'env-42' },
    recipients: [
      { address: 'bob@example.net', notify: ['FAILURE'], orcpt: 'rfc822;Bob@Example.NET' },
      { address: 'carol@example.net' },
    ],
  }, BODY);
  await until(() => dsns().length === 1 && spool.stateOf(id) === undefined, 'bounce and delete');
  await spool.waitEmpty();
  const d = dsns()[0];
  assert.deepEqual(d.rcpts, ['RCPT TO:<alice@example.org>']);
  const r = parseReport(d.data);
  assert.deepEqual(r.defects, []);
  assert.equal(r.type, 'multipart/report');
  assert.equal(r.params['report-type'], 'delivery-status');
  assert.equal(r.headers.From, 'Mail Delivery System <MAILER-DAEMON@relay.test>');
  assert.equal(r.headers.To, '<alice@example.org>');
  assert.equal(r.headers['Auto-Submitted'], 'auto-replied');
  assert.deepEqual(r.parts.map((p) => p.type), ['text/plain', 'message/delivery-status', 'message/rfc822']);
  assert.match(r.parts[0].text ?? '', /<bob@example\.net>: 550 5\.1\.1/);
  const [msg, ...rcpts] = r.parts[1].groups ?? [];
  assert.equal(msg['Reporting-MTA'], 'dns; relay.test');
  assert.equal(msg['Original-Envelope-Id'], 'env-42');
  assert.equal(rcpts.length, 1, 'only the failed recipient is reported');
  assert.equal(rcpts[0]['Final-Recipient'], 'rfc822; bob@example.net');
  assert.equal(rcpts[0]['Original-Recipient'], 'rfc822;Bob@Example.NET');
  assert.equal(rcpts[0].Action, 'failed');
  assert.equal(rcpts[0].Status, '5.1.1');
  assert.equal(rcpts[0]['Remote-MTA'], 'dns; 127.0.0.1');
  assert.equal(rcpts[0]['Diagnostic-Code'], 'smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected');
  const inner = r.parts[2].inner!;
  assert.equal(inner.headers.Subject, 'quarterly figures');
  assert.equal(inner.body.replace(/\r\n/g, '\n'), 'line one\n.\nafter a dot line\n', 'body returned intact, dot line included');
  assert.equal(sink.messages.length, 2, 'carol got the message, alice the notice');
});

test('RET=HDRS, and a message over the return limit: only the header section comes back', { skip, timeout: 15_000 }, async (t) => {
  const { spool, dsns } = await setup(t, { reply: (l) => (l.startsWith('RCPT TO:<bob@') ? '550 5.7.1 refused' : undefined) }, { dsn: { returnLimit: 1000 } });
  await queue(spool, { mailFrom: { address: 'alice@example.org', ret: 'HDRS' }, recipients: [{ address: 'bob@example.net' }] }, BODY);
  await queue(spool, { mailFrom: { address: 'big@example.org' }, recipients: [{ address: 'bob@example.net' }] }, BODY + 'x'.repeat(2000) + '\r\n');
  await until(() => dsns().length === 2, 'two bounces');
  for (const d of dsns()) {
    const r = parseReport(d.data);
    assert.deepEqual(r.defects, []);
    assert.equal(r.parts[2].type, 'text/rfc822-headers');
    assert.match(r.parts[2].text ?? '', /^Subject: quarterly figures\r?$/m);
    assert.doesNotMatch(r.parts[2].text ?? '', /line one|xxxx/);
    assert.equal(r.parts[1].groups?.[1].Status, '5.7.1');
  }
});

test('no notice for the null sender, for NOTIFY=NEVER, or for a notice that bounces', { skip, timeout: 15_000 }, async (t) => {
  const { spool, sink, dsns } = await setup(t, {
    reply: (l) => (l.startsWith('RCPT TO:<bob@') || l.startsWith('RCPT TO:<nobody@') ? '550 5.1.1 unknown' : undefined),
  });
  await queue(spool, { mailFrom: { address: '' }, recipients: [{ address: 'bob@example.net' }] }, BODY);
  await queue(spool, { mailFrom: { address: 'alice@example.org' }, recipients: [{ address: 'bob@example.net', notify: ['NEVER'] }] }, BODY);
  await queue(spool, { mailFrom: { address: 'alice@example.org' }, recipients: [{ address: 'bob@example.net', notify: ['SUCCESS', 'DELAY'] }] }, BODY);
  await spool.waitEmpty();
  assert.equal(spool.stats().commits, 3, 'nothing was generated');
  assert.equal(dsns().length, 0);
  // A notice to a sender whose address bounces is dropped, not bounced again.
  await queue(spool, { mailFrom: { address: 'nobody@example.org' }, recipients: [{ address: 'bob@example.net' }] }, BODY);
  await until(() => spool.stats().commits === 5, 'the one notice');
  await spool.waitEmpty();
  assert.equal(spool.stats().commits, 5);
  assert.equal(sink.messages.length, 0);
  assert.ok(sink.commands.includes('RCPT TO:<nobody@example.org>'), 'the notice was tried');
});

test('delay warning once after the configured time; none when NOTIFY leaves DELAY out', { skip, timeout: 15_000 }, async (t) => {
  let busy = true;
  const { spool, clock, sink, dsns } = await setup(t, { reply: (l) => (busy && l.startsWith('RCPT TO:<bob@') ? '451 4.2.0 mailbox busy' : undefined) },
    { dsn: { delayWarning: 100 }, retry: { schedule: [60], jitter: 0, maxAge: 3600 } });
  const a = await queue(spool, { mailFrom: { address: 'alice@example.org' }, recipients: [{ address: 'bob@example.net' }] }, BODY);
  const b = await queue(spool, { mailFrom: { address: 'alan@example.org' }, recipients: [{ address: 'bob@example.net', notify: ['FAILURE'] }] }, BODY);
  const attempts = async (n: number) => {
    await until(() => spool.stateOf(a) === 'deferred' && spool.stateOf(b) === 'deferred', 'deferral');
    for (const id of [a, b]) {
      const end = Date.now() + 5000;
      // read() may race the relay moving the file between deferred/ and active/: retry.
      while (spool.stateOf(id) !== 'deferred' || (await spool.read(id).catch(() => null))?.envelope.attempts !== n) {
        if (Date.now() > end) throw new Error(`attempt ${n}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await attempts(1);
  for (let n = 2; n <= 4; n++) { clock.advance(60_000); await attempts(n); } // attempts at 0, 60, 120 (warn), 180 s
  await until(() => dsns().length === 1, 'the warning');
  assert.equal(dsns().length, 1, 'once per message, and not for NOTIFY=FAILURE');
  assert.deepEqual(dsns()[0].rcpts, ['RCPT TO:<alice@example.org>']);
  const r = parseReport(dsns()[0].data);
  assert.deepEqual(r.defects, []);
  assert.equal(r.headers.Subject, 'Delayed Mail (still being retried)');
  const g = r.parts[1].groups![1];
  assert.equal(g.Action, 'delayed');
  assert.equal(g.Status, '4.2.0');
  assert.equal(g['Will-Retry-Until'], 'Thu, 01 Jan 2026 01:00:00 +0000');
  assert.equal(r.parts[2].type, 'text/rfc822-headers');
  assert.equal((await spool.read(a))?.envelope.delayWarnedAt, Date.UTC(2026, 0, 1) + 120_000);
  busy = false;
  clock.advance(60_000);
  await spool.waitEmpty();
  assert.equal(dsns().length, 1);
  assert.equal(sink.messages.length - dsns().length, 2, 'both delivered in the end');
});

test('NOTIFY=SUCCESS: "relayed" notice when the next hop lacks DSN; passed on and silent when it has it', { skip, timeout: 15_000 }, async (t) => {
  const plain = await setup(t, { extensions: ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES'] });
  const e: EnvelopeInput = { mailFrom: { address: 'alice@example.org', envid: 'E1' }, recipients: [{ address: 'bob@example.net', notify: ['SUCCESS', 'FAILURE'] }, { address: 'carol@example.net' }] };
  await queue(plain.spool, e, BODY);
  await until(() => plain.dsns().length === 1, 'relayed notice');
  await plain.spool.waitEmpty();
  const r = parseReport(plain.dsns()[0].data);
  assert.deepEqual(r.defects, []);
  assert.equal(r.headers.Subject, 'Successful Mail Delivery Report');
  const [msg, ...groups] = r.parts[1].groups!;
  assert.equal(msg['Original-Envelope-Id'], 'E1');
  assert.equal(groups.length, 1);
  assert.equal(groups[0]['Final-Recipient'], 'rfc822; bob@example.net');
  assert.equal(groups[0].Action, 'relayed');
  assert.equal(groups[0].Status, '2.0.0');
  assert.equal(r.parts[2].type, 'text/rfc822-headers', 'success notices carry headers only');

  const dsnHop = await setup(t);
  await queue(dsnHop.spool, e, BODY);
  await dsnHop.spool.waitEmpty();
  assert.equal(dsnHop.dsns().length, 0);
  assert.equal(dsnHop.spool.stats().commits, 1);
  assert.ok(dsnHop.sink.commands.includes('RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE'));
});

test('issue 10 item 1: ORCPT, ENVID and addresses cannot add fields to a notice, in ASCII or SMTPUTF8 mail', { skip, timeout: 15_000 }, async (t) => {
  const { spool, sink, dsns } = await setup(t, { reply: (l) => (l.startsWith('RCPT TO:<b') ? '550 5.1.1 no such user' : undefined) });
  // What decodeXtext hands over for ORCPT=rfc822;x+0D+0AX-Injected:+20yes and friends.
  const hostile = 'x\r\nX-Injected: yes\x0b\u0085\u2028\u010d\u010aX-Low: yes';
  await queue(spool, {
    mailFrom: { address: 'alice@example.org', envid: `e\r\nX-Envid: yes` },
    recipients: [{ address: 'bob@example.net', orcpt: `rfc822;${hostile}@example.net` }],
  }, BODY);
  await queue(spool, {
    mailFrom: { address: 'j\u00f6rg\u2028@example.org', smtputf8: true, envid: `e\r\nX-Envid: yes` },
    recipients: [{ address: 'b\u0085ob@example.net', orcpt: `utf-8;${hostile}@example.net` }],
  }, BODY);
  await until(() => dsns().length === 2, 'two bounces').catch((e) => { console.log(JSON.stringify(sink.commands)); throw e; });
  for (const d of dsns()) {
    const raw = d.data.toString('latin1');
    assert.doesNotMatch(raw, /^X-(Injected|Envid|Low):/m);
    if (!d.rcpts[0].includes('\u00c3')) assert.ok(!/[^\x00-\x7f]/.test(raw), 'a notice about ASCII mail is ASCII');
    const r = parseReport(d.data);
    const [msg, rcpt] = r.parts[1].groups ?? [];
    assert.deepEqual(Object.keys(msg).sort(), ['Arrival-Date', 'Original-Envelope-Id', 'Reporting-MTA', 'X-Portwarden-Queue-ID']);
    assert.deepEqual(Object.keys(rcpt).sort(), ['Action', 'Diagnostic-Code', 'Final-Recipient', 'Last-Attempt-Date', 'Original-Recipient', 'Remote-MTA', 'Status']);
    assert.equal(msg['Original-Envelope-Id'], 'e+0D+0AX-Envid:+20yes');
    assert.match(rcpt['Original-Recipient'], /^(rfc822|utf-8);x\+0D\+0AX-Injected:\+20yes\+0B\+C2\+85\+E2\+80\+A8/);
  }
});
