// STARTTLS, implicit TLS and SASL framing, over real sockets with a throwaway certificate.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { accept } from '../core/index.ts';
import { needTools } from '../../test/lib/tools.ts';
import { sClientScript } from '../../test/lib/openssl.ts';
import { RecordingHandler, code, ehloKeywords, startServer, testCert } from './testkit.ts';
import { RawClient } from '../../test/lib/smtpclient.ts';
import type { SessionInfo, TlsInfo } from './index.ts';

const skip = needTools('openssl');
let ctx: SecureContext;
before(() => {
  if (!skip) ctx = testCert().context;
});

const submission = { tls: 'starttls', requireTls: true, authRequiresTls: true } as const;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('587: keywords before/after STARTTLS, 530 before TLS, state forgotten after TLS', { skip }, async () => {
  const handler = new RecordingHandler();
  const seen: Array<TlsInfo | null> = [];
  handler.helo = (s: SessionInfo) => {
    seen.push(s.tls);
    return accept();
  };
  const h = await startServer(submission, { handler, secureContext: ctx });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    const before = ehloKeywords(await c.send('EHLO c'));
    assert.ok(before.includes('STARTTLS'));
    assert.ok(!before.includes('AUTH'), 'no AUTH before TLS');
    assert.equal(await c.send('MAIL FROM:<a@example.org>'), '530 5.7.0 Must issue a STARTTLS command first\r\n');
    assert.equal(await c.send(`AUTH PLAIN ${b64('\0user\0pass')}`), '530 5.7.0 Must issue a STARTTLS command first\r\n');
    assert.equal(h.handler.authInputs.length, 0);
    assert.ok(!h.handler.calls.some((x) => x.startsWith('authStart')));
    assert.equal(await c.send('STARTTLS x'), '501 5.5.4 Syntax: STARTTLS\r\n');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
    assert.equal(await c.send('STARTTLS'), '220 2.0.0 Ready to start TLS\r\n');
    await c.starttls();
    assert.equal(await c.send('MAIL FROM:<a@example.org>'), '503 5.5.1 Error: send HELO/EHLO first\r\n');
    const after = ehloKeywords(await c.send('EHLO c'));
    assert.ok(!after.includes('STARTTLS'));
    assert.ok(after.includes('AUTH'));
    assert.equal(seen[0], null);
    assert.match(seen[1]!.protocol, /^TLSv1\.[23]$/);
    assert.match(seen[1]!.cipher, /^TLS_/);
    assert.equal(await c.send('STARTTLS'), '503 5.5.1 Error: TLS already active\r\n');
    assert.equal(await c.send(`AUTH PLAIN ${b64('\0user\0pass')}`), '235 2.7.0 Authentication successful\r\n');
    assert.equal(await c.send('MAIL FROM:<a@example.org>'), '250 2.1.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

test('STARTTLS injection: plaintext after STARTTLS is discarded (CVE-2011-0411)', { skip }, async () => {
  const h = await startServer({ ...submission, requireTls: false, forbidUnauthPipelining: false }, { secureContext: ctx });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO t');
    c.write('STARTTLS\r\nRSET\r\n');
    assert.equal(await c.reply(), '220 2.0.0 Ready to start TLS\r\n');
    await c.starttls();
    assert.equal(await c.collect(1000), '', 'a reply to injected plaintext arrived');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

test('STARTTLS without a TLS context → 454 4.7.0', async () => {
  const h = await startServer({ tls: 'starttls' });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO t');
    assert.equal(await c.send('STARTTLS'), '454 4.7.0 TLS not available\r\n');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

test('465: greeting inside TLS, no STARTTLS keyword, plaintext junk closes', { skip }, async () => {
  const h = await startServer({ tls: 'implicit', authRequiresTls: true }, { secureContext: ctx });
  try {
    const c = await RawClient.connect(h.port, { tls: true });
    assert.equal(await c.reply(), '220 mx.test ESMTP portwarden\r\n');
    const kw = ehloKeywords(await c.send('EHLO c'));
    assert.ok(!kw.includes('STARTTLS'));
    assert.ok(kw.includes('AUTH'));
    assert.equal(await c.send('STARTTLS'), '503 5.5.1 Error: TLS already active\r\n');
    const p = await RawClient.connect(h.port);
    p.write('EHLO x\r\n');
    assert.ok(await p.waitClose());
    assert.doesNotMatch(await p.collect(0), /220|250/);
  } finally {
    await h.stop();
  }
});

test('TLS 1.2 and 1.3 work; TLS 1.1 is refused (Node client)', { skip }, async () => {
  const h = await startServer({ tls: 'implicit' }, { secureContext: ctx });
  try {
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      const c = await RawClient.connect(h.port, { tls: true, minVersion: v, maxVersion: v });
      assert.equal(code(await c.reply()), '220', v);
      c.close();
    }
    const old = await new Promise<string>((resolve) => {
      const s = tlsConnect({ port: h.port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      s.on('secureConnect', () => resolve(`connected ${s.getProtocol()}`));
      s.on('error', (e) => resolve(`error ${e.message}`));
    });
    assert.match(old, /^error/);
  } finally {
    await h.stop();
  }
});

function sClient(port: number, ...args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-starttls', 'smtp', '-crlf', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.stdin.end('QUIT\r\n');
    const t = setTimeout(() => p.kill(), 5000);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, out });
    });
  });
}

test('openssl s_client -starttls smtp: -tls1_1 fails, -tls1_2 and -tls1_3 succeed', { skip }, async () => {
  const h = await startServer({ tls: 'starttls', forbidUnauthPipelining: false }, { secureContext: ctx });
  try {
    // SECLEVEL=0 so that the client is willing and the refusal is the server's.
    const v11 = await sClient(h.port, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0');
    assert.notEqual(v11.status, 0, v11.out);
    assert.match(v11.out, /Cipher is \(NONE\)/);
    for (const v of ['-tls1_2', '-tls1_3']) {
      const r = await sClient(h.port, v);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /Protocol\s*:?\s*TLSv1\.[23]|New, TLSv1\.[23]/);
    }
  } finally {
    await h.stop();
  }
});

test('SASL framing: 503/504, 334, *, bad base64, long line, failure, server-final data', async () => {
  const h = await startServer({ tls: 'none', authRequiresTls: false, forbidUnauthPipelining: false });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    assert.equal(await c.send('AUTH PLAIN'), '503 5.5.1 Error: send HELO/EHLO first\r\n');
    await c.send('EHLO c');
    assert.equal(await c.send('AUTH CRAM-MD5'), '504 5.5.4 Unrecognized authentication type\r\n');
    assert.equal(await c.send('AUTH PLAIN'), '334 \r\n');
    assert.equal(await c.send('*'), '501 5.0.0 Authentication aborted\r\n');
    assert.equal(await c.send('AUTH PLAIN'), '334 \r\n');
    assert.equal(await c.send('not base64!'), '501 5.5.2 Cannot decode response\r\n');
    assert.equal(await c.send('AUTH PLAIN'), '334 \r\n');
    assert.equal(await c.send('A'.repeat(13_000)), '500 5.5.6 Authentication Exchange line is too long\r\n');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
    assert.equal(await c.send('AUTH PLAIN AHVzZXI=x'), '501 5.5.2 Cannot decode response\r\n');
    assert.equal(await c.send(`AUTH PLAIN ${b64('\0user\0wrong')}`), '535 5.7.8 Error: authentication failed\r\n');
    assert.equal(await c.send('AUTH PLAIN ='), '535 5.7.8 Error: authentication failed\r\n');
    assert.equal(h.handler.authInputs.at(-1)?.length, 0, "'=' is an empty initial response");
    await c.send('MAIL FROM:<a@example.org>');
    assert.equal(await c.send('AUTH PLAIN'), '503 5.5.1 Error: MAIL transaction in progress\r\n');
    await c.send('RSET');
    assert.equal(await c.send('AUTH SCRAMLIKE'), `334 ${b64('first-challenge')}\r\n`);
    assert.equal(await c.send(b64('proof')), `334 ${b64('v=server-final')}\r\n`);
    assert.equal(await c.send(''), '235 2.7.0 Authentication successful\r\n');
    assert.equal(await c.send('AUTH PLAIN'), '503 5.5.1 Error: already authenticated\r\n');
    const kw = ehloKeywords(await c.send('EHLO again'));
    assert.ok(!kw.includes('AUTH'), 'AUTH hidden once authenticated');
    // Credentials never reach the log.
    const log = JSON.stringify(h.logger.records);
    for (const secret of [b64('\0user\0wrong'), b64('proof'), 'AAAAAAAAAAAA']) assert.ok(!log.includes(secret), secret);
  } finally {
    await h.stop();
  }
});

test('a 12 288-octet AUTH line is accepted (RFC 4954 §4)', async () => {
  const h = await startServer({ tls: 'none', authRequiresTls: false });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    const resp = b64(`\0user\0${'p'.repeat(9000)}`);
    const line = `AUTH PLAIN ${resp}`;
    assert.ok(line.length + 2 <= 12_288);
    assert.equal(await c.send(line), '535 5.7.8 Error: authentication failed\r\n');
  } finally {
    await h.stop();
  }
});

