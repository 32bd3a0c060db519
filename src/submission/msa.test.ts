// The MSA through its ports, driven over the real SMTP engine by the tests'
// scripted client (msa-kit.ts): real accounts and SASL on SQLite, the real
// MessageFixer, a real Spool on disk, limits in limits' memory store.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loopbackCert, type TestCert } from '../../test/lib/cert.ts';
import { RawClient, plainAuth } from '../../test/lib/smtpclient.ts';
import { HELP, startMsa, type Msa } from './msa-kit.ts';

const ALICE = 'alice@isp.example';
const PASS = 'alice-password-1';
const msg = (from: string, extra = ''): string => `From: ${from}\r\nTo: bob@example.org\r\nSubject: hi\r\n${extra}\r\nhello\r\n`;

let cert: TestCert;
before(() => { cert = loopbackCert(); });
after(() => cert.remove());

async function msa(o: Parameters<typeof startMsa>[1] = {}): Promise<Msa> {
  const m = await startMsa(cert, o);
  await m.accounts.add({ login: ALICE, password: PASS, subscriber: 'cust-1', addresses: ['a.smith@isp.example'] });
  return m;
}

async function session(m: Msa, auth = true): Promise<RawClient> {
  const c = await RawClient.connect(m.port, { tls: true });
  assert.equal((await c.read()).code, 220);
  assert.equal((await c.cmd('EHLO laptop.example')).code, 250);
  if (auth) assert.equal(await c.send(`AUTH PLAIN ${plainAuth(ALICE, PASS)}`), '235 2.7.0 Authentication successful\r\n');
  return c;
}

/** MAIL, RCPTs, DATA and the message; the reply to the step that ended it. */
async function send(c: RawClient, from: string, to: string[], body: string, beforeDot?: () => void): Promise<string> {
  const m = await c.send(`MAIL FROM:<${from}>`);
  if (!m.startsWith('250')) return m;
  let last = '';
  let ok = 0;
  for (const r of to) { last = await c.send(`RCPT TO:<${r}>`); if (last.startsWith('250')) ok++; }
  if (!ok) { await c.send('RSET'); return last; }
  const d = await c.send('DATA');
  if (!d.startsWith('354')) return d;
  beforeDot?.();
  return c.send(`${body}.`, 10_000);
}

describe('sender binding, through the engine', () => {
  let m: Msa;
  before(async () => { m = await msa(); });
  after(() => m.stop());

  it('MAIL FROM an address the account does not own: 550 5.7.1 at MAIL, nothing spooled', async () => {
    const c = await session(m);
    assert.equal(await c.send('MAIL FROM:<bob@isp.example>'), '550 5.7.1 Sender address rejected: not owned by user alice@isp.example\r\n');
    assert.equal(await send(c, 'a.smith@isp.example', ['bob@example.org'], msg('bob@evil.example')),
      '550 5.7.1 Header address <bob@evil.example> rejected: not owned by user alice@isp.example\r\n');
    assert.equal(await send(c, ALICE, ['bob@example.org'], msg(ALICE, 'From: a.smith@isp.example\r\n')),
      '550 5.7.1 Message has more than one From: header field\r\n');
    assert.equal(await send(c, ALICE, ['bob@example.org'], 'To: bob@example.org\r\n\r\nno from\r\n'), '554 5.6.0 Message has no From: header field\r\n');
    c.close();
    assert.deepEqual(m.spool.list('active'), []);
  });

  it('an owned second address in MAIL and From is accepted and spooled with the account and subscriber', async () => {
    const c = await session(m);
    const r = await send(c, 'a.smith@isp.example', ['bob@example.org'], msg('A. Smith <a.smith@isp.example>'));
    const id = /^250 2\.0\.0 Ok: queued as (\S+)\r\n$/.exec(r)?.[1];
    assert.ok(id, r);
    const q = await m.spool.read(id);
    assert.equal(q?.state, 'active');
    assert.equal(q?.envelope.account, ALICE);
    assert.equal(q?.envelope.identity, 'cust-1');
    assert.equal(q?.envelope.mailFrom.address, 'a.smith@isp.example');
    c.close();
  });
});

