// The engine's events as log lines: a subscriber id or actor carrying control
// and bidi characters (an account's subscriber field, a desk actor's name) is
// encoded by the line (visible()); evidence detail never reaches a line at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOG_LINES } from '../../src/cli/log-events.ts';
import type { EventName } from '../../src/events/index.ts';
import { rig, runBot, signal, T0 } from '../lib/abuse-engine.ts';

const BAD = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

test('engine events make log lines without raw control or bidi characters', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  const sub = 'evil\x1b[2j\u202ex';
  r.dir.addSubscriber(sub);
  r.dir.assign(sub, '198.51.100.7', T0 - 86_400_000);
  r.engine.ingest(signal({ class: 'flood', at: T0, subscriber: sub, origin: 'submission', detail: { login: 'x\x1b[31m\r\nfake: line' } }));
  await runBot(r, '198.51.100.7', 30);
  const [c] = await r.engine.cases.list();
  await r.engine.cases.release(c.id, 'desk:\x1b]0;pwned\x07', 'r', 'desk');
  const names = new Set<EventName>();
  for (const { name, e } of r.events) {
    if (!name.startsWith('case.')) continue;
    names.add(name);
    const line = LOG_LINES[name];
    assert.ok(line, name);
    const built = (line.build as (x: unknown) => Record<string, unknown>)(e);
    for (const [k, v] of Object.entries(built)) assert.ok(typeof v !== 'string' || !BAD.test(v), `${name}.${k}: ${JSON.stringify(v)}`);
    assert.ok(!JSON.stringify(built).includes('fake: line'));
  }
  assert.deepEqual([...names].sort(), ['case.decision', 'case.opened', 'case.released']);
});
