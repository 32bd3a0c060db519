// The console frame on a real SQLite store through Fastify's inject: the
// sign-in's two steps and the forced password change, the guard, CSRF shared by
// two tabs and refused without it, TOTP replay, lockout per name (existing or
// not) and per address, sign-out, revocation by disable; every step audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { TOTP } from 'otpauth';
import { ManualClock, MemoryLogger } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, STAFF_MIGRATIONS, StaffRepository, loadOperations, nameKey, totpFor } from '../../app/index.ts';
import { configureHashing } from '../../auth/index.ts';
import { tempDir } from '../../../test/lib/tools.ts';
import { safeNext } from '../staff/signin.ts';
import { CONSOLE_PAGES, ConsoleSessions, PAGE_HEADERS, consoleFrame, csrfField, html, sendPage, type ConsoleDeps } from '../index.ts';

async function fixture(t: { after(fn: () => unknown): void }) {
  const tmp = tempDir('pw-console-');
  const store = await openStore(join(tmp.path, 'state.db'));
  await store.migrate([...AUDIT_MIGRATIONS, ...STAFF_MIGRATIONS]);
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 12, 0, 10));
  const staff = new StaffRepository(store.db, () => clock.now());
  const audit = new AuditLog(store.db);
  const logger = new MemoryLogger();
  const gate = new ConsoleSessions({ access: staff.access, secret: randomBytes(32), sessionMs: 12 * 3600_000, idleMs: 30 * 60_000, clock });
  const app = Fastify();
  await consoleFrame(app, { app: { clock, logger, audit, staff }, audit, operations: new Map((await loadOperations()).map((o) => [o.name, o])), clock, logger, gate },
    { staff, lock: { nameAttempts: 3, addressAttempts: 5, windowMs: 15 * 60_000 } });
  await app.ready();
  t.after(async () => { await app.close(); await store.close(); tmp.remove(); });
  return { app, staff, clock, audit, store };
}

/** One browser: its cookie jar, requests from one address. */
class Browser {
  readonly jar = new Map<string, string>();
  readonly app: FastifyInstance;
  readonly ip: string;
  constructor(app: FastifyInstance, ip = '192.0.2.10') { this.app = app; this.ip = ip; }
  async req(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<LightMyRequestResponse> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await this.app.inject({
      method, url, remoteAddress: this.ip, headers: { ...(cookie ? { cookie } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of r.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())) this.jar.delete(c.name); else this.jar.set(c.name, c.value);
    }
    return r;
  }
}
const csrfIn = (body: string): string => /name="_csrf" value="([^"]+)"/.exec(body)![1];
const codeAt = (secret: string, at: number) => TOTP.generate({ secret: totpFor('x', secret).secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });

async function signIn(b: Browser, name: string, password: string, secret: string, at: number): Promise<LightMyRequestResponse> {
  const form = await b.req('GET', '/signin');
  const r1 = await b.req('POST', '/signin', { _csrf: csrfIn(form.body), name, password });
  assert.equal(r1.statusCode, 303, r1.body);
  assert.equal(r1.headers.location, '/signin/code');
  const codePage = await b.req('GET', '/signin/code');
  return b.req('POST', '/signin/code', { _csrf: csrfIn(codePage.body), code: codeAt(secret, at) });
}

