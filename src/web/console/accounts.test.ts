// /accounts over HTTP on a real app layer (test/lib/console-app.ts): created, found,
// shown with the limits in effect and their live state, disabled and enabled, a
// new password, sender addresses; refusals beside their field with the input
// kept; a login with <script> and CRLF escaped. And what every console POST
// needs: the session's CSRF token, someone signed in, a role that allows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, post, main, errorOf, valueOf, lastAudit, withRig } from '../../../test/lib/console-app.ts';

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
