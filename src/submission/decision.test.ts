// The decision port (issue 11 item 4) and the events the MSA publishes, through its ports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reply } from '../core/index.ts';
import { InProcessBus, type EventMap, type EventName } from '../events/index.ts';
import type { DecisionInput, SubmissionDecision } from './ports.ts';
import { makeKit } from './testkit.ts';

const OK = 'From: alice@isp.example\r\nTo: bob@example.org\r\nSubject: s\r\n\r\nbody\r\n';

function recorder() {
  const bus = new InProcessBus();
  const seen: Array<{ name: EventName; e: EventMap[EventName] }> = [];
  bus.subscribeAll((e, name) => seen.push({ name, e }));
  return { bus, seen };
}

describe('the decision port', () => {
  const kitWith = (d: SubmissionDecision) => {
    const asked: DecisionInput[] = [];
    const r = recorder();
    const kit = makeKit({}, { bus: r.bus, decision: { decide: (input) => { asked.push(input); return d; } } });
    return { kit, asked, ...r };
  };
  it('accept: committed to the queue, message.accepted', async () => {
    const { kit, asked, seen } = kitWith({ action: 'accept' });
    const v = await kit.send(kit.session(), 'alice@isp.example', ['bob@example.org'], OK);
    assert.match(String(v.reply?.text), /^Ok: queued as Q1$/);
    assert.equal(kit.spooled[0].hold, undefined);
    assert.deepEqual([asked[0].queueId, asked[0].account, asked[0].recipients, asked[0].sender], ['Q1', 'alice@isp.example', 1, 'alice@isp.example']);
    const tx = seen.filter((s) => s.name.startsWith('message.'));
    assert.deepEqual(tx.map((s) => s.name), ['message.accepted']);
    const e = tx[0].e as EventMap['message.accepted'];
    assert.deepEqual([e.queueId, e.account, e.subscriber, e.clientIp, e.listener, e.tlsVersion, e.mechanism, e.recipients, e.reply?.code],
      ['Q1', 'alice@isp.example', 'cust-1', '192.0.2.7', 'submission', 'TLSv1.3', 'PLAIN', 1, 250]);
  });
  it('hold: the same 250, committed with the reason, message.held', async () => {
    const { kit, seen } = kitWith({ action: 'hold', reason: 'held: over limit t/x' });
    const v = await kit.send(kit.session(), 'alice@isp.example', ['bob@example.org'], OK);
    assert.equal(v.reply?.code, 250);
    assert.equal(kit.spooled[0].hold, 'held: over limit t/x');
    const held = seen.find((s) => s.name === 'message.held')?.e as EventMap['message.held'];
    assert.equal(held.reason, 'held: over limit t/x');
    assert.ok(!seen.some((s) => s.name === 'message.accepted'));
  });
  it('refuse: the reply given, nothing committed, message.refused', async () => {
    const { kit, seen } = kitWith({ action: 'refuse', reply: reply(554, '5.7.1', 'no') });
    const v = await kit.send(kit.session(), 'alice@isp.example', ['bob@example.org'], OK);
    assert.equal(v.reply?.code, 554);
    assert.equal(kit.spooled.length, 0);
    assert.deepEqual(seen.filter((s) => s.name.startsWith('message.')).map((s) => s.name), ['message.refused']);
  });
  it('a decision that throws is a 451, and the server goes on', async () => {
    const kit = makeKit({}, { decision: { decide: () => { throw new Error('boom'); } } });
    const v = await kit.send(kit.session(), 'alice@isp.example', ['bob@example.org'], OK);
    assert.equal(v.reply?.code, 451);
    assert.equal(kit.spooled.length, 0);
  });
});

describe('events published by the MSA', () => {
  it('a refusal at MAIL is one message.refused; every RCPT answer is a recipient.answered', async () => {
    const { bus, seen } = recorder();
    const kit = makeKit({}, { bus });
    await kit.send(kit.session(), 'alice@isp.example', ['bob@example.org', 'nodomain'], OK);
    assert.deepEqual(seen.filter((s) => s.name === 'recipient.answered').map((s) => (s.e as EventMap['recipient.answered']).reply.code), [250, 554]);
    seen.length = 0;
    await kit.send(kit.session(), 'mallory@evil.example', ['bob@example.org'], OK);
    assert.deepEqual(seen.map((s) => s.name), ['message.refused']);
    assert.equal((seen[0].e as EventMap['message.refused']).reply?.code, 550);
  });
});
