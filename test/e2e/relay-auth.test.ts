// The real server relaying to a smarthost that wants AUTH (issue 10, item 15):
// credentials go out only inside STARTTLS whose certificate the relay verified
// (here against relay.caFile), and a config that would send them otherwise
// does not start. The next hop is a STARTTLS capture sink with a self-signed
// certificate for 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden } from '../lib/portwarden.ts';
import { authedClient } from '../lib/smtpclient.ts';
import { loopbackCert } from '../lib/cert.ts';
import { needTools, until } from '../lib/tools.ts';

const skip = needTools('openssl');
const ACCOUNT = { login: 'kim@isp.example', password: 'kims-long-password' };
const PLAIN = `AUTH PLAIN ${Buffer.from('\0relay@isp.example\0relay-secret').toString('base64')}`;

async function submit(pw: Portwarden): Promise<string> {
  const c = await authedClient(pw.port('submissions'), ACCOUNT.login, ACCOUNT.password, { implicit: true });
  try {
    assert.equal((await c.cmd(`MAIL FROM:<${ACCOUNT.login}>`)).code, 250);
    assert.equal((await c.cmd('RCPT TO:<lee@example.net>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    const r = await c.cmd(`From: <${ACCOUNT.login}>\r\nTo: <lee@example.net>\r\nSubject: via smarthost\r\n\r\nhi\r\n.`);
    assert.equal(r.code, 250, r.text);
    return /queued as (\S+)/.exec(r.text)![1];
  } finally {
    c.close();
  }
}

test('relay credentials: withheld when the certificate is not trusted; sent inside STARTTLS verified with caFile; refused config', { skip, timeout: 60_000 }, async (t) => {
  // Self-signed for 127.0.0.1 (and localhost): untrusted unless given as caFile.
  const pair = loopbackCert('smarthost.test');
  t.after(() => pair.remove());
  const caFile = pair.certFile;
  const sink = await CaptureSink.start({ tls: pair, extensions: ['PIPELINING', 'AUTH PLAIN'], reply: (l) => (l.startsWith('AUTH ') ? '235 2.7.0 ok' : undefined) });
  t.after(() => sink.close());
  const creds = 'user: relay@isp.example\npassword: relay-secret';

  const untrusting = new CaptureSink({ tls: pair, extensions: ['PIPELINING', 'AUTH PLAIN'], reply: (l) => (l.startsWith('AUTH ') ? '235 2.7.0 ok' : undefined) });
  await untrusting.listen();
  t.after(() => untrusting.close());
  const noCa = await Portwarden.start({ smarthost: `127.0.0.1:${untrusting.port}`, relayYaml: creds, accounts: [ACCOUNT] });
  t.after(() => noCa.destroy());
  const id = await submit(noCa);
  await until(() => noCa.logs.some((l) => l.queueId === id && l.status === 'deferred'), 'deferral', 10_000);
  const d = noCa.logs.find((l) => l.queueId === id && l.status === 'deferred')!;
  assert.match(String(d.reply), /^451 4\.4\.1 .*STARTTLS failed: self-signed certificate/);
  assert.ok(untrusting.commands.includes('STARTTLS'));
  assert.equal(untrusting.commands.some((l) => l.startsWith('AUTH')), false, 'no AUTH line reached the hop');
  assert.equal(untrusting.messages.length, 0);

  const trusted = await Portwarden.start({ smarthost: `127.0.0.1:${sink.port}`, relayYaml: `${creds}\ncaFile: ${JSON.stringify(caFile)}`, accounts: [ACCOUNT] });
  t.after(() => trusted.destroy());
  await submit(trusted);
  await until(() => sink.messages.length === 1, 'delivery', 10_000);
  assert.equal(sink.messages[0].tls, true);
  const auth = sink.commands.indexOf(PLAIN);
  assert.ok(auth > sink.commands.indexOf('STARTTLS') && sink.commands.indexOf('STARTTLS') >= 0, sink.commands.join('\n'));
  assert.match(sink.messages[0].mail, / AUTH=kim@isp\.example$/);

  await assert.rejects(
    Portwarden.start({ smarthost: `127.0.0.1:${sink.port}`, relayYaml: `${creds}\nverifyCertificate: false` }),
    /portwarden\.yaml:\d+:\d+: relay\.verifyCertificate: must be true when relay credentials are set/);
});
