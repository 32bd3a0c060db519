// Transcript tests of the plain-text protocol over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accept, refuse, reply } from '../core/index.ts';
import { RecordingHandler, code, ehloKeywords, startServer } from './testkit.ts';
import { RawClient } from '../../test/lib/smtpclient.ts';

test('greeting, EHLO keywords, HELO, small commands', async () => {
  const h = await startServer({ tls: 'none', authRequiresTls: false, smtputf8: true, chunking: true, maxMessageSize: 12345 });
  try {
    const c = await RawClient.connect(h.port);
    assert.equal(await c.reply(), '220 mx.test ESMTP portwarden\r\n');
    assert.match(await c.send('EHLO'), /^501 5\.5\.4 Syntax: EHLO hostname\r\n$/);
    const e = await c.send('ehlo client.example');
    assert.match(e, /^250-mx\.test\r\n/);
    const kw = ehloKeywords(e);
    assert.deepEqual(kw, ['PIPELINING', 'SIZE', '8BITMIME', 'ENHANCEDSTATUSCODES', 'DSN', 'CHUNKING', 'SMTPUTF8', 'AUTH']);
    assert.match(e, /250-SIZE 12345\r\n/);
    assert.match(e, /250 AUTH PLAIN SCRAMLIKE\r\n$/);
    for (const bad of ['ETRN', 'VRFY', 'EXPN', 'BINARYMIME', 'STARTTLS']) assert.ok(!kw.includes(bad), bad);
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
    assert.equal(await c.send('noop hello'), '250 2.0.0 Ok\r\n');
    assert.match(await c.send('HELP'), /^214 2\.0\.0 /);
    assert.equal(await c.send('VRFY root'), '502 5.5.1 VRFY command is disabled\r\n');
    assert.equal(await c.send('EXPN staff'), '502 5.5.1 EXPN command is disabled\r\n');
    assert.equal(await c.send('ETRN example.org'), '502 5.5.2 Error: command not recognized\r\n');
    assert.equal(await c.send('FOO'), '502 5.5.2 Error: command not recognized\r\n');
    assert.equal(await c.send('RSET'), '250 2.0.0 Ok\r\n');
    assert.equal(await c.send('HELO client.example'), '250 mx.test\r\n');
    assert.equal(await c.send('QUIT'), '221 2.0.0 Bye\r\n');
    assert.ok(await c.waitClose());
  } finally {
    await h.stop();
  }
});

test('pipelining: one write of MAIL/RCPT/RCPT/DATA gives four ordered replies ending 354', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    c.write('MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<reject@example.org>\r\nDATA\r\n');
    const r = await c.replies(4);
    assert.deepEqual(r.map(code), ['250', '250', '550', '354']);
    assert.equal(r[3], '354 End data with <CR><LF>.<CR><LF>\r\n');
    c.write('Subject: t\r\n\r\nhi\r\n.\r\n');
    assert.equal(await c.reply(), '250 2.0.0 Ok\r\n');
    assert.equal(h.handler.messages.length, 1);
    assert.deepEqual(h.handler.messages[0].to.map((t) => t.address), ['b@example.org']);
    assert.equal(h.handler.messages[0].body.toString(), 'Subject: t\r\n\r\nhi\r\n');
  } finally {
    await h.stop();
  }
});

test('pipelining replies are coalesced into one write per batch', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    const chunks: string[] = [];
    c.socket.on('data', (d: Buffer) => chunks.push(d.toString()));
    c.write('MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nRSET\r\n');
    await c.replies(4);
    assert.equal(chunks.length, 1, `replies arrived in ${chunks.length} segments`);
  } finally {
    await h.stop();
  }
});

test('forbidUnauthPipelining: commands after EHLO in the same write → 554 5.5.0 and close', async () => {
  const h = await startServer({ forbidUnauthPipelining: true });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    c.write('EHLO c\r\nMAIL FROM:<a@example.org>\r\n');
    const [e, sync] = await c.replies(2);
    assert.equal(code(e), '250');
    assert.equal(sync, '554 5.5.0 Error: SMTP protocol synchronization\r\n');
    assert.ok(await c.waitClose());
    assert.ok(!h.handler.calls.some((x) => x.startsWith('mail')));
  } finally {
    await h.stop();
  }
});

