// The portal's sessions on a real SQLite store behind a real Fastify with
// @fastify/cookie (inject): the cookie's attributes, the row holding only a
// hash, one CSRF token for every tab of a session, lifetime and idle expiry,
// sign-out, and cookies that are not ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import { ManualClock } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { tempDir } from '../../../test/lib/tools.ts';
import { PORTAL_COOKIE, PORTAL_SESSION_MIGRATIONS, PortalSessions, SIGNIN_COOKIE } from './sessions.ts';

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = tempDir('pw-sessions-');
  t.after(() => dir.remove());
  const store = await openStore({ kind: 'sqlite', path: join(dir.path, 'state.db') });
  t.after(() => store.close());
  await store.migrate(PORTAL_SESSION_MIGRATIONS);
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 12));
  const sessions = new PortalSessions({ db: store.db, secret: Buffer.alloc(32, 7), clock, lifetimeMs: 3_600_000, idleMs: 600_000 });
  const app = Fastify();
  await app.register(cookie);
  app.post('/in', async (_req, reply) => { const p = await sessions.open(reply, 'alice@isp.example', 'cust-a'); return { csrf: p.csrf }; });
  app.get('/me', async (req) => { const p = await sessions.current(req); return p ? { login: p.login, subscriber: p.subscriber, csrf: p.csrf, ok: sessions.csrfOk(req, p, (req.query as { t?: string }).t) } : { none: true }; });
  app.get('/form', async (_req, reply) => ({ token: sessions.formToken(reply) }));
  app.post('/form', async (req) => ({ ok: sessions.formTokenOk(req, (req.query as { t?: string }).t) }));
  app.post('/out', async (req, reply) => { await sessions.close(req, reply); return {}; });
  t.after(() => app.close());
  return { store, clock, sessions, app };
}

const idOf = (setCookie: string | string[] | undefined): string => /__Host-pw_portal=([^;]+)/.exec(String(setCookie))![1];

test('sign-in sets a __Host- cookie (HttpOnly, Secure, SameSite=Strict, Path=/, no Domain); the store keeps only its SHA-256', async (t) => {
  const { app, store } = await setup(t);
  const r = await app.inject({ method: 'POST', url: '/in' });
  const sc = String(r.headers['set-cookie']);
  assert.match(sc, /^__Host-pw_portal=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  const id = idOf(sc);
  const rows = await store.db.all<{ id_hash: string }>('SELECT id_hash FROM web_portal_sessions');
  assert.deepEqual(rows.map((x) => x.id_hash), [createHash('sha256').update(id).digest('hex')]);
  assert.ok(!JSON.stringify(rows).includes(id));
});

test('one CSRF token for every tab of a session, another session\'s token is refused; a foreign or malformed cookie is no session', async (t) => {
  const { app } = await setup(t);
  const a = await app.inject({ method: 'POST', url: '/in' });
  const b = await app.inject({ method: 'POST', url: '/in' });
  const ida = idOf(a.headers['set-cookie']), idb = idOf(b.headers['set-cookie']);
  const tokA = (a.json() as { csrf: string }).csrf, tokB = (b.json() as { csrf: string }).csrf;
  assert.notEqual(tokA, tokB);
  const me = (id: string, tok: string) => app.inject({ url: `/me?t=${encodeURIComponent(tok)}`, cookies: { [PORTAL_COOKIE]: id } }).then((r) => r.json() as Record<string, unknown>);
  const tab1 = await me(ida, tokA), tab2 = await me(ida, tokA);
  assert.equal(tab1.ok, true);
  assert.equal(tab2.ok, true);
  assert.equal(tab1.csrf, tab2.csrf);
  assert.equal((await me(ida, tokB)).ok, false);
  assert.equal((await me(ida, '')).ok, false);
  assert.deepEqual(await me('x'.repeat(43), tokA), { none: true });
  assert.deepEqual(await me('../../etc', tokA), { none: true });
  assert.equal((await me(idb, tokB)).login, 'alice@isp.example');
});

test('a session ends after idleMs without a request and after lifetimeMs however busy; sign-out deletes the row and clears the cookie', async (t) => {
  const { app, clock, store } = await setup(t);
  const fresh = async () => idOf((await app.inject({ method: 'POST', url: '/in' })).headers['set-cookie']);
  const me = (id: string) => app.inject({ url: '/me', cookies: { [PORTAL_COOKIE]: id } }).then((r) => r.json() as Record<string, unknown>);
  const idle = await fresh();
  clock.advance(599_000);
  assert.equal((await me(idle)).login, 'alice@isp.example');
  clock.advance(599_000); // seen 599 s ago: still within idle
  assert.equal((await me(idle)).login, 'alice@isp.example');
  clock.advance(600_000);
  assert.deepEqual(await me(idle), { none: true }, 'idle too long');

  const busy = await fresh();
  for (let i = 0; i < 6; i++) { clock.advance(540_000); assert.equal((await me(busy)).login, 'alice@isp.example'); }
  clock.advance(540_000); // 63 minutes after sign-in, 9 after the last request
  assert.deepEqual(await me(busy), { none: true }, 'lifetime over');

  const out = await fresh();
  const r = await app.inject({ method: 'POST', url: '/out', cookies: { [PORTAL_COOKIE]: out } });
  assert.match(String(r.headers['set-cookie']), /__Host-pw_portal=;.*Expires=Thu, 01 Jan 1970/);
  assert.deepEqual(await me(out), { none: true });
  assert.equal((await store.db.all('SELECT 1 FROM web_portal_sessions')).length, 0);
});

test('the sign-in form\'s token is a double-submit cookie: only the same value in the form and the cookie passes', async (t) => {
  const { app } = await setup(t);
  const r = await app.inject({ url: '/form' });
  assert.match(String(r.headers['set-cookie']), /^__Host-pw_signin=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  const tok = (r.json() as { token: string }).token;
  const post = (cookieValue: string | undefined, q: string) => app.inject({ method: 'POST', url: `/form?t=${encodeURIComponent(q)}`, cookies: cookieValue === undefined ? {} : { [SIGNIN_COOKIE]: cookieValue } }).then((x) => (x.json() as { ok: boolean }).ok);
  assert.equal(await post(tok, tok), true);
  assert.equal(await post(undefined, tok), false, 'no cookie: a form posted from another site');
  assert.equal(await post(tok, ''), false);
  const other = (await app.inject({ url: '/form' }).then((x) => x.json())) as { token: string };
  assert.equal(await post(tok, other.token), false);
});
