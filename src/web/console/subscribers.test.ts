// /subscribers over HTTP on the real directory: list, put (a refused access
// identity with <script> kept and escaped), assign and end an address (a bad
// prefix and a bad time beside their fields; a desk refused), who held an address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, post, errorOf, valueOf, lastAudit, withRig } from '../../../test/lib/console-app.ts';

test('subscribers: list, put, assign and end an address (bad prefix beside its field), who held an address', async (t) => {
  const r = await withRig(t);
  await r.app.accounts!.add({ login: 'bob@isp.example', password: 'a long password here', subscriber: 'sub-1' });
  assert.match((await get(`${r.url}/subscribers`)).body, /<a href="\/subscribers\/sub-1">sub-1<\/a><\/td><td>residential<\/td><td>bob@isp\.example<\/td><td>active<\/td>/);
  const put = await post(`${r.url}/subscribers/sub-1`, { tier: 'business', contacts: 'bob@home.example, noc@bob.example', access: 'radius:bob', reason: 'signed up' });
  assert.deepEqual([put.status, put.location], [303, '/subscribers/sub-1?done=put']);
  assert.equal(await lastAudit(r), 'staff:alice@127.0.0.1 subscribers.put subscriber sub-1 ok signed up');
  const evil = await post(`${r.url}/subscribers/sub-1`, { access: 'radius:<script>alert(1)</script>\r\nX', reason: 'typo <b>' });
  assert.equal(evil.status, 400);
  assert.doesNotMatch(evil.body, /<script>|<b>/);
  assert.match(evil.body, /<p class="error" role="alert" id="put-error">A value is outside what is allowed: &#34;X&#34; is not &#34;kind:value&#34;/);
  assert.equal(valueOf(evil.body, 'put-access'), 'radius:&#60;script&#62;alert(1)&#60;/script&#62;\r\nX', 'kept, escaped');
  assert.deepEqual((await r.directory.subscriber('sub-1'))!.access, ['radius:bob'], 'nothing changed');
  r.gate.who = { name: 'dora', role: 'desk' };
  const refused = await post(`${r.url}/subscribers/sub-1/assign`, { prefix: '198.51.100.8' });
  assert.equal(refused.status, 403);
  assert.match(refused.body, /<p class="error" role="alert" id="assign-error">Your role \(desk\) may not assign addresses\.<\/p>/);
  assert.equal(valueOf(refused.body, 'assign-prefix'), '198.51.100.8');
  r.gate.who = { name: 'alice', role: 'admin' };
  const bad = await post(`${r.url}/subscribers/sub-1/assign`, { prefix: '198.51.100.300', start: '' });
  assert.equal(bad.status, 400);
  assert.match(errorOf(bad.body, 'assign-prefix') ?? '', /^That is not a valid address or prefix/);
  assert.equal(valueOf(bad.body, 'assign-prefix'), '198.51.100.300');
  const badTime = await post(`${r.url}/subscribers/sub-1/assign`, { prefix: '198.51.100.7', start: 'yesterday' });
  assert.match(errorOf(badTime.body, 'assign-start') ?? '', /not a time/);
  assert.equal((await post(`${r.url}/subscribers/sub-1/assign`, { prefix: '198.51.100.7', start: '2026-12-01T08:00' })).status, 303);
  const one = await get(`${r.url}/subscribers/sub-1`);
  assert.match(one.body, /<th scope="row">Contacts<\/th><td>bob@home\.example, noc@bob\.example<\/td>/);
  assert.match(one.body, /<td>198\.51\.100\.7<\/td><td><\/td><td>2026-12-01 08:00:00 UTC<\/td><td>still held<\/td><td>api<\/td>/);
  const who = await get(`${r.url}/subscribers?address=198.51.100.7`);
  assert.match(who.body, /<caption>Who held an address<\/caption>.*\n<tbody><tr><td><a href="\/subscribers\/sub-1">sub-1<\/a><\/td><td>198\.51\.100\.7<\/td>/);
  assert.equal((await post(`${r.url}/subscribers/sub-1/end`, { prefix: '198.51.100.7', source: 'api' })).status, 303);
  assert.equal((await r.directory.currentOf('sub-1')).length, 0);
  assert.match((await get(`${r.url}/subscribers/sub-1`)).body, /<caption>Address history<\/caption>.*\n<tbody><tr><td>198\.51\.100\.7<\/td><td><\/td><td>2026-12-01 08:00:00 UTC<\/td><td>2026-12-02 12:00:00 UTC<\/td>/);
});