test('talking before the greeting is a synchronization error', async () => {
  const handler = new RecordingHandler();
  handler.connect = () => new Promise((r) => setTimeout(() => r(accept()), 200));
  const h = await startServer({ forbidUnauthPipelining: true }, { handler });
  try {
    const c = await RawClient.connect(h.port);
    c.write('EHLO early\r\n');
    assert.equal(await c.reply(), '554 5.5.0 Error: SMTP protocol synchronization\r\n');
    assert.ok(await c.waitClose());
  } finally {
    await h.stop();
  }
});

test('connect refusal replaces the greeting and closes', async () => {
  const handler = Object.assign(new RecordingHandler(), { connect: () => refuse(reply(554, '5.7.1', 'Service unavailable; client blocked')) });
  const h = await startServer({}, { handler });
  try {
    const c = await RawClient.connect(h.port);
    assert.equal(await c.reply(), '554 5.7.1 Service unavailable; client blocked\r\n');
    assert.ok(await c.waitClose());
  } finally {
    await h.stop();
  }
});

test('MAIL/RCPT sequence errors, DATA without recipients never 354', async () => {
  const h = await startServer();
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    assert.equal(await c.send('MAIL FROM:<a@example.org>'), '503 5.5.1 Error: send HELO/EHLO first\r\n');
    await c.send('EHLO c');
    assert.equal(await c.send('RCPT TO:<b@example.org>'), '503 5.5.1 Error: need MAIL command\r\n');
    assert.equal(await c.send('DATA'), '503 5.5.1 Error: need MAIL command\r\n');
    assert.equal(code(await c.send('MAIL FROM:<a@example.org>')), '250');
    assert.equal(await c.send('MAIL FROM:<a@example.org>'), '503 5.5.1 Error: nested MAIL command\r\n');
    assert.equal(code(await c.send('RCPT TO:<reject@example.org>')), '550');
    assert.equal(await c.send('DATA'), '554 5.5.1 Error: no valid recipients\r\n');
    assert.equal(await c.send('DATA x'), '501 5.5.4 Syntax: DATA\r\n');
    assert.equal(await c.send('RSET'), '250 2.0.0 Ok\r\n');
    assert.ok(h.handler.calls.includes('reset'));
    assert.ok(!h.handler.calls.includes('data'));
  } finally {
    await h.stop();
  }
});

