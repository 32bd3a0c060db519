// SubmissionHandler decisions that need no network: limits accounting of
// refused messages (issue 10 item 9) and the postmaster exception (item 16).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reply } from '../core/index.ts';
import { makeKit } from './testkit.ts';

const OK = 'From: alice@isp.example\r\nTo: bob@example.org\r\nSubject: s\r\n\r\nbody\r\n';

describe('limits: a refused message still counts (issue 10 item 9)', () => {
  it('an accepted message keeps its charge', async () => {
    const kit = makeKit();
    assert.equal((await kit.send(kit.session(), 'alice@isp.example', ['bob@example.org', 'carol@example.org'], OK)).ok, true);
    assert.deepEqual(kit.charged, { messages: 1, recipients: 2 });
  });
  it('a message refused for its content (oversized To, forged From) keeps its charge too', async () => {
    const kit = makeKit();
    const s = kit.session();
    const big = `From: alice@isp.example\r\nTo: ${'x@example.org, '.repeat(3000)}y@example.org\r\n\r\nb\r\n`;
    const v1 = await kit.send(s, 'alice@isp.example', ['bob@example.org'], big);
    assert.equal(v1.reply?.code, 552);
    const v2 = await kit.send(s, 'alice@isp.example', ['bob@example.org'], 'From: bob@evil.example\r\n\r\nb\r\n');
    assert.equal(v2.reply?.code, 550);
    assert.deepEqual(kit.charged, { messages: 2, recipients: 2 });
    assert.equal(kit.spooled.length, 0);
  });
  it('a transaction that never sent DATA, or that we failed (4xx), is given back', async () => {
    const kit = makeKit();
    const s = kit.session();
    await kit.handler.mailFrom(s, { address: 'alice@isp.example', localPart: 'alice', domain: 'isp.example', utf8: false, params: {} });
    kit.handler.reset(s);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(kit.charged, { messages: 0, recipients: 0 });
  });
});

describe('the postmaster exception (issue 10 item 16)', () => {
  const PM = 'From: someone@example.net\r\nTo: postmaster@isp.example\r\nSubject: your server\r\n\r\nhello\r\n';
  function gated(limit: number) {
    const seen: string[] = [];
    let left = limit;
    const kit = makeKit({}, { postmaster: { async admit(ip: string) { seen.push(ip); return left-- > 0 ? null : reply(450, '4.7.1', 'Too many messages to postmaster from your address') } } });
    return { kit, seen };
  }
  it('is rate limited per client address: past the limit RCPT gets 450 4.7.1', async () => {
    const { kit, seen } = gated(2);
    const s = kit.session(false, '198.51.100.9');
    const v = [];
    for (let i = 0; i < 3; i++) v.push(await kit.send(s, 'someone@example.net', ['postmaster@isp.example'], PM));
    assert.deepEqual(v.map((x) => x.ok), [true, true, false]);
    assert.equal(v[2].reply?.code, 450);
    assert.equal(v[2].reply?.enhanced, '4.7.1');
    assert.deepEqual(seen, ['198.51.100.9', '198.51.100.9', '198.51.100.9'], 'one charge per message, keyed on the client address');
  });
  it('never generates bounces: queued with the null reverse-path and NOTIFY=NEVER, the sender kept for the log', async () => {
    const { kit } = gated(10);
    const v = await kit.send(kit.session(false), 'someone@example.net', ['postmaster@isp.example', 'PostMaster@isp.example'], PM);
    assert.equal(v.ok, true);
    const env = kit.spooled[0].envelope;
    assert.equal(env.mailFrom.address, '');
    assert.deepEqual(env.rcptTo.map((r) => r.params.notify), [['NEVER'], ['NEVER']]);
    assert.equal(env.originalSender, 'someone@example.net');
  });
  it('authenticated mail to postmaster is ordinary mail: not gated, sender kept', async () => {
    const { kit, seen } = gated(0);
    const v = await kit.send(kit.session(true), 'alice@isp.example', ['postmaster@isp.example'], OK);
    assert.equal(v.ok, true);
    assert.deepEqual(seen, []);
    assert.equal(kit.spooled[0].envelope.mailFrom.address, 'alice@isp.example');
  });
});