test('sign-in: password, code, forced password change, home; the guard; cookies as stated; sign-out; every step audited', async (t) => {
  const { app, staff, clock, audit } = await fixture(t);
  const { totp, password } = await staff.add({ name: 'Alice', role: 'desk', createdBy: 'operator:root' });
  const b = new Browser(app);
  const guarded = await b.req('GET', '/');
  assert.deepEqual([guarded.statusCode, guarded.headers.location], [303, '/signin']);
  assert.equal((await b.req('POST', '/staff', { name: 'x' })).statusCode, 401, 'a POST without a session is 401, not a redirect');
  const odd = await app.inject({ method: 'POST', url: '/signin', headers: { 'content-type': 'text/x-<b>odd</b>' }, payload: 'x' });
  assert.equal(odd.statusCode, 415);
  assert.match(String(odd.headers['content-type']), /^text\/html/, 'a refusal of the sign-in is a page too');
  assert.doesNotMatch(odd.body, /<b>odd/);
  const form = await b.req('GET', '/signin');
  assert.match(String(form.headers['set-cookie']), /^__Host-pw_console_pre=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  assert.match(form.body, /<label for="name">Staff name<\/label>/);
  const r = await signIn(b, 'ALICE', password!, totp.secret, clock.now());
  assert.deepEqual([r.statusCode, r.headers.location], [303, '/signin/password']);
  assert.match(String(r.headers['set-cookie']), /^__Host-pw_console=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  assert.deepEqual([(await b.req('GET', '/')).headers.location], ['/signin'], 'not signed in before the password is changed');
  const pw = await b.req('GET', '/signin');
  assert.equal(pw.headers.location, '/signin/password');
  const change = await b.req('GET', '/signin/password');
  const tok = csrfIn(change.body);
  const short = await b.req('POST', '/signin/password', { _csrf: tok, password: 'short', again: 'short' });
  assert.equal(short.statusCode, 400);
  assert.match(short.body, /shorter than 12 characters/);
  assert.match((await b.req('POST', '/signin/password', { _csrf: tok, password: 'my own passphrase', again: 'my own passphrase!' })).body, /The two passwords differ/);
  assert.match((await b.req('POST', '/signin/password', { _csrf: tok, password: password!, again: password! })).body, /other than the one you were given/);
  const done = await b.req('POST', '/signin/password', { _csrf: tok, password: 'my own passphrase', again: 'my own passphrase' });
  assert.deepEqual([done.statusCode, done.headers.location], [303, '/']);
  const home = await b.req('GET', '/');
  assert.equal(home.statusCode, 200);
  assert.match(home.body, /Signed in as alice \(desk\)/);
  assert.match(home.body, /<a href="\/cases">Cases<\/a>/);
  assert.doesNotMatch(home.body, /href="\/staff"/, 'the staff area is listed to admins only');
  assert.equal(home.headers['content-security-policy'], PAGE_HEADERS['content-security-policy']);
  assert.equal((await staff.get('alice'))!.mustChangePassword, false);
  // Sign-out needs the token, deletes the row and the cookie.
  assert.equal((await b.req('POST', '/signout', {})).statusCode, 403);
  const out = await b.req('POST', '/signout', { _csrf: csrfIn(home.body) });
  assert.deepEqual([out.statusCode, out.headers.location], [303, '/signin?out=1']);
  assert.equal((await b.req('GET', '/')).headers.location, '/signin');
  assert.equal(await staff.sessionCount('alice'), 0);
  const rows = (await audit.list({ actor: 'alice' })).entries.map((e) => [e.actorKind, e.action, e.outcome]).reverse();
  assert.deepEqual(rows, [['staff', 'console.signin', 'ok'], ['staff', 'console.password', 'ok'], ['staff', 'console.signout', 'ok']]);
});

test('CSRF: one token for the session, so two tabs post at once; a form without it or with another session\'s is refused 403', async (t) => {
  const { app, staff, clock, audit } = await fixture(t);
  const { totp } = await staff.add({ name: 'root', role: 'admin', password: 'root passphrase', createdBy: 'x' });
  const b = new Browser(app);
  assert.equal((await signIn(b, 'root', 'root passphrase', totp.secret, clock.now())).headers.location, '/');
  const tab1 = await b.req('GET', '/staff');
  const tab2 = await b.req('GET', '/');
  assert.equal(csrfIn(tab1.body), csrfIn(tab2.body), 'the same token in every tab');
  const a = await b.req('POST', '/staff', { _csrf: csrfIn(tab1.body), name: 'desk.one', role: 'desk', password: '' });
  const c = await b.req('POST', '/staff', { _csrf: csrfIn(tab2.body), name: 'desk.two', role: 'desk', password: '' });
  assert.deepEqual([a.statusCode, c.statusCode], [200, 200]);
  assert.match(a.body, /otpauth:\/\/totp\/portwarden:desk\.one\?/);
  assert.match(c.body, /Generated password/);
  const none = await b.req('POST', '/staff', { name: 'desk.three', role: 'desk' });
  assert.equal(none.statusCode, 403);
  assert.match(none.body, /This form has expired or did not come from this console page/);
  // Another person's token is no good in this session.
  const other = new Browser(app, '192.0.2.11');
  const { totp: t2 } = await staff.add({ name: 'bob', role: 'admin', password: 'bob passphrase!', createdBy: 'x' });
  await signIn(other, 'bob', 'bob passphrase!', t2.secret, clock.now());
  const bobs = csrfIn((await other.req('GET', '/')).body);
  assert.equal((await b.req('POST', '/staff', { _csrf: bobs, name: 'desk.four', role: 'desk' })).statusCode, 403);
  assert.deepEqual((await staff.list()).map((u) => u.name), ['bob', 'desk.one', 'desk.two', 'root']);
  // A refused add shows the input again with the error next to the field.
  const bad = await b.req('POST', '/staff', { _csrf: csrfIn(tab1.body), name: 'Bad Name!', role: 'netops', password: '' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /<input id="add-name" name="name"[^>]*value="Bad Name!" aria-invalid="true" aria-describedby="add-name-error">/);
  assert.match(bad.body, /<option value="netops" selected>/);
  assert.match(bad.body, /id="add-name-error">a staff name is 2 to 32 characters/);
  // Admin actions run as the person through invoke(): audited with their name and address.
  const dis = await b.req('POST', '/staff/desk.one/disable', { _csrf: csrfIn(tab1.body) });
  assert.deepEqual([dis.statusCode, dis.headers.location], [303, '/staff?done=disable&name=desk.one']);
  assert.match((await b.req('GET', dis.headers.location as string)).body, /desk\.one: disabled, their sessions ended\./);
  const e = (await audit.list({ action: 'staff.disable' })).entries[0];
  assert.deepEqual([e.actorKind, e.actor, e.from, e.object, e.outcome], ['staff', 'root', '192.0.2.10', 'staff desk.one', 'ok']);
  assert.equal((await audit.list({ action: 'staff.add' })).entries.every((x) => !x.detail.includes('passphrase')), true);
});

test('a desk user gets the staff page refused in words and cannot run staff.* by posting', async (t) => {
  const { app, staff, clock } = await fixture(t);
  const { totp } = await staff.add({ name: 'dora', role: 'desk', password: 'dora passphrase', createdBy: 'x' });
  const b = new Browser(app);
  await signIn(b, 'dora', 'dora passphrase', totp.secret, clock.now());
  const page = await b.req('GET', '/staff');
  assert.equal(page.statusCode, 403);
  assert.match(page.body, /Only an administrator can see and change the staff users/);
  const tok = csrfIn((await b.req('GET', '/')).body);
  assert.equal((await b.req('POST', '/staff', { _csrf: tok, name: 'evil', role: 'admin' })).statusCode, 403);
  assert.equal(await staff.get('evil'), null);
});

test('TOTP replay is refused at the sign-in; a wrong code counts; disabling and a role change end a session at once', async (t) => {
  const { app, staff, clock, audit } = await fixture(t);
  const { totp } = await staff.add({ name: 'erin', role: 'postmaster', password: 'erin passphrase', createdBy: 'x' });
  const b1 = new Browser(app);
  assert.equal((await signIn(b1, 'erin', 'erin passphrase', totp.secret, clock.now())).headers.location, '/');
  const b2 = new Browser(app);
  const again = await signIn(b2, 'erin', 'erin passphrase', totp.secret, clock.now());
  assert.equal(again.statusCode, 401, 'the same code a second time');
  assert.match(again.body, /That code is wrong, or it was used already/);
  const wrongPage = await b2.req('GET', '/signin/code');
  const wrong = await b2.req('POST', '/signin/code', { _csrf: csrfIn(wrongPage.body), code: '000000' === codeAt(totp.secret, clock.now()) ? '111111' : '000000' });
  assert.equal(wrong.statusCode, 401);
  clock.advance(30_000);
  const next = await b2.req('POST', '/signin/code', { _csrf: csrfIn(wrongPage.body), code: codeAt(totp.secret, clock.now()) });
  assert.equal(next.headers.location, '/', 'the next step\'s code signs in');
  assert.deepEqual((await audit.list({ actor: 'erin', action: 'console.signin' })).entries.map((e) => e.outcome).reverse(), ['ok', 'replayed-code', 'bad-code', 'ok']);
  assert.equal((await b1.req('GET', '/')).statusCode, 200);
  await staff.setRole('erin', 'desk');
  assert.equal((await b1.req('GET', '/')).headers.location, '/signin', 'a role change ends the session');
  assert.equal((await b2.req('GET', '/')).headers.location, '/signin');
  // Idle and absolute lifetimes.
  clock.advance(30_000);
  const b3 = new Browser(app);
  await signIn(b3, 'erin', 'erin passphrase', totp.secret, clock.now());
  clock.advance(29 * 60_000);
  assert.equal((await b3.req('GET', '/')).statusCode, 200);
  clock.advance(29 * 60_000);
  assert.equal((await b3.req('GET', '/')).statusCode, 200, 'used within the idle time: alive');
  clock.advance(30 * 60_000);
  assert.equal((await b3.req('GET', '/')).headers.location, '/signin', 'idle for 30 minutes: ended');
  clock.advance(30_000);
  const b4 = new Browser(app);
  await signIn(b4, 'erin', 'erin passphrase', totp.secret, clock.now());
  assert.equal((await b4.req('GET', '/')).statusCode, 200);
  await staff.disable('erin');
  assert.equal((await b4.req('GET', '/')).headers.location, '/signin', 'disabling ends the session at once');
});

test('lockout: the third failure locks the name (known or not, same words), the fifth from one address locks the address', async (t) => {
  const { app, staff, clock, audit } = await fixture(t);
  await staff.add({ name: 'fred', role: 'desk', password: 'fred passphrase', createdBy: 'x' });
  const attempt = async (b: Browser, name: string, password: string) => {
    const form = await b.req('GET', '/signin');
    return b.req('POST', '/signin', { _csrf: csrfIn(form.body), name, password });
  };
  const bodies: string[] = [];
  const from = { fred: new Browser(app, '198.51.100.1'), ghost: new Browser(app, '198.51.100.5') };
  for (const name of ['fred', 'ghost'] as const) {
    for (let i = 0; i < 2; i++) {
      const r = await attempt(from[name], name, 'wrong password');
      assert.equal(r.statusCode, 401);
      bodies.push(r.body.replace(/value="[^"]*"/g, ''));
    }
  }
  assert.equal(new Set(bodies).size, 1, 'a known and an unknown name get the same answer');
  const known = await attempt(from.fred, 'fred', 'wrong password');
  const unknown = await attempt(from.ghost, 'ghost', 'wrong password');
  assert.deepEqual([known.statusCode, unknown.statusCode], [429, 429]);
  assert.match(known.body, /Too many failed sign-ins: signing in with this name or from this address is locked until 12:15 UTC \(about 15 minutes from now\)/);
  assert.equal(known.body.replace(/value="[^"]*"/g, ''), unknown.body.replace(/value="[^"]*"/g, ''), 'the lock says nothing about whether the name exists');
  // Locked: even the right password from elsewhere is not checked.
  const other = new Browser(app, '198.51.100.2');
  assert.equal((await attempt(other, 'fred', 'fred passphrase')).statusCode, 429);
  // One address walking through names: its fifth failure locks it for every name.
  await staff.add({ name: 'gina', role: 'desk', password: 'gina passphrase', createdBy: 'x' });
  const walker = new Browser(app, '198.51.100.6');
  for (const n of ['u1', 'u2', 'u3', 'u4']) assert.equal((await attempt(walker, n, 'guess')).statusCode, 401);
  assert.equal((await attempt(walker, 'u5', 'guess')).statusCode, 429);
  assert.equal((await attempt(walker, 'gina', 'gina passphrase')).statusCode, 429, 'the address is locked');
  assert.equal((await attempt(other, 'gina', 'gina passphrase')).statusCode, 303, 'another address is not');
  const locks = (await audit.list({ action: 'console.lockout' })).entries.map((e) => JSON.parse(e.detail).key).sort();
  assert.deepEqual(locks, ['addr:198.51.100.6', 'name:fred', 'name:ghost']);
  clock.advance(15 * 60_000);
  assert.equal((await attempt(new Browser(app, '198.51.100.3'), 'fred', 'fred passphrase')).statusCode, 303, 'the lock ends by itself');
  // A bad code counts toward the lock too.
  const b4 = new Browser(app, '198.51.100.4');
  await staff.add({ name: 'hana', role: 'desk', password: 'hana passphrase', createdBy: 'x' });
  let last!: LightMyRequestResponse;
  assert.equal((await attempt(b4, 'hana', 'hana passphrase')).statusCode, 303);
  for (let i = 0; i < 3; i++) {
    const page = await b4.req('GET', '/signin/code');
    if (page.statusCode !== 200) break;
    last = await b4.req('POST', '/signin/code', { _csrf: csrfIn(page.body), code: '12345x'.replace('x', String(i)) });
  }
  assert.equal(last.statusCode, 429);
  assert.equal(await staff.sessionCount('hana'), 0, 'the waiting session ends with the lock');
});

test('a CONSOLE_PAGES module gets the ConsoleDeps behind the guard, its form body intact (its own csrfOk agrees); unknown paths are an HTML 404', async (t) => {
  const seen: Array<Record<string, unknown>> = [];
  const mod = (app: FastifyInstance, deps: ConsoleDeps) => {
    app.get('/probe', async (req, reply) => {
      const p = (await deps.gate.current(req))!;
      return sendPage(reply, { body: html`<form method="post" action="/probe">${csrfField(p)}<button>go</button></form>` });
    });
    app.post('/probe', async (req, reply) => {
      const p = (await deps.gate.current(req))!;
      const body = req.body as Record<string, unknown>;
      seen.push({ ...body, ok: deps.gate.csrfOk(req, p, body._csrf), who: p.name, ops: deps.operations.has('staff.add') });
      return reply.code(204).send();
    });
  };
  CONSOLE_PAGES.push(mod);
  t.after(() => { CONSOLE_PAGES.splice(CONSOLE_PAGES.indexOf(mod), 1); });
  const { app, staff, clock } = await fixture(t);
  const b = new Browser(app);
  assert.equal((await b.req('GET', '/probe?x=1')).headers.location, '/signin?next=%2Fprobe%3Fx%3D1', 'behind the guard; back there after the sign-in');
  assert.equal((await b.req('GET', '/nowhere')).headers.location, '/signin?next=%2Fnowhere', 'an unknown path tells nothing before the sign-in');
  const { totp } = await staff.add({ name: 'ivy', role: 'netops', password: 'ivy passphrase!', createdBy: 'x' });
  const start = await b.req('GET', '/signin?next=%2Fprobe%3Fx%3D1');
  assert.match(start.body, /<form method="post" action="\/signin\?next=%2Fprobe%3Fx%3D1">/);
  const step1 = await b.req('POST', '/signin?next=%2Fprobe%3Fx%3D1', { _csrf: csrfIn(start.body), name: 'ivy', password: 'ivy passphrase!' });
  assert.equal(step1.headers.location, '/signin/code?next=%2Fprobe%3Fx%3D1');
  const codePage = await b.req('GET', step1.headers.location as string);
  const step2 = await b.req('POST', '/signin/code?next=%2Fprobe%3Fx%3D1', { _csrf: csrfIn(codePage.body), code: codeAt(totp.secret, clock.now()) });
  assert.equal(step2.headers.location, '/probe?x=1');
  for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', '/signin', '/signout', '/a b', '/x\u0000']) assert.equal(safeNext(bad), null, bad);
  assert.equal(safeNext('/cases/42?tab=evidence'), '/cases/42?tab=evidence');
  const form = await b.req('GET', '/probe');
  assert.equal((await b.req('POST', '/probe', { _csrf: csrfIn(form.body), note: 'hello' })).statusCode, 204);
  assert.deepEqual(seen, [{ _csrf: csrfIn(form.body), note: 'hello', ok: true, who: 'ivy', ops: true }]);
  assert.equal((await b.req('POST', '/probe', { note: 'no token' })).statusCode, 403, 'refused before the module sees it');
  assert.equal(seen.length, 1);
  const missing = await b.req('GET', '/nowhere');
  assert.equal(missing.statusCode, 404);
  assert.match(missing.body, /<p class="error" role="alert">There is no such page in the console\.<\/p>/);
  assert.match(String(missing.headers['content-type']), /^text\/html/);
});

test('every password slot busy: the sign-in answers 503 in words, counting no failure', async (t) => {
  const { app, staff } = await fixture(t);
  await staff.add({ name: 'jo', role: 'desk', password: 'jo passphrase!!', createdBy: 'x' });
  configureHashing({ concurrency: 1, queue: 0 });
  t.after(() => configureHashing({}));
  const browsers = Array.from({ length: 4 }, (_, i) => new Browser(app, `192.0.2.${100 + i}`));
  const forms = await Promise.all(browsers.map((b) => b.req('GET', '/signin')));
  const answers = await Promise.all(browsers.map((b, i) => b.req('POST', '/signin', { _csrf: csrfIn(forms[i].body), name: 'jo', password: 'not it at all' })));
  const busy = answers.filter((r) => r.statusCode === 503);
  assert.ok(busy.length >= 1 && answers.some((r) => r.statusCode === 401), answers.map((r) => r.statusCode).join());
  assert.match(busy[0].body, /checking many passwords at this moment/);
  assert.equal(busy[0].headers['retry-after'], '5');
  assert.equal((await staff.access.state(nameKey('jo'))).failures, answers.filter((r) => r.statusCode === 401).length, 'a busy answer is no failure');
});
