// The log lines as a subscriber: docs/events.md is what the catalogue and LOG_LINES make
// (so it cannot drift from EventMap), one line per event that has one, client text encoded.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryLogger } from '../core/index.ts';
import { EVENTS, InProcessBus, type EventName } from '../events/index.ts';
import { eventsDoc } from './events-doc.ts';
import { LOG_LINES, subscribeLogs } from './log-events.ts';

test('docs/events.md is current: run `node tools/events-doc.ts` after changing an event or a log line', () => {
  const file = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'events.md'), 'utf8');
  assert.equal(file, eventsDoc());
});

test('every event with a log line makes exactly one line; the others none', () => {
  const bus = new InProcessBus();
  const log = new MemoryLogger();
  subscribeLogs(bus, log);
  for (const name of Object.keys(EVENTS) as EventName[]) {
    const before = log.records.length;
    bus.publish(name, EVENTS[name].example as never);
    assert.equal(log.records.length - before, LOG_LINES[name] ? 1 : 0, name);
    if (LOG_LINES[name]) assert.equal(log.records.at(-1)!.event, LOG_LINES[name]!.event);
  }
});

test('client text reaches the line encoded: escapes, C1 and bidi controls become visible escapes', () => {
  const bus = new InProcessBus();
  const log = new MemoryLogger();
  subscribeLogs(bus, log);
  const evil = 'a\x1b[2J\u202eb@example.net\x85';
  bus.publish('message.refused', { ...EVENTS['message.refused'].example, sender: evil, messageId: `<${evil}>` });
  bus.publish('auth.failed', { ...EVENTS['auth.failed'].example, login: evil });
  bus.publish('relay.outcome', { ...EVENTS['relay.outcome'].example, recipient: evil, reply: `550 ${evil}` });
  const text = JSON.stringify(log.records);
  assert.ok(!/[\x1b\x85\u202e]/.test(text), text);
  assert.equal(log.records[0].sender, 'a\\x1b[2J\\u202eb@example.net\\x85');
  assert.equal(log.records[1].login, 'a\\x1b[2J\\u202eb@example.net\\x85');
  assert.equal(log.records[2].to, 'a\\x1b[2J\\u202eb@example.net\\x85');
});

test('the transaction line carries what an operator greps for', () => {
  const bus = new InProcessBus();
  const log = new MemoryLogger();
  subscribeLogs(bus, log);
  bus.publish('message.accepted', EVENTS['message.accepted'].example);
  const l = log.records[0];
  for (const f of ['queueId', 'account', 'subscriber', 'ip', 'port', 'listener', 'tls', 'cipher', 'mechanism', 'sender', 'recipients', 'size', 'messageId', 'code', 'ms', 'verdict']) {
    assert.ok(l[f] !== undefined, `${f} in ${JSON.stringify(l)}`);
  }
  assert.deepEqual([l.level, l.event, l.verdict, l.code], ['info', 'transaction', 'accepted', '250 2.0.0']);
});

test('abuse.report and dnsbl.listed: the complaint\'s subject, feedback type and the zone\'s TXT reach the line encoded', () => {
  const bus = new InProcessBus();
  const log = new MemoryLogger();
  subscribeLogs(bus, log);
  const evil = 'evil\r\ninjected {"event":"x"}\x1b[2J\u202e\x85';
  bus.publish('abuse.report', { ...EVENTS['abuse.report'].example, subject: evil, feedbackType: evil });
  bus.publish('dnsbl.listed', { ...EVENTS['dnsbl.listed'].example, answer: '127.0.0.2', reason: evil });
  const text = JSON.stringify(log.records);
  assert.ok(!/[\r\n\x1b\x85\u202e]/.test(text.replace(/\\[rn]/g, '')), text);
  const shown = 'evil\\r\\ninjected {"event":"x"}\\x1b[2J\\u202e\\x85';
  assert.equal(log.records[0].subject, shown);
  assert.equal(log.records[0].feedbackType, shown);
  assert.equal(log.records[1].reason, shown);
});
