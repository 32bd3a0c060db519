// End to end with real mail clients: swaks, curl, Python smtplib, openssl
// s_client, msmtp (SCRAM-SHA-256 via GNU SASL), mutt; what portwarden relays is
// checked byte-exact at a raw capture sink.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink, hasOnlyCrlf } from '../lib/sink.ts';
import { Portwarden, startWithSink, run } from '../lib/portwarden.ts';
import { needTools } from '../lib/tools.ts';

const skip = needTools('swaks', 'curl', 'python3', 'openssl', 'msmtp', 'mutt');
const PW = 'correct horse battery staple';

describe('real clients submit through portwarden', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({
      accounts: [
        { login: 'alice@isp.example', password: PW, subscriber: 'cust-1001', addresses: ['a.smith@isp.example'] },
        { login: 'bob@isp.example', password: 'bobs-password', subscriber: 'cust-1002' },
        { login: 'carol@isp.example', password: 'carols-password', disabled: true },
      ],
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  const swaks = (args: string[]) => run('swaks', ['--server', '127.0.0.1', '--timeout', '15', ...args]);

  function newest(n: number): Buffer {
    return sink.messages[n - 1].raw;
  }

  test('swaks: STARTTLS + AUTH PLAIN on submission; the relayed copy carries trace and fixups', async () => {
    const before = sink.messages.length;
    const r = await swaks(['--port', String(pw.port('submission')), '--tls', '--auth', 'PLAIN',
      '--auth-user', 'alice@isp.example', '--auth-password', PW,
      '--from', 'alice@isp.example', '--to', 'dave@example.net',
      '--header', 'Bcc: hidden@example.net', '--header', 'Return-Path: <forged@example.org>',
      '--header', 'Message-Id: not a message id',
      '--body', 'hello from swaks']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /<~ {2}250 2\.0\.0 Ok: queued as (\S+)/);
    const queueId = /queued as (\S+)/.exec(r.stdout)![1];
    await sink.waitFor(before + 1);
    const raw = newest(before + 1);
    const text = raw.toString('latin1');
    assert.ok(hasOnlyCrlf(raw), 'only CRLF line endings');
    const headers = text.slice(0, text.indexOf('\r\n\r\n'));
    assert.match(headers.split('\r\n')[0], /^Received: from /);
    const received = headers.match(/^Received:(?:.*\r\n[ \t].*)*/m)![0].replace(/\r\n[ \t]+/g, ' ');
    assert.match(received, /with ESMTPSA id /);
    assert.match(received, new RegExp(`id ${queueId}\\b`));
    assert.match(received, /TLSv1\.[23]/);
    assert.match(received, /alice@isp\.example/);
    assert.equal(headers.match(/^Message-ID:/gim)?.length, 1);
    assert.match(headers, /^Message-ID: <[^@\s]+@msa\.isp\.example>/im);
    assert.doesNotMatch(headers, /^Bcc:/im);
    assert.doesNotMatch(headers, /^Return-Path:/im);
    assert.match(text, /hello from swaks/);
    assert.equal(sink.messages[before].mailFrom.startsWith('<alice@isp.example>'), true);
    // one log line per transaction with the accountability fields
    const tx = pw.logsOf('transaction').find((l) => l.queueId === queueId)!;
    assert.equal(tx.account, 'alice@isp.example');
    assert.equal(tx.ip, '127.0.0.1');
    assert.equal(typeof tx.port, 'number');
    assert.equal(tx.mechanism, 'PLAIN');
    assert.match(String(tx.tls), /^TLSv1\.[23]$/);
    assert.equal(tx.recipients, 1);
    assert.equal(tx.verdict, 'accepted');
  });

  test('swaks: implicit TLS on submissions with AUTH LOGIN and an alias address, pipelined', async () => {
    const before = sink.messages.length;
    const r = await swaks(['--port', String(pw.port('submissions')), '--tls-on-connect', '--pipeline',
      '--auth', 'LOGIN', '--auth-user', 'alice@isp.example', '--auth-password', PW,
      '--from', 'a.smith@isp.example', '--header', 'From: A. Smith <a.smith@isp.example>',
      '--to', 'one@example.net,two@example.org']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await sink.waitFor(before + 1);
    assert.deepEqual(sink.messages[before].rcptTo.sort(), ['one@example.net', 'two@example.org']);
  });

  test('curl: SMTP client with --ssl-reqd and a file upload', async () => {
    const before = sink.messages.length;
    const file = join(pw.dir, 'curl-msg.eml');
    writeFileSync(file, 'From: Bob <bob@isp.example>\r\nTo: eve@example.net\r\nSubject: from curl\r\n\r\nbody line\r\n.leading dot\r\n');
    const r = await run('curl', ['-sS', '--url', `smtp://127.0.0.1:${pw.port('submission')}`, '--ssl-reqd', '-k',
      '--mail-from', 'bob@isp.example', '--mail-rcpt', 'eve@example.net', '--user', 'bob@isp.example:bobs-password',
      '--upload-file', file]);
    assert.equal(r.code, 0, r.stderr);
    await sink.waitFor(before + 1);
    const text = sink.messages[before].raw.toString('latin1');
    assert.match(text, /Subject: from curl/);
    // dot-stuffing survives both hops: the sink sees the stuffed form on the wire
    assert.match(text, /\r\n\.\.leading dot\r\n/);
    assert.match(text, /^Date: /m, 'Date added when missing');
  });

  test('Python smtplib: starttls, login, send_message', async () => {
    const before = sink.messages.length;
    const script = `
import smtplib, ssl, sys
from email.message import EmailMessage
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = EmailMessage(); m['From'] = 'alice@isp.example'; m['To'] = 'frank@example.net'; m['Subject'] = 'smtplib'
m.set_content('sent by smtplib')
with smtplib.SMTP('127.0.0.1', ${pw.port('submission')}, timeout=15) as s:
    s.ehlo(); s.starttls(context=ctx); s.ehlo()
    assert 'starttls' not in s.esmtp_features, s.esmtp_features
    assert 'auth' in s.esmtp_features
    s.login('alice@isp.example', ${JSON.stringify(PW)})
    s.send_message(m)
    try:
        s.sendmail('bob@isp.example', ['x@example.net'], 'From: bob@isp.example\\r\\n\\r\\nx')
        print('UNEXPECTED ACCEPT'); sys.exit(3)
    except smtplib.SMTPSenderRefused as e:
        print('refused', e.smtp_code, e.smtp_error.decode())
`;
    const r = await run('python3', ['-c', script]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /refused 550 5\.7\.1 Sender address rejected/);
    await sink.waitFor(before + 1);
    assert.match(sink.messages[before].raw.toString('latin1'), /sent by smtplib/);
  });

  test('openssl s_client: TLS 1.2 and 1.3 accepted, 1.1 refused; after STARTTLS no STARTTLS, AUTH offered', async () => {
    const port = String(pw.port('submission'));
    for (const v of ['-tls1_2', '-tls1_3']) {
      const r = await run('openssl', ['s_client', '-starttls', 'smtp', '-crlf', '-quiet', v, '-connect', `127.0.0.1:${port}`], { input: 'EHLO x.example\nQUIT\n', timeout: 15000 });
      assert.match(r.stdout, /^250[- ]AUTH [A-Z0-9 -]*PLAIN/m, `${v}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, /STARTTLS/);
    }
    // SECLEVEL=0 lets this openssl offer TLS 1.1 at all, so the refusal is the server's.
    const old = await run('openssl', ['s_client', '-starttls', 'smtp', '-crlf', '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-connect', `127.0.0.1:${port}`], { input: 'QUIT\n', timeout: 15000 });
    assert.notEqual(old.code, 0);
    assert.match(old.stdout, /Cipher is \(NONE\)/);
    assert.match(old.stderr, /alert protocol version|unsupported protocol|no protocols available/i);
    const implicit = await run('openssl', ['s_client', '-crlf', '-quiet', '-connect', `127.0.0.1:${pw.port('submissions')}`], { input: 'EHLO x.example\nQUIT\n', timeout: 15000 });
    assert.match(implicit.stdout, /^220 /m);
    assert.doesNotMatch(implicit.stdout, /STARTTLS/);
  });

  test('msmtp: SCRAM-SHA-256 over STARTTLS (GNU SASL client)', async () => {
    const before = sink.messages.length;
    const r = await run('msmtp', ['--host=127.0.0.1', `--port=${pw.port('submission')}`, '--tls=on', '--tls-starttls=on',
      '--tls-certcheck=off', '--auth=scram-sha-256', '--user=alice@isp.example', `--passwordeval=echo '${PW}'`,
      '--from=alice@isp.example', 'grace@example.net'], { input: 'From: alice@isp.example\nTo: grace@example.net\nSubject: scram\n\nvia msmtp\n' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await sink.waitFor(before + 1);
    assert.match(sink.messages[before].raw.toString('latin1'), /Subject: scram/);
    assert.ok(pw.logsOf('auth').some((l) => l.mechanism === 'SCRAM-SHA-256' && l.outcome === 'success'));
  });

  test('mutt: a real mail client sends over smtps', async () => {
    const before = sink.messages.length;
    const rc = join(pw.dir, 'muttrc');
    writeFileSync(rc, [
      `set smtp_url = "smtps://alice@isp.example@127.0.0.1:${pw.port('submissions')}/"`,
      `set smtp_pass = "${PW}"`,
      'set from = "alice@isp.example"',
      'set ssl_verify_host = no',
      'set ssl_verify_dates = no',
      `set certificate_file = "${join(pw.dir, 'data', 'tls', 'cert.pem')}"`, // trust the server's self-signed certificate
      'set ssl_force_tls = yes',
      'set record = ""',
      'set copy = no',
      'unset use_domain',
    ].join('\n') + '\n');
    const r = await run('mutt', ['-n', '-F', rc, '-s', 'from mutt', 'heidi@example.net'], { input: 'hello from mutt\n', env: { ...process.env, HOME: pw.dir, TERM: 'dumb' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await sink.waitFor(before + 1);
    assert.match(sink.messages[before].raw.toString('latin1'), /Subject: from mutt/);
  });

  test('refusals with their exact codes: no AUTH, wrong password, disabled account, header From not owned', async () => {
    const port = String(pw.port('submission'));
    const noAuth = await swaks(['--port', port, '--tls', '--from', 'alice@isp.example', '--to', 'x@example.net']);
    assert.match(noAuth.stdout, /<~?\*\*? 530 5\.7\.0 Authentication required/);
    const wrong = await swaks(['--port', port, '--tls', '--auth', 'PLAIN', '--auth-user', 'alice@isp.example', '--auth-password', 'nope', '--to', 'x@example.net']);
    assert.match(wrong.stdout, /<~?\*\*? 535 5\.7\.8 /);
    const unknown = await swaks(['--port', port, '--tls', '--auth', 'PLAIN', '--auth-user', 'nobody@isp.example', '--auth-password', 'nope', '--to', 'x@example.net']);
    assert.match(unknown.stdout, /<~?\*\*? 535 5\.7\.8 /);
    assert.equal(/<~?\*\*? (535 .*)/.exec(unknown.stdout)![1], /<~?\*\*? (535 .*)/.exec(wrong.stdout)![1], 'no account enumeration');
    const disabled = await swaks(['--port', port, '--tls', '--auth', 'PLAIN', '--auth-user', 'carol@isp.example', '--auth-password', 'carols-password', '--to', 'x@example.net']);
    assert.match(disabled.stdout, /<~?\*\*? 525 5\.7\.13 .*https?:\/\//);
    const forged = await swaks(['--port', port, '--tls', '--auth', 'PLAIN', '--auth-user', 'bob@isp.example', '--auth-password', 'bobs-password',
      '--from', 'bob@isp.example', '--header', 'From: CEO <alice@isp.example>', '--to', 'x@example.net']);
    assert.match(forged.stdout, /<~?\*\*? 550 5\.7\.1 Header address <alice@isp\.example> rejected/);
  });
});
