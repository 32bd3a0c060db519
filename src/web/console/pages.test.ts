// The console's pages over HTTP on a real app layer (test/lib/console-app.ts:
// SQLite store, accounts, policy store, directory, the real abuse engine and
// enforcer, a real spool) behind the real listener: each page shows real data,
// a POST changes it (303, the change visible, an audit row naming the staff
// person), a POST without the CSRF token is refused, a role's refusal is shown
// in words, bad input is shown beside its field with the input kept, and
// outside text (a login, a subject, a note with <script> and CRLF) is escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleRig, get, post, type ConsoleRig } from '../../../test/lib/console-app.ts';

const main = (body: string): string => body.slice(body.indexOf('<main'), body.indexOf('</main>'));
const errorOf = (body: string, id: string): string | undefined =>
  new RegExp(`<div class="error" id="${id}-error" role="alert">([^<]*)</div>`).exec(body)?.[1];
const valueOf = (body: string, id: string): string | undefined => new RegExp(`id="${id}"[^>]* value="([^"]*)"`).exec(body)?.[1];

async function lastAudit(r: ConsoleRig) {
  const [row] = await r.audit();
  return `${row.actorKind}:${row.actor}@${row.from} ${row.action} ${row.object} ${row.outcome} ${row.reason}`;
}

async function withRig(t: { after(fn: () => unknown): void }): Promise<ConsoleRig> {
  const r = await consoleRig();
  t.after(() => r.close());
  return r;
}

