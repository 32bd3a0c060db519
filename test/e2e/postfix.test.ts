// A real Postfix on both sides of portwarden: as a client relaying through it
// with SASL over STARTTLS (how an ISP's legacy relay or a customer's server
// submits), and as the smarthost portwarden relays to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink, hasOnlyCrlf } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { PostfixInstance } from '../lib/postfix.ts';
import { needTools } from '../lib/tools.ts';

const skip = needTools('postfix', 'swaks') || (process.getuid?.() !== 0 ? 'needs root for a private Postfix instance' : false);

describe('Postfix ⇄ portwarden', { skip }, () => {
  let sink: CaptureSink;
  let smarthost: PostfixInstance; // portwarden → Postfix → sink
  let pw: Portwarden;
  let client: PostfixInstance; // Postfix → portwarden (SASL)

  before(async () => {
    sink = new CaptureSink();
    const sinkPort = await sink.listen();
    smarthost = await PostfixInstance.start({ relayhost: `[127.0.0.1]:${sinkPort}` });
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${smarthost.port}`,
      accounts: [{ login: 'relay@isp.example', password: 'relay-pass-1', subscriber: 'biz-77', addresses: ['@shop.example'] }],
    });
    client = await PostfixInstance.start({
      relayhost: `[127.0.0.1]:${pw.port('submission')}`,
      sasl: { user: 'relay@isp.example', pass: 'relay-pass-1' },
    });
  });
  after(async () => {
    await client?.stop();
    await pw?.destroy();
    await smarthost?.stop();
    await sink?.close();
  });

  test('Postfix relays through portwarden with SASL PLAIN over STARTTLS; portwarden relays to Postfix', async () => {
    const before = sink.messages.length;
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(client.port), '--from', 'orders@shop.example',
      '--to', 'customer@example.net', '--header', 'Subject: order 1234', '--body', 'a dot line follows\n.\nend']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = await sink.waitFor(before + 1, 30000).catch((err) => {
      throw new Error(`${err}\nclient postfix log:\n${client.readLog()}\nsmarthost log:\n${smarthost.readLog()}`);
    });
    const raw = got[before].raw;
    const text = raw.toString('latin1');
    assert.ok(hasOnlyCrlf(raw));
    assert.match(text, /Subject: order 1234/);
    // three hops of trace: Postfix (client), portwarden (ESMTPSA, with the SASL identity), Postfix (smarthost)
    const received = text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ').split('\r\n').filter((l) => l.startsWith('Received:'));
    assert.equal(received.length, 3, received.join('\n'));
    assert.match(received[1], /by msa\.isp\.example \(portwarden\) with ESMTPSA id \S+/);
    assert.match(received[1], /relay@isp\.example/);
    assert.match(client.readLog(), /relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent \(250 2\.0\.0 Ok: queued as/);
    assert.match(text, /\r\n\.\.\r\n/, 'the lone dot line is dot-stuffed on the wire');
    const tx = pw.logsOf('transaction').find((l) => l.verdict === 'accepted')!;
    assert.equal(tx.account, 'relay@isp.example');
  });
});
