// The HTTP layer in process, on loopback with real fetch: the generic mount of
// operations (path params, query string with coercion, JSON body, reason),
// readiness failing by name, a throwing handler answering 500 while the
// listener keeps serving, the connection cap, and the OpenAPI 3.1 document
// checked by an independent validator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Type } from 'typebox';
import { Validator } from '@seriousme/openapi-schema-validator';
import { MemoryLogger } from '../core/index.ts';
import { AppError, TOKEN_MIGRATIONS, TOKEN_OPERATIONS, TokenRepository, operation, type AuditEntry } from '../app/index.ts';
import { until } from '../../test/lib/tools.ts';
import { tempStore } from '../../test/lib/http.ts';
import { apiRoutes, createHttpListener, healthRoutes } from './index.ts';

const echo = operation({
  name: 'things.show', summary: 'show a thing', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/things/:id' },
  input: Type.Object({ id: Type.String({ pattern: '^[a-z]+$' }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })) }),
  output: Type.Object({ id: Type.String(), limit: Type.Integer(), who: Type.String() }),
  async run(i, ctx) { return { id: i.id, limit: i.limit ?? 1, who: `${ctx.actor.kind}:${ctx.actor.name}`, secretField: 'dropped by the output schema' } as never; },
});
const change = operation({
  name: 'things.set', summary: 'set a thing', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/things/:id' },
  input: Type.Object({ id: Type.String(), value: Type.Integer() }),
  output: Type.Object({ id: Type.String(), value: Type.Integer() }),
  async run(i) { if (i.value < 0) throw new AppError('invalid-value', 'value must not be negative', { field: 'value' }); return { id: i.id, value: i.value }; },
});
const broken = operation({
  name: 'things.broken', summary: 'always fails', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/broken' }, input: Type.Object({}), output: Type.Object({}),
  async run() { throw new TypeError('a bug'); },
});

async function setup(t: { after(fn: () => Promise<void> | void): void }, checks: Record<string, () => unknown> = {}, maxConnections?: number) {
  const store = await tempStore();
  await store.store.migrate(TOKEN_MIGRATIONS);
  const tokens = new TokenRepository(store.db);
  const entries: AuditEntry[] = [];
  const logger = new MemoryLogger();
  const l = createHttpListener({ name: 'api', logger, maxConnections });
  healthRoutes(l.app, checks, 200);
  await apiRoutes(l.app, { operations: [...TOKEN_OPERATIONS, echo, change, broken], deps: { tokens }, audit: { write: async (e) => { entries.push(e); } }, tokens });
  const port = await l.listen('127.0.0.1', 0);
  t.after(async () => { await l.close(); await store.close(); });
  const op = (await tokens.add('op', 'operate', 'test')).secret;
  const ro = (await tokens.add('ro', 'read', 'test')).secret;
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(`${base}${path}`, {
      method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: await r.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return { base, port, call, op, ro, entries, logger };
}

test('mount: path params and the query string (coerced) make the input; the output schema decides what is sent', async (t) => {
  const { call, ro } = await setup(t);
  const r = await call('GET', '/api/v1/things/abc?limit=3', ro);
  assert.deepEqual([r.status, r.body], [200, { id: 'abc', limit: 3, who: 'token:ro' }]);
  const bad = await call('GET', '/api/v1/things/abc?limit=99', ro);
  assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.detail], [400, 'bad-request', { in: 'querystring', field: 'limit', rule: 'maximum' }]);
  const badPath = await call('GET', '/api/v1/things/ABC', ro);
  assert.deepEqual([badPath.status, badPath.body.error.detail.in, badPath.body.error.detail.field], [400, 'params', 'id']);
});

test('mount: a JSON body with the path param; the reason from the body or X-Reason reaches the audit; refusals are audited with their code', async (t) => {
  const { call, op, ro, entries } = await setup(t);
  assert.deepEqual((await call('POST', '/api/v1/things/x', op, { value: 5, reason: 'because' })).body, { id: 'x', value: 5 });
  assert.equal((await call('POST', '/api/v1/things/y', op, { value: -1 }, { 'x-reason': 'header wins' })).body.error.code, 'invalid-value');
  assert.equal((await call('POST', '/api/v1/things/z', ro, { value: 1 })).status, 403);
  assert.deepEqual(entries.map((e) => [e.actor, e.from, e.action, e.reason, e.outcome, e.detail]), [
    ['op', '127.0.0.1', 'things.set', 'because', 'ok', '{"value":5,"id":"x"}'],
    ['op', '127.0.0.1', 'things.set', 'header wins', 'invalid-value', '{"value":-1,"id":"y"}'],
    // A token's change refused for its scope is audited too (who tried what).
    ['ro', '127.0.0.1', 'things.set', '', 'forbidden', '{"value":1,"id":"z"}'],
  ]);
});