test('accounts: created, shown with its limits, disabled, aliases; refusals beside the field with the input kept; a login with <script> escaped', async (t) => {
  const r = await withRig(t);
  const made = await post(`${r.url}/accounts`, { login: 'Bob@ISP.example', password: 'a long password here', subscriber: 'sub-1', addresses: '@bob.example' });
  assert.deepEqual([made.status, made.location], [303, '/accounts/bob%40isp.example?done=added']);
  assert.equal(await lastAudit(r), 'staff:alice@127.0.0.1 accounts.add account Bob@ISP.example ok ');
  const list = await get(`${r.url}/accounts`);
  assert.match(main(list.body), /<a href="\/accounts\/bob%40isp\.example">bob@isp\.example<\/a><\/td><td><a href="\/subscribers\/sub-1">sub-1<\/a>/);
  await r.app.accounts!.add({ login: 'carol@isp.example', password: 'a long password here', subscriber: 'sub-2' });
  const found = main((await get(`${r.url}/accounts?login=BOB@isp.example`)).body);
  assert.ok(found.includes('>bob@isp.example</a>') && !found.includes('>carol@isp.example</a>'), 'one login: that account alone');
  assert.match((await get(`${r.url}/accounts?login=nobody@isp.example`)).body, /<p class="error" role="alert">There is no such thing: no account nobody@isp\.example<\/p>/);
  assert.ok(main((await get(`${r.url}/accounts?subscriber=sub-2`)).body).includes('>carol@isp.example</a>'));
  const one = await get(`${r.url}/accounts/bob%40isp.example?done=added`);
  assert.match(one.body, /<p class="notice" role="status">Account created\.<\/p>/);
  assert.match(one.body, /<td>messages-hour<\/td><td>messages<\/td><td>100<\/td><td>hour<\/td><td>100<\/td><td>defer<\/td><td>100<\/td><td>full now<\/td>/, 'the limits in effect');
  await r.send('bob@isp.example', 3, 2);
  const spent = await get(`${r.url}/accounts/bob%40isp.example`);
  assert.match(spent.body, /<td>messages-hour<\/td><td>messages<\/td><td>100<\/td><td>hour<\/td><td>100<\/td><td>defer<\/td><td>97<\/td><td>108 s<\/td>/, 'and what is left of each now');
  assert.match(spent.body, /<td>recipients-hour<\/td><td>recipients<\/td><td>300<\/td><td>hour<\/td><td>300<\/td><td>defer<\/td><td>294<\/td>/);
  assert.match(one.body, /<td>@bob\.example<\/td>/);

  const off = await post(`${r.url}/accounts/bob%40isp.example/disable`, { reason: 'spam run' });
  assert.equal(off.status, 303);
  assert.match((await get(`${r.url}${off.location}`)).body, /<th scope="row">Disabled because<\/th><td>spam run<\/td>/);
  assert.equal(await lastAudit(r), 'staff:alice@127.0.0.1 accounts.disable account bob@isp.example ok spam run');
  assert.equal((await r.app.accounts!.get('bob@isp.example'))!.status, 'disabled');

  assert.equal((await post(`${r.url}/accounts/bob%40isp.example/enable`, { reason: 'cleaned' })).location, '/accounts/bob%40isp.example?done=enabled');
  assert.equal((await r.app.accounts!.get('bob@isp.example'))!.status, 'active');
  const hash = (await r.app.accounts!.authRecord('bob@isp.example'))!.hash;
  const weak = await post(`${r.url}/accounts/bob%40isp.example/password`, { password: 'short' });
  assert.match(errorOf(weak.body, 'passwd-password') ?? '', /password has 5 characters/);
  assert.equal((await post(`${r.url}/accounts/bob%40isp.example/password`, { password: 'another long password' })).location, '/accounts/bob%40isp.example?done=passwd');
  assert.notEqual((await r.app.accounts!.authRecord('bob@isp.example'))!.hash, hash);
  const [pw] = await r.audit();
  assert.deepEqual([pw.actor, pw.action, pw.outcome, pw.detail], ['alice', 'accounts.passwd', 'ok', '{"login":"bob@isp.example","password":"[redacted]"}']);
  assert.equal((await post(`${r.url}/accounts/bob%40isp.example/aliases/remove`, { address: '@bob.example' })).location, '/accounts/bob%40isp.example?done=aliasRemoved');
  assert.equal(await r.app.accounts!.mayUseAddress('bob@isp.example', 'x@bob.example'), false);
  const again = await post(`${r.url}/accounts/bob%40isp.example/aliases/remove`, { address: '@bob.example' });
  assert.match((await get(`${r.url}${again.location}`)).body, /That address was not listed\./);
  await post(`${r.url}/accounts/bob%40isp.example/aliases/add`, { address: '@bob.example' });
  const bad = await post(`${r.url}/accounts/bob%40isp.example/aliases/add`, { address: 'not an address' });
  assert.equal(bad.status, 400);
  assert.match(errorOf(bad.body, 'alias-add-address') ?? '', /^That is not a valid mail address: /);
  assert.equal(valueOf(bad.body, 'alias-add-address'), 'not an address', 'the input is kept');
  assert.match(bad.body, /aria-invalid="true" aria-describedby="alias-add-address-hint alias-add-address-error"/);

  const short = await post(`${r.url}/accounts`, { login: 'carol@isp.example', password: 'short', subscriber: 'sub-2' });
  assert.equal(short.status, 400);
  assert.match(errorOf(short.body, 'create-password') ?? '', /^The password does not meet the password policy: password has 5 characters/);
  assert.equal(valueOf(short.body, 'create-login'), 'carol@isp.example');
  assert.equal(valueOf(short.body, 'create-subscriber'), 'sub-2');
  assert.equal(valueOf(short.body, 'create-password'), '', 'a password is never sent back');

  const evil = await post(`${r.url}/accounts`, { login: '<script>alert(1)</script>\r\nX-Evil: 1', password: 'a long password here' });
  assert.equal(evil.status, 400);
  assert.doesNotMatch(evil.body, /<script>/);
  assert.match(valueOf(evil.body, 'create-login') ?? '', /^&#60;script&#62;alert\(1\)&#60;\/script&#62;\r\nX-Evil: 1$/);
  const audit = await get(`${r.url}/audit`);
  assert.doesNotMatch(audit.body, /<script>/, 'the refused login in the audit log is escaped too');
  assert.match(audit.body, /&#60;script&#62;alert\(1\)/);
});

test('every POST needs the session\'s CSRF token; nobody signed in gets 401; a desk may hold but not delete, in words', async (t) => {
  const r = await withRig(t);
  const nocsrf = await post(`${r.url}/accounts`, { login: 'x@isp.example', password: 'a long password here' }, { csrf: false });
  assert.equal(nocsrf.status, 403);
  assert.match(nocsrf.body, /This form did not come from your current session/);
  assert.equal(await r.app.accounts!.get('x@isp.example'), null);
  assert.equal((await r.audit()).length, 0, 'refused before any operation');
  for (const url of ['/queue/act', '/cases/quarantine', '/policy/pools/add', '/subscribers', '/policy/settings']) {
    assert.equal((await post(`${r.url}${url}`, { reason: 'x' }, { csrf: false })).status, 403, url);
  }

  r.gate.who = { name: 'dora', role: 'desk' };
  const id = await r.queue({ from: 'bob@isp.example', to: 'dave@example.net' });
  const del = await post(`${r.url}/queue/act`, { ids: [id], action: 'delete', reason: 'looks bad' });
  assert.equal(del.status, 403);
  assert.match(del.body, /<p class="error" role="alert" id="act-error">Your role \(desk\) may not delete messages from the queue\.<\/p>/);
  assert.match(del.body, new RegExp(`value="${id}" id="sel-${id}" aria-label="Select message ${id}" checked`), 'the selection is kept');
  assert.match(del.body, /id="act-reason" name="reason" type="text" value="looks bad"/);
  assert.equal(await lastAudit(r), `staff:dora@127.0.0.1 queue.delete queue ${id} forbidden looks bad`);
  const held = await post(`${r.url}/queue/${id}/act`, { action: 'hold', reason: 'case 7' });
  assert.deepEqual([held.status, held.location], [303, `/queue/${id}?done=hold&n=1&skipped=0&missing=0`]);
  const shown = await get(`${r.url}${held.location}`);
  assert.match(shown.body, /Hold: 1 message done\./);
  assert.match(shown.body, /<th scope="row">Why held<\/th><td>held by operator: case 7<\/td>/);
  const back = await post(`${r.url}/queue/act`, { ids: [id], action: 'release', reason: 'fine after all' });
  assert.equal(back.location, '/queue?done=release&n=1&skipped=0&missing=0');
  assert.equal((await r.spool.stats()).hold, 0);
  const add = await post(`${r.url}/accounts`, { login: 'x@isp.example', password: 'a long password here' });
  assert.match(add.body, /Your role \(desk\) may not create accounts\./);

  r.gate.who = null;
  assert.equal((await get(`${r.url}/accounts`)).status, 401);
  assert.equal((await post(`${r.url}/accounts`, { login: 'y@isp.example', password: 'a long password here' })).status, 401);
});

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
  const q = await post(`${r.url}/cases/quarantine`, { subscriber: 'sub-1', duration: '2', reason: 'again' });
  assert.equal(q.status, 303);
  assert.equal((await r.app.policy!.listQuarantines())[0].prefix, '198.51.100.7');
  assert.match(await lastAudit(r), /^staff:dora@127\.0\.0\.1 cases\.quarantine subscriber sub-1 ok again$/);
});

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