test('address syntax: MAIL and RCPT', async () => {
  const h = await startServer({ smtputf8: true, maxErrors: 100 });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    const mailCases: Array<[string, string]> = [
      ['MAIL FROM:<a@@b>', '501 5.1.7'],
      ['MAIL FROM:<x y@z>', '501 5.1.7'],
      ['MAIL FROM:a@example.org', '501 5.1.7'],
      ['MAIL FROM:<a@example.org', '501 5.1.7'],
      ['MAIL FROM:<a@-bad.example>', '501 5.1.7'],
      ['MAIL FROM:<a.@example.org>', '501 5.1.7'],
      [`MAIL FROM:<${'l'.repeat(65)}@example.org>`, '501 5.1.7'],
      [`MAIL FROM:<a@${Array(5).fill('d'.repeat(60)).join('.')}>`, '501 5.1.7'],
      ['MAIL FROM:<a@example.org> SIZE=abc', '501 5.5.4'],
      ['MAIL FROM:<a@example.org> FOO=bar', '555 5.5.4'],
      ['MAIL FROM:<a@example.org> BODY=BINARYMIME', '501 5.5.4'],
      ['MAIL FROM:<a@example.org> ENVID=a+2', '501 5.5.4'],
      ['MAIL FROM:<a@example.org> AUTH=bad+zz', '501 5.5.4'],
      ['MAIL FROM:<a@example.org> SIZE=999999999', '552 5.3.4'],
      ['MAIL FROM:<jörg@example.org>', '553 5.6.7'],
      ['MAIL FROM <a@example.org>', '501 5.5.4'],
    ];
    for (const [cmd, want] of mailCases) assert.equal((await c.send(cmd)).slice(0, 9), want, cmd);
    const okMail = [
      'MAIL FROM:<>',
      'MAIL FROM:<"john doe"@example.org>',
      'MAIL FROM:<a@[192.0.2.1]>',
      'MAIL FROM:<a@[IPv6:2001:db8::1]>',
      'MAIL FROM:<@relay1.example,@relay2.example:user@example.org>',
      'MAIL FROM: <a@example.org> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=QQ+2B1 AUTH=<>',
      'MAIL FROM:<jörg@exämple.org> SMTPUTF8',
    ];
    for (const cmd of okMail) {
      assert.equal(await c.send(cmd), '250 2.1.0 Ok\r\n', cmd);
      assert.equal(await c.send('RSET'), '250 2.0.0 Ok\r\n');
    }
    assert.ok(h.handler.calls.includes('mail user@example.org'), 'source route dropped');
    await c.send('MAIL FROM:<a@example.org>');
    const rcptCases: Array<[string, string]> = [
      ['RCPT TO:<x y@z>', '501 5.1.3'],
      ['RCPT TO:<>', '501 5.1.3'],
      ['RCPT TO:<b@example.org> NOTIFY=NEVER,SUCCESS', '501 5.5.4'],
      ['RCPT TO:<b@example.org> ORCPT=rfc822', '501 5.5.4'],
      ['RCPT TO:<b@example.org> XYZ', '555 5.5.4'],
      ['RCPT TO:<bö@example.org>', '553 5.6.7'],
      ['RCPT TO:<Postmaster>', '250 2.1.5'],
      ['RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.org', '250 2.1.5'],
    ];
    for (const [cmd, want] of rcptCases) assert.equal((await c.send(cmd)).slice(0, 9), want, cmd);
  } finally {
    await h.stop();
  }
});

test('101 recipients: 100 accepted, then 452 4.5.3 without asking the handler', async () => {
  const h = await startServer({ maxRecipients: 100 });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    await c.send('MAIL FROM:<a@example.org>');
    let batch = '';
    for (let i = 0; i < 101; i++) batch += `RCPT TO:<r${i}@example.org>\r\n`;
    c.write(batch);
    const r = await c.replies(101);
    assert.equal(r.filter((x) => x === '250 2.1.5 Ok\r\n').length, 100);
    assert.equal(r[100], '452 4.5.3 Error: too many recipients\r\n');
    assert.ok(!h.handler.calls.includes('rcpt r100@example.org'));
  } finally {
    await h.stop();
  }
});