test('a handler that throws answers 500 internal, is logged, and the listener keeps serving', async (t) => {
  const { call, ro, logger } = await setup(t);
  const r = await call('GET', '/api/v1/broken', ro);
  assert.deepEqual([r.status, r.body], [500, { error: { code: 'internal', message: 'an internal error' } }]);
  assert.ok(logger.records.some((x) => x.msg === 'http: handler failed' && String(x.err).includes('a bug')));
  assert.equal((await call('GET', '/api/v1/things/ok', ro)).status, 200);
});

test('/readyz: 503 unavailable naming every failing check (throws, false, too slow); /healthz still 200', async (t) => {
  const { call } = await setup(t, {
    store: () => true, spool: () => { throw new Error('read-only'); }, relay: () => false, listeners: () => new Promise(() => {}),
  });
  const r = await call('GET', '/readyz', null);
  assert.equal(r.status, 503);
  assert.equal(r.body.error.code, 'unavailable');
  assert.deepEqual(r.body.error.detail, { failing: ['spool', 'relay', 'listeners'] });
  assert.equal((await call('GET', '/healthz', null)).status, 200);
});

test('connections beyond maxConnections are closed at once', async (t) => {
  const { port, call, ro } = await setup(t, {}, 2);
  const socks = Array.from({ length: 5 }, () => connect(port, '127.0.0.1'));
  let closed = 0;
  for (const s of socks) { s.on('error', () => {}); s.on('close', () => { closed++; }); }
  await until(() => closed >= 3, 'the 3 surplus connections to be closed', 5000);
  for (const s of socks) s.destroy();
  await until(async () => (await call('GET', '/api/v1/things/ok', ro).catch(() => ({ status: 0 }))).status === 200, 'serving again', 5000);
});

test('the OpenAPI 3.1 document passes an independent validator and names every op with its scope, security and error schema', async (t) => {
  const { base } = await setup(t);
  const r = await fetch(`${base}/api/v1/openapi.json`);
  assert.equal(r.status, 200);
  const doc = await r.json() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(doc.openapi, '3.1.0');
  const v = new Validator();
  const res = await v.validate(doc);
  assert.ok(res.valid, JSON.stringify(res.errors));
  assert.equal(v.version, '3.1');
  assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes.bearer.description });
  const ops = Object.entries(doc.paths as Record<string, Record<string, Record<string, any>>>) // eslint-disable-line @typescript-eslint/no-explicit-any
    .flatMap(([p, m]) => Object.entries(m).map(([method, o]) => ({ p, method, o })));
  assert.deepEqual(ops.map((x) => x.o.operationId).sort(), ['things.broken', 'things.set', 'things.show', 'tokens.add', 'tokens.list', 'tokens.revoke']);
  const add = ops.find((x) => x.o.operationId === 'tokens.add')!;
  assert.equal(add.p, '/api/v1/tokens');
  assert.equal(add.o['x-portwarden-scope'], 'admin');
  assert.match(add.o.description, /scope admin/);
  assert.ok(add.o.requestBody.content['application/json'].schema.properties.scope);
  assert.ok(add.o.responses['4XX'] || add.o.responses['4xx'], JSON.stringify(add.o.responses));
  const show = ops.find((x) => x.o.operationId === 'things.show')!;
  assert.deepEqual(show.o.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`).sort(), ['path:id', 'query:limit', 'query:reason']);
  assert.ok(JSON.stringify(doc.components.schemas).includes('unauthenticated'), 'the error codes are in the document');
});

test('policy.explain through the API: query in, the facts out as the output schema says; the OpenAPI document stays valid', async (t) => {
  const { portalWorld, ADDR } = await import('../../test/lib/portal.ts');
  const { loadOperation } = await import('../app/index.ts');
  const w = await portalWorld();
  await w.store.migrate(TOKEN_MIGRATIONS);
  const tokens = new TokenRepository(w.store.db);
  const l = createHttpListener({ name: 'api', logger: new MemoryLogger() });
  await apiRoutes(l.app, { operations: [await loadOperation('policy.explain')], deps: { ...w.app, tokens }, audit: w.audit, tokens });
  const port = await l.listen('127.0.0.1', 0);
  t.after(async () => { await l.close(); await w.close(); });
  const ro = (await tokens.add('ro', 'read', 'test')).secret;
  const get = async (q: string) => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/policy/explain?${q}`, { headers: { authorization: `Bearer ${ro}` } });
    return { status: r.status, body: await r.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const q = await get(`address=${ADDR.quarantined}`);
  assert.equal(q.status, 200, JSON.stringify(q.body));
  assert.deepEqual([q.body.family, q.body.class, q.body.port25, q.body.openCase.id, q.body.outsideDnsbl[0].zone, q.body.providerDnsbl.listed],
    [4, 'dynamic', { blocked: true, reason: 'quarantine' }, 'case-30', 'xbl.example', true]);
  const c = await get(`address=${ADDR.cgnat}&port=1500`);
  assert.deepEqual([c.body.class, c.body.port, c.body.subscriber], ['cgnat', 1500, 'carol']);
  const bad = await get('address=nonsense');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid-prefix');
  const doc = await (await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`)).json();
  const res = await new Validator().validate(doc as never);
  assert.ok(res.valid, JSON.stringify(res.errors));
});