test('authRequiresTls on a plain-port listener: AUTH hidden and refused with 530', async () => {
  const h = await startServer({ tls: 'starttls', authRequiresTls: true, requireTls: false });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    assert.ok(!ehloKeywords(await c.send('EHLO c')).includes('AUTH'));
    assert.equal(await c.send(`AUTH PLAIN ${b64('\0user\0pass')}`), '530 5.7.0 Must issue a STARTTLS command first\r\n');
    assert.equal(h.handler.authInputs.length, 0);
    assert.equal(await c.send('MAIL FROM:<a@example.org>'), '250 2.1.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

test('a TLS handshake that never starts is closed after tlsHandshakeTimeout', { skip }, async () => {
  const h = await startServer({ tls: 'implicit', tlsHandshakeTimeout: 1 }, { secureContext: ctx });
  try {
    const c = await RawClient.connect(h.port);
    const t0 = Date.now();
    assert.ok(await c.waitClose(3000));
    assert.ok(Date.now() - t0 >= 900);
    for (let i = 0; i < 100 && h.server.sessionCount() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(h.server.sessionCount(), 0);
  } finally {
    await h.stop();
  }
});

test('client-initiated renegotiation is refused on 465 and after STARTTLS, whatever the context allows', { skip }, async () => {
  // The test context is a plain createSecureContext: nothing in it refuses renegotiation, so
  // the refusal must come from the engine's own socket (the hand-wrapped TLSSocket).
  const implicit = await startServer({ tls: 'implicit', forbidUnauthPipelining: false }, { secureContext: ctx });
  const starttls = await startServer({ tls: 'starttls', forbidUnauthPipelining: false }, { secureContext: ctx });
  try {
    for (const [name, h, st] of [['465', implicit, false], ['587', starttls, true]] as const) {
      const r = await sClientScript(h.port, { starttls: st, args: ['-tls1_2'], lines: ['R', 'R', 'R', 'NOOP', 'QUIT'] });
      assert.match(r.out, /RENEGOTIATING/, `${name}: the client asked to renegotiate\n${r.out}`);
      assert.equal(r.handshakes, 1, `${name}: renegotiations accepted: ${r.handshakes - 1}\n${r.out}`);
      assert.doesNotMatch(r.out, /^250 2\.0\.0 Ok/m, `${name}: the session went on after a renegotiation attempt`);
      for (let i = 0; i < 100 && h.server.sessionCount() > 0; i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(h.server.sessionCount(), 0, `${name}: session closed`);
      assert.ok(h.logger.records.some((x) => /renegotiation/.test(String(x.msg))), `${name}: logged`);
    }
  } finally {
    await implicit.stop();
    await starttls.stop();
  }
});
