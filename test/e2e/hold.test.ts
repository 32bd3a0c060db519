// Issue 11 item 4: a submission decision can be hold. A limit rule with action
// hold that is exceeded accepts the message (250) into hold/, synced there; the
// relay never sees it, across a drain (SIGTERM) and a crash (SIGKILL), until
// `portwarden queue release ID` sends it on to the capture sink.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptureSink } from '../lib/sink.ts';
import { startWithSink, type Portwarden } from '../lib/portwarden.ts';
import { authedClient } from '../lib/smtpclient.ts';
import { until } from '../lib/tools.ts';

const LIMITS = `limits:
  tiers:
    residential:
      - {name: messages-hour, scope: account, counts: messages, per: hour, limit: 1, action: hold}
      - {name: recipients-hour, scope: account, counts: recipients, per: hour, limit: 50}
`;

async function send(pw: Portwarden, subject: string): Promise<string> {
  const c = await authedClient(pw.port('submission'), 'alice@isp.example', 'alice-pass-1');
  try {
    assert.equal((await c.cmd('MAIL FROM:<alice@isp.example>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<bob@example.net>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    const r = await c.cmd(`From: alice@isp.example\r\nTo: bob@example.net\r\nSubject: ${subject}\r\n\r\nhello\r\n.`);
    const m = /^250 2\.0\.0 Ok: queued as (\S+)$/.exec(r.lines[0]);
    assert.ok(m, r.lines[0]);
    return m[1];
  } finally {
    c.close();
  }
}

describe('hold: a message over a hold rule is accepted into hold/ and relayed only after release', () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({
      accounts: [{ login: 'alice@isp.example', password: 'alice-pass-1', subscriber: 'cust-1' }],
      extraYaml: LIMITS,
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  const holdDir = () => join(pw.dir, 'data', 'spool', 'hold');
  const subjects = () => sink.messages.map((m) => /Subject: (\S+)/.exec(m.raw.toString('latin1'))?.[1]);

  test('within the limit: relayed; over it: 250 as usual, held in hold/ with the reason, not relayed', async () => {
    await send(pw, 'first');
    await sink.waitFor(1);
    const id = await send(pw, 'second');
    await until(() => pw.logsOf('transaction').some((l) => l.queueId === id), 'the transaction line');
    const line = pw.logsOf('transaction').find((l) => l.queueId === id)!;
    assert.equal(line.verdict, 'held');
    assert.equal(line.reason, 'held: over limit residential/messages-hour');
    assert.equal(line.account, 'alice@isp.example');
    assert.ok(existsSync(join(holdDir(), id)), `${id} is in hold/`);
    const shown = JSON.parse((await pw.cli(['queue', 'show', id, '--json'])).stdout);
    assert.deepEqual([shown.entry.state, shown.entry.holdReason], ['hold', 'held: over limit residential/messages-hour'], 'the reason is in the file');
    // A third message is held too (the hold rule does not refuse), and the recipients rule still counts.
    const third = await send(pw, 'third');
    assert.ok(existsSync(join(holdDir(), third)));
    // The relay had every chance to take them: a message in active/ goes out within milliseconds.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(subjects(), ['first']);
  });

  test('held messages stay held across SIGTERM and SIGKILL restarts, then go out after queue release', async () => {
    const held = readdirSync(holdDir()).sort();
    assert.equal(held.length, 2);
    assert.equal(await pw.stop('SIGTERM'), 0);
    await pw.restart();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(readdirSync(holdDir()).sort(), held, 'still held after a drain and restart');
    await pw.kill();
    await pw.restart();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(readdirSync(holdDir()).sort(), held, 'still held after kill -9 and restart');
    assert.deepEqual(subjects(), ['first'], 'nothing held was delivered');

    const out = await pw.cli(['queue', 'release', held[0]]);
    assert.match(out.stdout, new RegExp(`${held[0]}: released`));
    await sink.waitFor(2);
    assert.deepEqual(subjects(), ['first', 'second']);
    assert.deepEqual(readdirSync(holdDir()), [held[1]], 'the other one stays held');
  });
});