describe('the postmaster exception, through the engine', () => {
  let m: Msa;
  before(async () => { m = await msa(); });
  after(() => m.stop());

  it('without AUTH: only postmaster@ a postmaster domain; queued with the null reverse-path and NOTIFY=NEVER', async () => {
    const c = await session(m, false);
    assert.equal(await c.send('MAIL FROM:<someone@example.net>'), '250 2.1.0 Ok\r\n');
    assert.equal(await c.send('RCPT TO:<alice@isp.example>'), '530 5.7.0 Authentication required\r\n');
    assert.equal(await c.send('RCPT TO:<postmaster@other.example>'), '530 5.7.0 Authentication required\r\n');
    assert.equal(await c.send('RCPT TO:<PostMaster@isp.example>'), '250 2.1.5 Ok\r\n');
    assert.equal(await c.send('DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
    const r = await c.send(`${msg('someone@example.net')}.`);
    const id = /^250 2\.0\.0 Ok: queued as (\S+)/.exec(r)?.[1];
    assert.ok(id, r);
    const env = (await m.spool.read(id))!.envelope;
    assert.equal(env.mailFrom.address, '');
    assert.deepEqual(env.recipients.map((x) => [x.address, x.notify]), [['PostMaster@isp.example', ['NEVER']]]);
    assert.equal(env.attributes.originalSender, 'someone@example.net');
    assert.equal(env.account, undefined);
    c.close();
  });
});

describe('limits and the spool, through the engine', () => {
  let m: Msa;
  before(async () => { m = await msa({ messagesPerHour: 1 }); });
  after(() => m.stop());

  it('a spool failure answers 451 4.3.0 and gives the charge back; the limit then refuses the message after the next', async () => {
    const c = await session(m);
    const active = join(m.dir, 'spool', 'active');
    // The queue file cannot be committed: its destination directory is gone.
    const failed = await send(c, ALICE, ['bob@example.org'], msg(ALICE), () => rmSync(active, { recursive: true }));
    mkdirSync(active, { mode: 0o700 });
    assert.equal(failed, '451 4.3.0 Error: internal error\r\n');
    assert.equal(m.summaries.at(-1)?.accepted, false);
    await new Promise((r) => setImmediate(r)); // the refund runs after reset()
    assert.match(await send(c, ALICE, ['bob@example.org'], msg(ALICE)), /^250 2\.0\.0 Ok: queued as /, 'the failed message was given back');
    assert.equal(await c.send(`MAIL FROM:<${ALICE}>`),
      `450 4.7.1 Sending limit of 1 messages per hour for this account reached; try again in 60 minutes; see ${HELP}\r\n`);
    assert.equal(m.spool.list('active').length, 1);
    c.close();
  });
});

describe('the transaction summary (what attribution and metrics read)', () => {
  let m: Msa;
  before(async () => { m = await msa(); });
  after(() => m.stop());

  it('an accepted message: who, from where, over what, which queue file and Message-ID, how big', async () => {
    const c = await session(m);
    const r = await send(c, ALICE, ['bob@example.org', 'carol@example.org'], msg(ALICE, 'Message-ID: <m1@laptop.example>\r\n'));
    const id = /queued as (\S+)\r\n$/.exec(r)?.[1];
    const t = m.summaries.at(-1)!;
    assert.deepEqual(
      { ...t, ms: typeof t.ms, at: typeof t.at, size: (t.size ?? 0) > 60, session: typeof t.session, repairs: Array.isArray(t.repairs) },
      {
        accepted: true, reply: { code: 250, enhanced: '2.0.0' }, queueId: id, messageId: '<m1@laptop.example>',
        account: ALICE, subscriber: 'cust-1', listener: 'submissions', clientIp: '127.0.0.1', clientPort: c.localPort,
        tlsVersion: c.tlsProtocol, tlsCipher: t.tlsCipher, mechanism: 'PLAIN', sender: ALICE, recipients: 2, size: true,
        ms: 'number', at: 'number', session: 'string', repairs: true,
      });
    assert.match(String(t.tlsCipher), /^TLS_|ECDHE/);
    c.close();
  });

  it('a message refused at MAIL is a summary too: not accepted, no queue file, the refusal', async () => {
    const c = await session(m);
    await c.send('MAIL FROM:<nobody@isp.example>');
    const t = m.summaries.at(-1)!;
    assert.equal(t.accepted, false);
    assert.equal(t.queueId, null);
    assert.equal(t.recipients, 0);
    assert.equal(t.reply?.code, 550);
    assert.equal(t.sender, 'nobody@isp.example');
    c.close();
  });
});
