// /cases over HTTP on the real abuse engine (and the real enforcer over the
// policy store): a bot's case with its evidence in words and timeline, a note
// (escaped), a release with its required reason, a desk quarantine; a role
// that may not note, in words, with the note kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, post, main, errorOf, valueOf, lastAudit, withRig, type ConsoleRig } from '../../../test/lib/console-app.ts';

/** A subscriber holding 198.51.100.7 whose bot the engine quarantined: case c1. */
async function botCase(r: ConsoleRig): Promise<string> {
  await r.app.accounts!.add({ login: 'bob@isp.example', password: 'a long password here', subscriber: 'sub-1' });
  await r.directory.putSubscriber({ id: 'sub-1', tier: 'residential', contacts: ['bob@home.example'] });
  await r.directory.assign({ subscriber: 'sub-1', prefix: '198.51.100.7', portLo: null, portHi: null, start: r.clock.now(), end: null, source: 'api', session: null });
  await r.bot('198.51.100.7', 40);
  const [c] = await r.app.cases!.list({ state: 'open' });
  assert.ok(c, 'the engine opened a case');
  return c.id;
}

test('cases: listed by state, one case with evidence in words and its timeline; a note (escaped), a release with its required reason, a desk quarantine', async (t) => {
  const r = await withRig(t);
  const id = await botCase(r);
  const missing = await get(`${r.url}/cases/c999`);
  assert.equal(missing.status, 404);
  assert.match(missing.body, /<p class="error" role="alert">There is no such thing: no case c999<\/p>/);
  const list = await get(`${r.url}/cases`);
  assert.match(main(list.body), new RegExp(`<a href="/cases/${id}">${id}</a></td><td><a href="/subscribers/sub-1">sub-1</a></td><td>open</td>`));
  assert.match(list.body, /<td>notify, quarantine<\/td>/);
  assert.doesNotMatch((await get(`${r.url}/cases?state=closed`)).body, new RegExp(`href="/cases/${id}"`));
  const one = await get(`${r.url}/cases/${id}`);
  assert.match(one.body, /<td>\d+ blocked port-25 connection attempts from 198\.51\.100\.7<\/td><td>edge:bng1<\/td>/);
  assert.match(one.body, /<td>decision<\/td><td>engine<\/td><td>rule bot: /);
  assert.match(one.body, /<th scope="row">Score<\/th><td>\d+\.\d /);

  const note = await post(`${r.url}/cases/${id}/note`, { text: 'called the customer <script>x</script>\r\nX-Evil: 1' });
  assert.deepEqual([note.status, note.location], [303, `/cases/${id}?done=note`]);
  const noted = await get(`${r.url}${note.location}`);
  assert.doesNotMatch(noted.body, /<script>/);
  assert.match(noted.body, /<td>note<\/td><td>staff:alice<\/td><td>called the customer &#60;script&#62;x&#60;\/script&#62;/);

  const noReason = await post(`${r.url}/cases/${id}/release`, { reason: '' });
  assert.equal(noReason.status, 400);
  assert.equal(errorOf(noReason.body, 'release-reason'), 'Reason: this field is required.');
  assert.equal((await r.app.policy!.listQuarantines()).length, 1, 'still quarantined');
  const rel = await post(`${r.url}/cases/${id}/release`, { reason: 'cleaned the laptop' });
  assert.equal(rel.status, 303);
  assert.equal((await r.app.policy!.listQuarantines()).length, 0, 'the walled garden let go');
  const released = (await get(`${r.url}${rel.location}`)).body;
  assert.match(released, /Case released\./);
  assert.doesNotMatch(released, /<td>quarantine<\/td><td>bot<\/td>/, 'the quarantine is no longer in force');
  assert.equal(await lastAudit(r), `staff:alice@127.0.0.1 cases.release case ${id} ok cleaned the laptop`);

  r.gate.who = { name: 'nina', role: 'netops' };
  const nope = await post(`${r.url}/cases/${id}/note`, { text: 'not mine to write' });
  assert.equal(nope.status, 403);
  assert.match(nope.body, /Your role \(netops\) may not add notes to cases\./);
  assert.match(nope.body, /<textarea id="note-text" name="text" required rows="3">not mine to write<\/textarea>/, 'the note is kept');
  r.gate.who = { name: 'dora', role: 'desk' };
  const bad = await post(`${r.url}/cases/quarantine`, { subscriber: 'sub-1', duration: 'soon', reason: 'again' });
  assert.equal(bad.status, 400);
  assert.match(errorOf(bad.body, 'quarantine-duration') ?? '', /not a whole number/);
  assert.equal(valueOf(bad.body, 'quarantine-subscriber'), 'sub-1');
  const long = await post(`${r.url}/cases/quarantine`, { subscriber: 'sub-1', duration: '9000', reason: 'again' });
  assert.equal(errorOf(long.body, 'quarantine-duration'), 'A value is outside what is allowed: from 1 hour to 365 days (8760 hours)');
  const q = await post(`${r.url}/cases/quarantine`, { subscriber: 'sub-1', duration: '2', reason: 'again' });
  assert.equal(q.status, 303);
  assert.equal((await r.app.policy!.listQuarantines())[0].prefix, '198.51.100.7');
  assert.match(await lastAudit(r), /^staff:dora@127\.0\.0\.1 cases\.quarantine subscriber sub-1 ok again$/);
});