test('policy: entries of each kind added and removed with a reason, schema choices as selects; edges, diff, compile, settings; audit filters', async (t) => {
  const r = await withRig(t);
  const pool = await post(`${r.url}/policy/pools/add`, { prefix: '198.51.100.0/24', class: 'dynamic', note: 'dsl', reason: 'roll-out' });
  assert.deepEqual([pool.status, pool.location], [303, '/policy?done=add']);
  assert.equal((await post(`${r.url}/policy/exemptions/add`, { prefix: '198.51.100.9', customer: 'c-9', expiresAt: '2027-01-01T00:00', reason: 'premium' })).status, 303);
  const page = await get(`${r.url}/policy`);
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
  const set = await post(`${r.url}/policy/settings`, { action: 'drop', relay25: 'true', subscriberIfaces: 'ppp0, ppp1', upstreamIfaces: '', notice4: '', notice6: '', reason: 'quiet' });
  assert.equal(set.status, 303, set.body);
  assert.deepEqual((await r.app.policy!.settings()).subscriberIfaces, ['ppp0', 'ppp1']);

  const audit = await get(`${r.url}/audit?actor=nina&outcome=forbidden`);
  assert.match(audit.body, /<td>staff:nina<\/td><td>127\.0\.0\.1<\/td><td>policy\.pools\.remove<\/td><td>pool 198\.51\.100\.0\/24<\/td><td>gone<\/td><td><span class="bad">forbidden<\/span>/);
  assert.equal((audit.body.match(/<td>staff:/g) ?? []).length, 1, 'only the refused one');
  const badSince = await get(`${r.url}/audit?since=last+week`);
  assert.match(errorOf(badSince.body, 'f-since') ?? '', /not a time/);
  assert.equal(valueOf(badSince.body, 'f-since'), 'last week');
  const paged = await get(`${r.url}/audit?action=policy.`);
  assert.ok((paged.body.match(/<td>staff:/g) ?? []).length >= 4);
});
