// Byte-exact transcripts of bad input against the real server, each with its
// exact reply and the session staying in sync; what reaches the next hop is
// checked at a raw capture sink.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink, hasOnlyCrlf } from '../lib/sink.ts';
import { Portwarden, startWithSink } from '../lib/portwarden.ts';
import { RawClient, authedClient, plainAuth, b64 } from '../lib/smtpclient.ts';
import { until } from '../lib/tools.ts';

const USER = 'alice@isp.example';
const PASS = 'alice-secret-1';

describe('bad input through the whole MSA', () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({
      accounts: [{ login: USER, password: PASS, subscriber: 'cust-1' }],
      smtpYaml: 'idleTimeout: 2\npreAuthIdleTimeout: 2\nmaxErrors: 10\nmaxMessageSize: 200000',
      listeners: [
        { name: 'submission', tls: 'starttls' },
        { name: 'submissions', tls: 'implicit' },
        { name: 'lenient', tls: 'starttls', bareLf: 'normalize' },
      ],
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  const sub = () => pw.port('submission');
  const msg = (subject: string, body = 'body') => `From: ${USER}\r\nTo: x@example.net\r\nSubject: ${subject}\r\n\r\n${body}\r\n`;

  async function sessionOf(clientPort: number): Promise<string> {
    await until(() => pw.logs.some((l) => l.msg === 'connect' && l.port === clientPort), `the connect line of port ${clientPort}`);
    return String(pw.logs.find((l) => l.msg === 'connect' && l.port === clientPort)!.session);
  }

  async function envelope(c: RawClient, rcpts = ['x@example.net']): Promise<void> {
    assert.equal((await c.cmd(`MAIL FROM:<${USER}>`)).code, 250);
    for (const r of rcpts) assert.equal((await c.cmd(`RCPT TO:<${r}>`)).code, 250);
  }

  test('MAIL before STARTTLS → 530; AUTH before TLS → 530 and is not advertised', async () => {
    const c = await RawClient.connect(sub());
    await c.read();
    const ehlo = await c.cmd('EHLO c.example');
    assert.ok(ehlo.lines.some((l) => /STARTTLS/.test(l)));
    assert.ok(!ehlo.lines.some((l) => /AUTH/.test(l)), 'no AUTH before TLS');
    assert.match((await c.cmd(`MAIL FROM:<${USER}>`)).lines[0], /^530 5\.7\.0 Must issue a STARTTLS command first/);
    assert.match((await c.cmd(`AUTH PLAIN ${plainAuth(USER, PASS)}`)).lines[0], /^530 5\.7\.0/);
    assert.match((await c.cmd('STARTTLS x')).lines[0], /^501 5\.5\.4/);
    const port = c.localPort;
    c.close();
    // This session's id, from the engine's connect line (the log names the client port), and
    // every line of it once it has ended: no SASL exchange may have judged the credentials sent
    // before TLS, whatever its outcome.
    const id = await sessionOf(port);
    await until(() => pw.logs.some((l) => l.session === id && l.msg === 'disconnect'), 'the session to end');
    const judged = pw.logs.filter((l) => l.session === id && (l.event === 'auth' || l.msg === 'authenticated' || l.msg === 'authentication failed'));
    assert.deepEqual(judged, [], 'no credentials judged');
  });

  test('STARTTLS with a command pipelined behind it: the plaintext RSET is discarded (CVE-2011-0411)', async () => {
    const c = await RawClient.connect(sub());
    await c.read();
    await c.cmd('EHLO c.example');
    c.write('STARTTLS\r\nRSET\r\n');
    assert.equal((await c.read()).code, 220);
    await c.starttls();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(c.pending, '', 'no reply to the injected RSET');
    const r = await c.cmd(`MAIL FROM:<${USER}>`);
    assert.match(r.lines[0], /^503 5\.5\.1 .*EHLO/, 'state before TLS is forgotten');
    c.close();
  });

  test('AUTH: invalid base64 → 501, wrong password → 535 5.7.8, then success; MAIL before AUTH → 530', async () => {
    const c = await RawClient.connect(pw.port('submissions'), { tls: true });
    await c.read();
    await c.cmd('EHLO c.example');
    assert.match((await c.cmd(`MAIL FROM:<${USER}>`)).lines[0], /^530 5\.7\.0 Authentication required/);
    assert.match((await c.cmd('AUTH PLAIN !!!notbase64')).lines[0], /^501 5\.5\.2/);
    assert.match((await c.cmd(`AUTH PLAIN ${plainAuth(USER, 'wrong')}`)).lines[0], /^535 5\.7\.8/);
    assert.equal((await c.cmd('AUTH LOGIN')).code, 334);
    assert.equal((await c.cmd(b64(USER))).code, 334);
    assert.match((await c.cmd(b64(PASS))).lines[0], /^235 2\.7\.0/);
    assert.match((await c.cmd(`AUTH PLAIN ${plainAuth(USER, PASS)}`)).lines[0], /^503 5\.5\.1/);
    c.close();
  });

  test('a 600-octet command → 500 5.5.2 and the session stays in sync', async () => {
    const c = await authedClient(sub(), USER, PASS);
    assert.match((await c.cmd(`MAIL FROM:<${'a'.repeat(590)}@isp.example>`)).lines[0], /^500 5\.5\.2/);
    assert.equal((await c.cmd('NOOP')).code, 250);
    c.close();
  });

  test('a 5000-octet body line → 554 5.6.0, nothing relayed, RSET works', async () => {
    const before = sink.messages.length;
    const c = await authedClient(sub(), USER, PASS);
    await envelope(c);
    assert.equal((await c.cmd('DATA')).code, 354);
    c.write(`${msg('long', 'x'.repeat(5000))}.\r\n`);
    assert.match((await c.read()).lines[0], /^554 5\.6\.0/);
    assert.equal((await c.cmd('RSET')).code, 250);
    c.close();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.messages.length, before);
  });

  test('NUL in a header → 554 5.6.0', async () => {
    const c = await authedClient(sub(), USER, PASS);
    await envelope(c);
    await c.cmd('DATA');
    c.write(`From: ${USER}\r\nSubject: a\0b\r\n\r\nx\r\n.\r\n`);
    assert.match((await c.read()).lines[0], /^554 5\.6\.0/);
    c.close();
  });

  test('non-ASCII address without SMTPUTF8 → 553 5.6.7; with it → 250', async () => {
    const c = await authedClient(sub(), USER, PASS);
    assert.match((await c.cmd('MAIL FROM:<jörg@isp.example>')).lines[0], /^553 5\.6\.7/);
    assert.equal((await c.cmd(`MAIL FROM:<${USER}> SMTPUTF8`)).code, 250);
    assert.equal((await c.cmd('RCPT TO:<jörg@example.net>')).code, 250);
    c.close();
  });

  test('declared oversize → 552 5.3.4; actual oversize → 552 5.3.4 at the dot, then RSET → 250', async () => {
    const c = await authedClient(sub(), USER, PASS);
    assert.match((await c.cmd(`MAIL FROM:<${USER}> SIZE=999999999`)).lines[0], /^552 5\.3\.4/);
    await envelope(c);
    await c.cmd('DATA');
    const line = `${'y'.repeat(70)}\r\n`;
    c.write(`${msg('big', line.repeat(4000))}.\r\n`);
    assert.match((await c.read(10000)).lines[0], /^552 5\.3\.4/);
    assert.equal((await c.cmd('RSET')).code, 250);
    c.close();
  });

  test('101 recipients: 100 accepted, the 101st gets 452 4.5.3', async () => {
    const c = await authedClient(sub(), USER, PASS);
    assert.equal((await c.cmd(`MAIL FROM:<${USER}>`)).code, 250);
    for (let i = 0; i < 100; i++) assert.equal((await c.cmd(`RCPT TO:<r${i}@example.net>`)).code, 250);
    assert.match((await c.cmd('RCPT TO:<r100@example.net>')).lines[0], /^452 4\.5\.3/);
    c.close();
  });

  test('a flood of unknown commands → 421 and close', async () => {
    const c = await RawClient.connect(sub());
    await c.read();
    let last = 0;
    for (let i = 0; i < 20 && !c.closed; i++) {
      try { last = (await c.cmd(`XYZZY${i}`)).code; } catch { break; }
      if (last === 421) break;
    }
    assert.equal(last, 421);
    assert.ok(await c.waitClose());
  });

  test('idle timeout → 421 4.4.2 and close', async () => {
    const c = await RawClient.connect(sub());
    await c.read();
    const r = await c.read(5000);
    assert.match(r.lines[0], /^421 4\.4\.2/);
    assert.ok(await c.waitClose());
  });

  test('open-relay tricks are refused without AUTH', async () => {
    const c = await RawClient.connect(sub());
    await c.read();
    await c.cmd('EHLO c.example');
    await c.cmd('STARTTLS');
    await c.starttls();
    await c.cmd('EHLO c.example');
    for (const rcpt of ['<victim@example.net>', '<victim%example.net@isp.example>', '<example.net!victim@isp.example>',
      '<@isp.example:victim@example.net>', '<"victim@example.net"@isp.example>']) {
      const m = await c.cmd('MAIL FROM:<spammer@example.org>');
      assert.equal(m.code, 530, `MAIL for ${rcpt}`);
      const r = await c.cmd(`RCPT TO:${rcpt}`);
      assert.ok(r.code >= 500, `${rcpt} → ${r.lines[0]}`);
    }
    c.close();
  });

  const SMUGGLE = ['\n.\n', '\n.\r\n', '\r.\r', '\r.\r\n', '\r\n.\n', '\r\n.\r', '\r.\n', '\n.\r', '\r\n\0.\r\n'];
  for (const listener of ['submission', 'lenient'] as const) {
    test(`SMTP smuggling (${listener}): none of the nine endings ends DATA; at most one message, never a bare CR/LF relayed`, async () => {
      for (const ending of SMUGGLE) {
        const before = sink.messages.length;
        const c = await authedClient(pw.port(listener), USER, PASS);
        await envelope(c);
        assert.equal((await c.cmd('DATA')).code, 354);
        c.write(`${msg('smuggle', 'A')}${ending}MAIL FROM:<${USER}>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nFrom: ${USER}\r\n\r\nsmuggled\r\n\r\n.\r\n`);
        const r = await c.read();
        assert.ok([250, 550, 554].includes(r.code), `${JSON.stringify(ending)}: ${r.lines[0]}`);
        // nothing answers the smuggled commands
        await new Promise((res) => setTimeout(res, 150));
        assert.equal(c.pending, '', `${JSON.stringify(ending)}: extra replies ${JSON.stringify(c.pending)}`);
        c.close();
        if (r.code === 250) {
          await sink.waitFor(before + 1);
          const got = sink.messages.slice(before);
          assert.equal(got.length, 1, `${JSON.stringify(ending)}: one message`);
          assert.ok(hasOnlyCrlf(got[0].raw), `${JSON.stringify(ending)}: relayed with bare CR/LF`);
          assert.deepEqual(got[0].rcptTo, ['x@example.net']);
        }
      }
    });
  }

  test('bare LF on 587 (reject policy) → 550 5.5.2 after the dot', async () => {
    const c = await authedClient(sub(), USER, PASS);
    await envelope(c);
    await c.cmd('DATA');
    c.write(`From: ${USER}\r\nSubject: x\nbody\r\n.\r\n`);
    assert.match((await c.read()).lines[0], /^550 5\.5\.2/);
    assert.equal((await c.cmd('NOOP')).code, 250);
    c.close();
  });
});
