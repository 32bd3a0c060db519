// What the CLI prints from message and client data reaches an operator's
// terminal (issue 10, item 17): an escape sequence in a next hop's reply, a
// Subject, an edge's report or a note must show as text (`\x1b`), never act on
// the terminal, and a newline in a note must not start a new table row. The
// real `portwarden` command against a real server and state store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { systemClock } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { CaptureSink } from '../../test/lib/sink.ts';
import { MAIN, NODE, Portwarden, run } from '../../test/lib/portwarden.ts';
import { authedClient } from '../../test/lib/smtpclient.ts';
import { until } from '../../test/lib/tools.ts';

const ESC = '\x1b]0;owned\x07\x1b[2J\x1b[31m';
/** C0 (but the newline ending a line), DEL, C1, and the Unicode bidi and line/paragraph separators. */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('queue list/show, policy tables and JSON escape control characters; a newline in a note stays in its row', { timeout: 60_000 }, async (t) => {
  const sink = new CaptureSink({ rcptReply: () => `450 4.2.0 ${ESC}mailbox busy\u202e` });
  const pw = await Portwarden.start({
    smarthost: `127.0.0.1:${await sink.listen()}`,
    accounts: [{ login: 'hal@isp.example', password: 'hals-long-password' }],
  });
  t.after(async () => { await pw.destroy(); await sink.close(); });
  const cli = (...args: string[]) => run(NODE, [MAIN, ...args, '--config', pw.config], { timeout: 20_000 });

  const c = await authedClient(pw.port('submissions'), 'hal@isp.example', 'hals-long-password', { implicit: true });
  assert.equal((await c.cmd('MAIL FROM:<hal@isp.example>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<ivy@example.net>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const r = await c.cmd(`From: <hal@isp.example>\r\nTo: <ivy@example.net>\r\nSubject: ${ESC}hello\u2028x\r\n\r\nhi\r\n.`);
  assert.equal(r.code, 250, r.text);
  c.close();
  const id = /queued as (\S+)/.exec(r.text)![1];
  await until(async () => /"state": "deferred"/.test((await cli('queue', 'list', '--json')).stdout), 'deferred', 10_000);
  assert.equal((await cli('queue', 'hold', id, '--reason', `abuse desk\n${ESC}case 7`)).code, 0);

  const list = await cli('queue', 'list');
  assert.equal(list.code, 0, list.stderr);
  assert.doesNotMatch(list.stdout, RAW, JSON.stringify(list.stdout));
  assert.match(list.stdout, /abuse desk( |\\n)\\x1b\]0;owned\\x07\\x1b\[2J\\x1b\[31mcase 7\)/);
  assert.match(list.stdout, /\[deferred: 450 4\.2\.0 \\x1b\]0;owned\\x07\\x1b\[2J\\x1b\[31mmailbox busy\\u202e\]/);
  const show = await cli('queue', 'show', id);
  assert.equal(show.code, 0, show.stderr);
  assert.doesNotMatch(show.stdout, RAW, JSON.stringify(show.stdout));
  assert.match(show.stdout, /^Subject: \\x1b\]0;owned\\x07\\x1b\[2J\\x1b\[31mhello\\u2028x$/m);
  assert.match(show.stdout, /^held: +.*abuse desk( |\\n)\\x1b\]0;owned/m);
  const json = await cli('queue', 'show', id, '--json');
  assert.doesNotMatch(json.stdout, RAW);
  assert.match(JSON.parse(json.stdout).headers, /Subject: \x1b\]0;owned/, 'JSON keeps the value, escaped the JSON way');

  // What edges report and operators note, stored as it came.
  const store = await openStore(join(pw.dir, 'data', 'state.db'));
  const policy = await PolicyStore.open(store, systemClock);
  await policy.recordBlocked(`edge${ESC}`, [{ source: `192.0.2.7${ESC}\n10.9.9.9`, packets: 3, destinations: 2 }]);
  await store.close();
  assert.equal((await cli('policy', 'pool', 'add', '198.51.100.0/24', '--class', 'dynamic', '--note', `line one\nline two${ESC}`, '--reason', 'test')).code, 0);

  const blocked = await cli('policy', 'blocked');
  assert.equal(blocked.code, 0, blocked.stderr);
  assert.doesNotMatch(blocked.stdout, RAW, JSON.stringify(blocked.stdout));
  const rows = blocked.stdout.trimEnd().split('\n');
  assert.equal(rows.length, 2, `a header and one row: ${JSON.stringify(rows)}`);
  assert.match(rows[1], /^192\.0\.2\.7\\x1b\]0;owned\\x07\\x1b\[2J\\x1b\[31m\\n10\.9\.9\.9 +2 +3 +edge\\x1b/);
  const pools = await cli('policy', 'pool', 'list');
  const poolRows = pools.stdout.trimEnd().split('\n');
  assert.equal(poolRows.length, 2, `a header and one row: ${JSON.stringify(poolRows)}`);
  assert.match(poolRows[1], /^198\.51\.100\.0\/24 +dynamic +line one\\nline two\\x1b/);
  const audit = await cli('policy', 'audit');
  assert.doesNotMatch(audit.stdout, RAW);
  const blockedJson = await cli('policy', 'blocked', '--json');
  assert.doesNotMatch(blockedJson.stdout, RAW);
  assert.equal(JSON.parse(blockedJson.stdout)[0].edge, `edge${ESC}`);
});
