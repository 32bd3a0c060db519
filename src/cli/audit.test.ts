// Every change made through the CLI, and through the running server's control
// socket, leaves an audit row that `portwarden audit list` reads back: the real
// `portwarden` command against a real server and state store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { CaptureSink } from '../../test/lib/sink.ts';
import { MAIN, NODE, Portwarden, run } from '../../test/lib/portwarden.ts';
import { authedClient } from '../../test/lib/smtpclient.ts';
import { until } from '../../test/lib/tools.ts';

interface Row { id: number; actorKind: string; actor: string; from: string; action: string; object: string; reason: string; outcome: string; detail: string }

test('audit list reads back the CLI\'s and the control socket\'s changes: who, from where, what, why, outcome; no password', { timeout: 90_000 }, async (t) => {
  const sink = new CaptureSink({ rcptReply: () => '451 4.3.0 not now' });
  const pw = await Portwarden.start({
    smarthost: `127.0.0.1:${await sink.listen()}`,
    accounts: [{ login: 'hal@isp.example', password: 'hals-long-password' }],
  });
  t.after(async () => { await pw.destroy(); await sink.close(); });
  const cli = (...args: string[]) => run(NODE, [MAIN, ...args, '--config', pw.config], { timeout: 20_000 });
  const me = userInfo().username;

  const c = await authedClient(pw.port('submissions'), 'hal@isp.example', 'hals-long-password', { implicit: true });
  assert.equal((await c.cmd('MAIL FROM:<hal@isp.example>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<ivy@example.net>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const r = await c.cmd('From: <hal@isp.example>\r\nTo: <ivy@example.net>\r\nSubject: hi\r\n\r\nhi\r\n.');
  assert.equal(r.code, 250, r.text);
  c.close();
  const id = /queued as (\S+)/.exec(r.text)![1];
  await until(async () => /"state": "deferred"/.test((await cli('queue', 'list', '--json')).stdout), 'deferred', 10_000);

  assert.equal((await cli('queue', 'hold', id, '--reason', 'case 7')).code, 0);
  assert.equal((await cli('account', 'disable', 'hal@isp.example', '--reason', 'spam run')).code, 0);
  assert.equal((await cli('account', 'remove', 'nobody@isp.example')).code, 1);
  assert.equal((await cli('policy', 'pool', 'add', '198.51.100.0/24', '--class', 'dynamic', '--reason', 'roll-out', '--by', 'netops')).code, 0);

  const listed = await cli('audit', 'list', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const rows = (JSON.parse(listed.stdout) as { entries: Row[] }).entries;
  const brief = rows.map((x) => `${x.actorKind}:${x.actor}@${x.from} ${x.action} ${x.object} ${x.outcome} ${x.reason}`);
  assert.deepEqual(brief, [
    `operator:${me}@cli policy.pools.add pool 198.51.100.0/24 ok roll-out`,
    `operator:${me}@cli accounts.remove account nobody@isp.example not-found `,
    `operator:${me}@cli accounts.disable account hal@isp.example ok spam run`,
    `operator:control@control queue.hold queue ${id} ok case 7`,
    `operator:${me}@cli accounts.add account hal@isp.example ok `,
  ]);
  assert.equal(rows[4].detail, '{"login":"hal@isp.example","password":"[redacted]"}');
  assert.ok(!listed.stdout.includes('hals-long-password'));

  const queueOnly = await cli('audit', 'list', '--action', 'queue.', '--json');
  assert.deepEqual((JSON.parse(queueOnly.stdout) as { entries: Row[] }).entries.map((x) => x.action), ['queue.hold']);
  const refused = await cli('audit', 'list', '--outcome', 'not-found', '--json');
  assert.deepEqual((JSON.parse(refused.stdout) as { entries: Row[] }).entries.map((x) => x.action), ['accounts.remove']);
  const page = await cli('audit', 'list', '--limit', '2');
  assert.match(page.stdout, /^ID\tWHEN\tWHO\tFROM\tWHAT\tOBJECT\tOUTCOME\tWHY\tDETAIL\n/);
  assert.match(page.stdout, /\nnext: --after \d+\n?$/);
  assert.equal((await cli('audit', 'list', '--since', 'yesterday')).code, 2);
});
