// The admin API of the real portwarden process, over HTTPS with its own
// certificate, driven by curl (and /healthz, /readyz by Node's fetch over the
// plain metrics listener): a token made with `portwarden token add`, 401
// without a token or with a bad one, 403 for a read token on a write, 400 with
// the validation code, the operation's result, and the audit rows written
// (read back from the store). Also 404/413/415 in the one error shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run, startWithSink } from '../lib/portwarden.ts';
import { needTools } from '../lib/tools.ts';

const skip = needTools('curl');

describe('admin API on the real server', { skip }, () => {
  let sink: CaptureSink, pw: Portwarden, ca = '', api = '', admin = '', reader = '';
  before(async () => {
    ({ sink, pw } = await startWithSink({ extraYaml: 'api: {listen: "127.0.0.1:0"}\nmetrics: {listen: "127.0.0.1:0"}\n' }));
    ca = join(pw.dir, 'data', 'tls', 'cert.pem');
    api = `https://127.0.0.1:${pw.port('api')}`;
    const a = await pw.cli(['token', 'add', 'root-admin', '--scope', 'admin', '--reason', 'bootstrap']);
    admin = a.stdout.trim();
    assert.match(admin, /^pw_[A-Za-z0-9_-]{43}$/);
    assert.match(a.stderr, /will not be shown again/);
    reader = (await pw.cli(['token', 'add', 'dashboard', '--scope', 'read'])).stdout.trim();
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  /** curl with the server's CA; returns status, headers (lower-cased text) and the parsed JSON body. */
  const curl = async (method: string, path: string, opts: { token?: string; json?: unknown; raw?: string; type?: string; headers?: string[] } = {}) => {
    const args = ['-sS', '--cacert', ca, '-X', method, '-D', '-', '-w', '\n%{http_code}'];
    if (opts.token) args.push('-H', `Authorization: Bearer ${opts.token}`);
    for (const h of opts.headers ?? []) args.push('-H', h);
    if (opts.json !== undefined || opts.raw !== undefined) {
      const f = join(pw.dir, 'body');
      writeFileSync(f, opts.raw ?? JSON.stringify(opts.json));
      args.push('-H', `Content-Type: ${opts.type ?? 'application/json'}`, '--data-binary', `@${f}`);
    }
    const r = await run('curl', [...args, `${api}${path}`]);
    assert.equal(r.code, 0, r.stderr);
    const nl = r.stdout.lastIndexOf('\n');
    const text = r.stdout.slice(0, nl);
    const split = text.lastIndexOf('\r\n\r\n');
    const body = text.slice(split + 4);
    return { status: Number(r.stdout.slice(nl + 1)), headers: text.slice(0, split).toLowerCase(), body: body ? JSON.parse(body) : undefined };
  };
  const audit = () => {
    const db = new DatabaseSync(join(pw.dir, 'data', 'state.db'), { readOnly: true });
    try { return db.prepare('SELECT actor_kind, actor, origin, action, object, reason, outcome, detail FROM app_audit ORDER BY id').all(); } finally { db.close(); }
  };

  test('no token, a malformed one, an unknown one: 401 unauthenticated with WWW-Authenticate: Bearer', async () => {
    for (const token of [undefined, 'not-a-token', `pw_${'A'.repeat(43)}`]) {
      const r = await curl('GET', '/api/v1/tokens', { token });
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'unauthenticated');
      assert.match(r.headers, /^www-authenticate: bearer/m);
    }
  });

  test('a read token on a write operation: 403 forbidden, and nothing is created', async () => {
    const r = await curl('POST', '/api/v1/tokens', { token: reader, json: { name: 'sneaky', scope: 'admin' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'forbidden');
    const list = await curl('GET', '/api/v1/tokens', { token: admin });
    assert.deepEqual(list.body.tokens.map((t: { name: string }) => t.name), ['dashboard', 'root-admin']);
  });

  test('bad input: 400 bad-request naming the field; a JSON syntax error, 415 and 413 in the same shape', async () => {
    const bad = await curl('POST', '/api/v1/tokens', { token: admin, json: { name: 'no spaces allowed', scope: 'read' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'bad-request');
    assert.equal(bad.body.error.detail.field, 'name');
    const scope = await curl('POST', '/api/v1/tokens', { token: admin, json: { name: 'x', scope: 'root' } });
    assert.equal(scope.status, 400);
    assert.equal(scope.body.error.detail.field, 'scope');
    const missing = await curl('POST', '/api/v1/tokens', { token: admin, json: { name: 'x' } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.detail.field, 'scope');
    const syntax = await curl('POST', '/api/v1/tokens', { token: admin, raw: '{"name":' });
    assert.deepEqual([syntax.status, syntax.body.error.code], [400, 'bad-request']);
    const type = await curl('POST', '/api/v1/tokens', { token: admin, raw: 'name=x', type: 'text/plain' });
    assert.deepEqual([type.status, type.body.error.code], [415, 'unsupported-media-type']);
    const big = await curl('POST', '/api/v1/tokens', { token: admin, json: { name: 'x', scope: 'read', pad: 'x'.repeat(70_000) } });
    assert.deepEqual([big.status, big.body.error.code], [413, 'too-large']);
    const none = await curl('GET', '/api/v1/nowhere', { token: admin });
    assert.deepEqual([none.status, none.body.error.code], [404, 'not-found']);
  });

  test('tokens.add answers the new secret; it works at once; revoke stops it; every mutation is audited', async () => {
    const r = await curl('POST', '/api/v1/tokens', { token: admin, json: { name: 'ci', scope: 'operate' }, headers: ['X-Reason: for the CI pipeline'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.name, 'ci');
    assert.equal(r.body.scope, 'operate');
    assert.match(r.body.secret, /^pw_[A-Za-z0-9_-]{43}$/);
    // An operate token may not list tokens (admin), but it authenticates: 403, not 401.
    assert.equal((await curl('GET', '/api/v1/tokens', { token: r.body.secret })).status, 403);
    const again = await curl('POST', '/api/v1/tokens', { token: admin, json: { name: 'ci', scope: 'read', reason: 'typo' } });
    assert.deepEqual([again.status, again.body.error.code], [409, 'exists']);
    const list = await curl('GET', '/api/v1/tokens', { token: admin });
    const ci = list.body.tokens.find((t: { name: string }) => t.name === 'ci');
    assert.deepEqual([ci.scope, ci.createdBy, ci.revokedAt], ['operate', 'token:root-admin', null]);
    assert.ok(!JSON.stringify(list.body).includes(r.body.secret) && !/hash/.test(JSON.stringify(list.body)), 'no secret, no hash');
    const rev = await curl('DELETE', '/api/v1/tokens/ci', { token: admin, headers: ['X-Reason: rotated'] });
    assert.equal(rev.status, 200);
    assert.equal(typeof rev.body.revokedAt, 'number');
    assert.equal((await curl('GET', '/api/v1/tokens', { token: r.body.secret })).status, 401, 'revoked: unknown at once');
    assert.deepEqual((await curl('DELETE', '/api/v1/tokens/ci', { token: admin })).body.error.code, 'not-found');

    const rows = audit() as Array<Record<string, string>>;
    const pick = (r: Record<string, string>) => [r.actor_kind, r.actor, r.origin, r.action, r.object, r.reason, r.outcome];
    assert.deepEqual(pick(rows.find((x) => x.object === 'token root-admin')!), ['operator', pick(rows[0])[1], 'cli', 'tokens.add', 'token root-admin', 'bootstrap', 'ok']);
    const ciRows = rows.filter((x) => x.object === 'token ci').map(pick);
    assert.deepEqual(ciRows, [
      ['token', 'root-admin', '127.0.0.1', 'tokens.add', 'token ci', 'for the CI pipeline', 'ok'],
      ['token', 'root-admin', '127.0.0.1', 'tokens.add', 'token ci', 'typo', 'exists'],
      ['token', 'root-admin', '127.0.0.1', 'tokens.revoke', 'token ci', 'rotated', 'ok'],
      ['token', 'root-admin', '127.0.0.1', 'tokens.revoke', 'token ci', '', 'not-found'],
    ]);
    assert.ok(rows.every((x) => !x.detail.includes('pw_')), 'no secret in the audit');
  });

  test('the CLI lists and revokes what the API made', async () => {
    const list = await pw.cli(['token', 'list']);
    assert.match(list.stdout, /^dashboard +read .* live +operator:/m);
    assert.match(list.stdout, /^ci +operate .* revoked token:root-admin$/m);
    assert.match((await pw.cli(['token', 'revoke', 'dashboard'])).stdout, /token dashboard revoked/);
    assert.equal((await curl('GET', '/api/v1/tokens', { token: reader })).status, 401);
  });

  test('a policy change through the API is published as policy.changed: the log line names it, client text encoded', async () => {
    const r = await curl('POST', '/api/v1/policy/pools', { token: admin, json: { prefix: '198.51.100.0/24', class: 'dynamic', reason: 'ticket 7 \u001b[31mred\u0085' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !line; i++) {
      line = pw.logs.find((l) => l.event === 'policy-change' && l.object === '198.51.100.0/24');
      if (!line) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(line, `a policy-change log line after the change: ${JSON.stringify(pw.logs.filter((l) => String(l.event).startsWith('policy')))}`);
    assert.equal(line.action, 'pool.add');
    assert.equal(line.actor, 'token:root-admin', 'the change names the token that made it');
    assert.doesNotMatch(String(line.reason), /[\u0000-\u001f\u007f-\u009f]/u, 'no control character of the client reaches the log');
    assert.equal(line.reason, 'ticket 7 \\x1b[31mred\\x85', 'shown escaped, not dropped');
  });

  test('/healthz and /readyz on the API (curl) and the metrics listener (fetch)', async () => {
    assert.deepEqual((await curl('GET', '/healthz')).body, { status: 'ok' });
    const ready = await curl('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: ['listeners', 'store', 'spool', 'relay'] });
    const m = `http://127.0.0.1:${pw.port('metrics')}`;
    const h = await fetch(`${m}/healthz`);
    assert.deepEqual([h.status, await h.json()], [200, { status: 'ok' }]);
    const r = await fetch(`${m}/readyz`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { status: string }).status, 'ready');
  });
});
