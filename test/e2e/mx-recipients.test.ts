// MX mode refuses address-literal recipients at RCPT (issue 10, item 15), so
// the subscriber learns at once instead of from a bounce: a direct-delivery
// MSA must not be a way to make the ISP's relay connect to any address a
// customer names. Smarthost mode leaves literals to the smarthost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Portwarden } from '../lib/portwarden.ts';
import { authedClient } from '../lib/smtpclient.ts';

const ACCOUNT = { login: 'jo@isp.example', password: 'jos-long-password' };

async function rcpts(pw: Portwarden, to: string[]): Promise<string[]> {
  const c = await authedClient(pw.port('submissions'), ACCOUNT.login, ACCOUNT.password, { implicit: true });
  try {
    assert.equal((await c.cmd(`MAIL FROM:<${ACCOUNT.login}>`)).code, 250);
    const out: string[] = [];
    for (const a of to) { const r = await c.cmd(`RCPT TO:<${a}>`); out.push(`${r.code} ${r.text}`); }
    await c.cmd('RSET'); // nothing is sent: in MX mode an accepted message would look up real DNS
    await c.cmd('QUIT');
    return out;
  } finally {
    c.close();
  }
}

const LITERALS = ['user@[192.0.2.1]', 'user@[8.8.8.8]', 'user@[IPv6:2001:db8::1]', 'user@[ipv6:::1]'];

test('MX mode: address-literal recipients get 550 5.1.2 at RCPT; domains are accepted', { timeout: 30_000 }, async (t) => {
  const pw = await Portwarden.start({ smarthost: '127.0.0.1:9', relayYaml: 'mode: mx', accounts: [ACCOUNT] });
  t.after(() => pw.destroy());
  const replies = await rcpts(pw, [...LITERALS, 'someone@example.net']);
  for (const r of replies.slice(0, LITERALS.length)) assert.match(r, /^550 5\.1\.2 Recipient address rejected: address literals are not accepted/);
  assert.match(replies[LITERALS.length], /^250 /);
});

test('MX mode in a lab (allowPrivateDestinations) and smarthost mode accept literals', { timeout: 30_000 }, async (t) => {
  const lab = await Portwarden.start({ smarthost: '127.0.0.1:9', relayYaml: 'mode: mx\nallowPrivateDestinations: true', accounts: [ACCOUNT] });
  t.after(() => lab.destroy());
  for (const r of await rcpts(lab, LITERALS)) assert.match(r, /^250 /);
  const smart = await Portwarden.start({ smarthost: '127.0.0.1:9', accounts: [ACCOUNT] });
  t.after(() => smart.destroy());
  for (const r of await rcpts(smart, LITERALS)) assert.match(r, /^250 /);
});
