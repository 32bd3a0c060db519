// /queue over HTTP on a real spool: stats and the filtered list, one message
// whose header section (a <script> subject, a CRLF) is shown as escaped text,
// the actions on selected messages and flush, each audited as the staff person.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, post, lastAudit, withRig } from '../../../test/lib/console-app.ts';

test('queue: stats and filtered list, one message with its headers shown as escaped text, actions and flush audited', async (t) => {
  const r = await withRig(t);
  const evil = await r.queue({ from: 'bob@isp.example', to: 'dave@example.net', account: 'bob@isp.example', subject: '<script>alert(1)</script>\r\nX-Injected: <b>yes</b>' });
  const other = await r.queue({ from: 'carol@isp.example', to: 'erin@example.net', account: 'carol@isp.example' });
  const list = await get(`${r.url}/queue?account=bob@isp.example`);
  assert.match(list.body, /<caption>Messages per state<\/caption>.*\n<tbody><tr><td>2<\/td><td>0<\/td><td>0<\/td><td>0<\/td>/, 'stats: two active');
  assert.ok(list.body.includes(`href="/queue/${evil}"`));
  assert.ok(!list.body.includes(`href="/queue/${other}"`), 'filtered by account');
  const one = await get(`${r.url}/queue/${evil}`);
  assert.equal(one.status, 200);
  assert.doesNotMatch(one.body, /<script>|<b>/);
  assert.match(one.body, /<pre>From: &#60;bob@isp\.example&#62;\r\nTo: &#60;dave@example\.net&#62;\r\nSubject: &#60;script&#62;alert\(1\)&#60;\/script&#62;\r\nX-Injected: &#60;b&#62;yes&#60;\/b&#62;\r\n<\/pre>/);
  assert.match(one.headers.get('content-security-policy') ?? '', /default-src 'none'/);

  const rq = await post(`${r.url}/queue/act`, { ids: [other], action: 'requeue' });
  assert.match((await get(`${r.url}${rq.location}`)).body, /Requeue: 0 messages done, 1 skipped \(not in a state for it\)\./, 'only deferred mail is requeued');
  const del = await post(`${r.url}/queue/act?account=bob@isp.example`, { ids: [evil, other], action: 'delete', reason: 'spam' });
  assert.deepEqual([del.status, del.location], [303, '/queue?account=bob%40isp.example&done=delete&n=2&skipped=0&missing=0']);
  assert.equal((await r.spool.stats()).active, 0);
  assert.equal(await lastAudit(r), `staff:alice@127.0.0.1 queue.delete queue ${evil},${other} ok spam`);
  const none = await post(`${r.url}/queue/act`, { action: 'hold' });
  assert.equal(none.status, 400);
  assert.match(none.body, /Select at least one message\./);
  assert.equal((await post(`${r.url}/queue/flush`, { reason: 'backlog' })).location, '/queue?done=flush');
  assert.equal(r.kicks.n, 1);
  assert.equal((await get(`${r.url}/queue/01KDZZZZZZ00000000`)).status, 404);
});

test('queue: a large queue lists its newest 200 matching messages and says how many match', async (t) => {
  const r = await withRig(t);
  const ids: string[] = [];
  for (let i = 0; i < 205; i++) {
    ids.push(await r.queue({ from: 'bulk@isp.example', to: `r${i}@example.net`, account: 'bulk@isp.example' }));
    r.clock.advance(1000);
  }
  const page = await get(`${r.url}/queue`);
  assert.equal((page.body.match(/name="ids"/g) ?? []).length, 200);
  assert.match(page.body, /The newest 200 of 205 matching messages are listed; filter by state, account or sender to see others\./);
  assert.ok(page.body.includes(`value="${ids[204]}"`) && !page.body.includes(`value="${ids[0]}"`), 'the newest first');
});
