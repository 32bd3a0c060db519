// /policy, /policy/edges and /audit over HTTP on the real policy store and
// audit log: entries added and removed with a reason (a note with <script>
// escaped, a too-wide pool beside its field, a desk refused, netops allowed),
// edges with their applied versions, the diff, compiled text and blocked
// counters, the settings; the audit log filtered by actor and outcome, paged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, post, main, errorOf, valueOf, withRig } from '../../../test/lib/console-app.ts';

test('policy: entries of each kind added and removed with a reason, schema choices as selects; edges, diff, compile, settings; audit filters', async (t) => {
  const r = await withRig(t);
  const pool = await post(`${r.url}/policy/pools/add`, { prefix: '198.51.100.0/24', class: 'dynamic', note: 'dsl', reason: 'roll-out' });
  assert.deepEqual([pool.status, pool.location], [303, '/policy?done=add']);
  assert.equal((await post(`${r.url}/policy/exemptions/add`, { prefix: '198.51.100.9', customer: 'c-9', expiresAt: '2027-01-01T00:00', reason: 'premium' })).status, 303);
  const page = await get(`${r.url}/policy`);
  assert.match(page.body, /<a href="\/policy\/edges">The edges, their applied versions/, 'the edges page is reached from the policy page');
  assert.match(page.body, /<td>198\.51\.100\.0\/24<\/td><td>dynamic<\/td><td>dsl<\/td>/);
  assert.match(page.body, /<td>198\.51\.100\.9<\/td><td>c-9<\/td><td>premium<\/td><td>staff:alice<\/td><td>[^<]+<\/td><td>2027-01-01 00:00:00 UTC<\/td>/);
  assert.match(page.body, /<select id="add-pools-class" name="class" required><option value="dynamic">dynamic<\/option><option value="static">/);
  assert.equal((await post(`${r.url}/policy/garden/add`, { prefix: '192.0.2.80', ports: '80,443', note: '<script>alert(1)</script>\r\n<img src=x>', reason: 'help' })).status, 303);
  const garden = await get(`${r.url}/policy`);
  assert.doesNotMatch(main(garden.body), /<script>|<img/);
  assert.match(garden.body, /<td>192\.0\.2\.80<\/td><td>tcp<\/td><td>80,443<\/td><td>&#60;script&#62;alert\(1\)&#60;\/script&#62;\r\n&#60;img src=x&#62;<\/td>/);
  const bad = await post(`${r.url}/policy/pools/add`, { prefix: '0.0.0.0/0', class: 'static', reason: 'x' });
  assert.equal(bad.status, 400);
  assert.match(errorOf(bad.body, 'add-pools-prefix') ?? '', /is wider than \/8/);
  assert.match(bad.body, /<details open><summary>Add pool/);
  const noWhy = await post(`${r.url}/policy/garden/add`, { prefix: '192.0.2.80', ports: '80,443', reason: ' ' });
  assert.equal(errorOf(noWhy.body, 'add-garden-reason'), 'Reason: this field is required.');
  r.gate.who = { name: 'nina', role: 'desk' };
  const refused = await post(`${r.url}/policy/pools/remove`, { prefix: '198.51.100.0/24', reason: 'gone' });
  assert.match(refused.body, /Your role \(desk\) may not remove address pools\./);
  r.gate.who = { name: 'nina', role: 'netops' };
  assert.equal((await post(`${r.url}/policy/pools/remove`, { prefix: '198.51.100.0/24', reason: 'gone' })).status, 303);
  assert.equal((await r.app.policy!.listPools()).length, 0);

  const before = await get(`${r.url}/policy/edges`);
  const version = /Policy version in force now: ([0-9a-f]+)/.exec(before.body)?.[1] ?? '';
  assert.match(before.body, /<tr><td>exempt4<\/td><td>198\.51\.100\.9<\/td><td><\/td><\/tr>/, 'the diff preview for the local edge');
  await r.app.policy!.recordEdgeReport('bng1', { version, omitted: 0, applied: { version, sets: {} },
    blocked: [{ source: '198.51.100.66', packets: 40, destinations: 12 }], pruneBefore: 0 });
  const edges = await get(`${r.url}/policy/edges?edge=bng1&format=nft`);
  assert.match(edges.body, new RegExp(`<td>bng1</td><td>[^<]+</td><td>${version.slice(0, 12)} <span class="ok">\\(up to date\\)</span></td><td>${version.slice(0, 12)} \\(`));
  assert.match(edges.body, /<td>bng1<\/td><td>198\.51\.100\.66<\/td><td>40<\/td><td>12<\/td>/, 'blocked counters');
  assert.match(edges.body, /Nothing: the edge has this version\./);
  assert.match(edges.body, /<pre>[^<]*198\.51\.100\.9[^<]*<\/pre>/, 'the compiled nft text');
  const unexplained = await post(`${r.url}/policy/settings`, { action: 'drop', relay25: 'true', subscriberIfaces: 'ppp0', reason: '' });
  assert.equal(errorOf(unexplained.body, 'settings-reason'), 'Reason: this field is required.');
  assert.equal(valueOf(unexplained.body, 'settings-subscriberIfaces'), 'ppp0', 'the input is kept');
  const set = await post(`${r.url}/policy/settings`, { action: 'drop', relay25: 'true', subscriberIfaces: 'ppp0, ppp1', upstreamIfaces: '', notice4: '', notice6: '', reason: 'quiet' });
  assert.equal(set.status, 303, set.body);
  assert.deepEqual((await r.app.policy!.settings()).subscriberIfaces, ['ppp0', 'ppp1']);

  const audit = await get(`${r.url}/audit?actor=nina&outcome=forbidden`);
  assert.match(audit.body, /<td>staff:nina<\/td><td>127\.0\.0\.1<\/td><td>policy\.pools\.remove<\/td><td>pool 198\.51\.100\.0\/24<\/td><td>gone<\/td><td><span class="bad">forbidden<\/span>/);
  assert.equal((audit.body.match(/<td>staff:/g) ?? []).length, 1, 'only the refused one');
  const badSince = await get(`${r.url}/audit?since=last+week`);
  assert.match(errorOf(badSince.body, 'f-since') ?? '', /not a time/);
  assert.equal(valueOf(badSince.body, 'f-since'), 'last week');
  for (let i = 0; i < 60; i++) {
    await r.app.audit!.write({ at: r.clock.now(), actorKind: 'token', actor: 'ci', from: '192.0.2.9', action: 'accounts.add', object: `account u${i}`, reason: '', outcome: 'ok', detail: '{}' });
  }
  const p1 = await get(`${r.url}/audit?actor=ci`);
  assert.equal((p1.body.match(/<td>token:ci<\/td>/g) ?? []).length, 50);
  const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(p1.body)?.[1].replaceAll('&#38;', '&');
  assert.match(next ?? '', /^\/audit\?actor=ci&after=\d+$/);
  const p2 = await get(`${r.url}${next}`);
  assert.equal((p2.body.match(/<td>token:ci<\/td>/g) ?? []).length, 10);
  assert.match(p2.body, /<td>account u0<\/td>/);
  assert.doesNotMatch(p2.body, /rel="next"/);
});