test('command too long and NUL: 500 5.5.2, parser stays in sync', async () => {
  const h = await startServer({ bareLf: 'normalize' });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    c.write(`NOOP ${'x'.repeat(595)}\r\nNOOP\r\n`);
    assert.deepEqual(await c.replies(2), ['500 5.5.2 Error: command too long\r\n', '250 2.0.0 Ok\r\n']);
    // Longer than the socket chunk: arrives in pieces, discarded until its end.
    c.write(`EHLO ${'y'.repeat(200_000)}\r\n`);
    assert.equal(await c.reply(), '500 5.5.2 Error: command too long\r\n');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
    c.write(Buffer.from('NO\0OP\r\n'));
    assert.equal(await c.reply(), '500 5.5.2 Error: bad syntax\r\n');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
    // 510 octets plus CRLF = 512: exactly the limit, accepted.
    assert.equal(await c.send(`NOOP ${'z'.repeat(505)}`), '250 2.0.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

test('a flood of unknown commands ends with 421 4.7.0 too many errors', async () => {
  const h = await startServer({ maxErrors: 5 });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    c.write('X1\r\nX2\r\nX3\r\nX4\r\nX5\r\nX6\r\nX7\r\n');
    const r = await c.replies(6);
    assert.deepEqual(r.slice(0, 5).map(code), ['502', '502', '502', '502', '502']);
    assert.equal(r[5], '421 4.7.0 mx.test Error: too many errors\r\n');
    assert.ok(await c.waitClose());
  } finally {
    await h.stop();
  }
});

test('idle timeout → 421 4.4.2 and close', async () => {
  const h = await startServer({ idleTimeout: 1 });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    const t0 = Date.now();
    assert.equal(await c.reply(3000), '421 4.4.2 mx.test Error: timeout exceeded\r\n');
    assert.ok(Date.now() - t0 >= 900);
    assert.ok(await c.waitClose());
  } finally {
    await h.stop();
  }
});

test('connections per IP beyond the limit get 421 4.7.0 before any greeting', async () => {
  const h = await startServer({ maxConnectionsPerIp: 2 });
  try {
    const a = await RawClient.connect(h.port);
    const b = await RawClient.connect(h.port);
    await a.reply();
    await b.reply();
    const c = await RawClient.connect(h.port);
    assert.equal(await c.reply(), '421 4.7.0 mx.test Error: too many connections from your address, try again later\r\n');
    assert.ok(await c.waitClose());
    a.close();
    // Once a slot frees, a new connection is greeted.
    for (let i = 0; i < 50 && h.server.sessionCount() > 1; i++) await new Promise((r) => setTimeout(r, 10));
    const d = await RawClient.connect(h.port);
    assert.equal(code(await d.reply()), '220');
  } finally {
    await h.stop();
  }
});

test('handler exceptions become 451 4.3.0 and the session continues; verdict close is honoured', async () => {
  const handler = new RecordingHandler();
  handler.mailFrom = (_s, from) => {
    if (from.address === 'boom@example.org') throw new Error('bug');
    if (from.address === 'bye@example.org') return refuse(reply(421, '4.7.0', 'Go away'), true);
    if (from.address === 'crlf@example.org') return refuse(reply(550, '5.7.1', 'No\r\n250 2.0.0 Ok'));
    return accept();
  };
  const h = await startServer({}, { handler });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    assert.equal(await c.send('MAIL FROM:<boom@example.org>'), '451 4.3.0 Error: internal error\r\n');
    assert.ok(h.logger.records.some((r) => r.level === 'error' && r.phase === 'mailFrom'));
    assert.equal(await c.send('MAIL FROM:<ok@example.org>'), '250 2.1.0 Ok\r\n');
    await c.send('RSET');
    assert.equal(await c.send('MAIL FROM:<crlf@example.org>'), '550 5.7.1 No  250 2.0.0 Ok\r\n');
    assert.equal(await c.send('MAIL FROM:<bye@example.org>'), '421 4.7.0 Go away\r\n');
    assert.ok(await c.waitClose());
  } finally {
    await h.stop();
  }
});

test('close({drainMs}) lets a transaction finish, then says 421 4.3.2', async () => {
  const h = await startServer();
  const c = await RawClient.connect(h.port);
  const idle = await RawClient.connect(h.port);
  await c.reply();
  await idle.reply();
  await c.send('EHLO c');
  await c.send('MAIL FROM:<a@example.org>');
  const closing = h.server.close({ drainMs: 2000 });
  assert.equal(await idle.reply(), '421 4.3.2 mx.test Service shutting down\r\n');
  assert.equal(await c.send('RCPT TO:<b@example.org>'), '250 2.1.5 Ok\r\n');
  c.write('DATA\r\n');
  assert.equal(code(await c.reply()), '354');
  c.write('x\r\n.\r\n');
  assert.deepEqual(await c.replies(2), ['250 2.0.0 Ok\r\n', '421 4.3.2 mx.test Service shutting down\r\n']);
  await closing;
  assert.equal(h.server.sessionCount(), 0);
});

test('maxSessionTime ends even a busy session with 421 4.4.2', async () => {
  const h = await startServer({ maxSessionTime: 1, idleTimeout: 300 });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < 3000 && !last.startsWith('421')) last = await c.send('NOOP');
    assert.equal(last, '421 4.4.2 mx.test Error: timeout exceeded\r\n');
    assert.ok(Date.now() - t0 >= 900);
    assert.ok(await c.waitClose());
  } finally {
    await h.stop();
  }
});
