// Two portwarden nodes on one PostgreSQL (issue 11): an account added through
// node A's admin API logs in on node B and its mail is relayed; the audit row
// of the change is read back through node B's API; a token made with node B's
// CLI works on node A. Real processes, a real private PostgreSQL 15, swaks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { postgresBin, startPostgres, type TestPostgres } from '../lib/postgres.ts';
import { needTools } from '../lib/tools.ts';

const pg = postgresBin();
const skip = 'skip' in pg ? pg.skip : needTools('swaks');

describe('two nodes on one PostgreSQL', { skip }, () => {
  let db: TestPostgres, sink: CaptureSink, a: Portwarden, b: Portwarden, token = '';
  before(async () => {
    db = await startPostgres();
    const url = await db.createDatabase('fleet');
    sink = new CaptureSink();
    const smarthost = `127.0.0.1:${await sink.listen()}`;
    const extraYaml = `store: postgres\nstoreUrl: "${url}"\napi: {listen: "127.0.0.1:0", tls: false}\n`;
    // Started one after the other, as a rolling start would: each migrates under the advisory lock.
    a = await Portwarden.start({ smarthost, extraYaml });
    b = await Portwarden.start({ smarthost, extraYaml });
    token = (await b.cli(['token', 'add', 'fleet-admin', '--scope', 'admin', '--reason', 'bootstrap'])).stdout.trim();
  });
  after(async () => {
    await a?.destroy();
    await b?.destroy();
    await sink?.close();
    await db?.stop();
  });

  const api = async (node: Portwarden, method: string, path: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${node.port('api')}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'x-reason': 'fleet test' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() as Record<string, unknown> };
  };

  test('an account added through node A logs in and sends on node B', async () => {
    const made = await api(a, 'POST', '/accounts', { login: 'fleet@isp.example', password: 'a fleet password 1', subscriber: 'cust-fleet' });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(b.port('submission')), '--timeout', '15', '--tls',
      '--auth', 'PLAIN', '--auth-user', 'fleet@isp.example', '--auth-password', 'a fleet password 1',
      '--from', 'fleet@isp.example', '--to', 'dave@example.net', '--body', 'from node B']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /<~ {2}235 /);
    assert.match(r.stdout, /<~ {2}250 2\.0\.0 Ok: queued as /);
    const [m] = await sink.waitFor(1);
    assert.match(m.raw.toString(), /from node B/);
  });

  test("node B's API shows the audit row of node A's change, and the account", async () => {
    const audit = await api(b, 'GET', '/audit?action=accounts.add');
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    const rows = audit.body.entries as Array<Record<string, unknown>>;
    const row = rows.find((x) => x.object === 'account fleet@isp.example');
    assert.ok(row, JSON.stringify(rows));
    assert.equal(row.actor, 'fleet-admin');
    assert.equal(row.outcome, 'ok');
    assert.doesNotMatch(JSON.stringify(row), /a fleet password 1/);
    const shown = await api(b, 'GET', '/accounts/fleet@isp.example');
    assert.equal(shown.status, 200);
    assert.equal(shown.body.subscriber, 'cust-fleet');
  });

  test('a change made on node B (disable) refuses the next login on node A', async () => {
    assert.equal((await api(b, 'POST', '/accounts/fleet@isp.example/disable', { reason: 'fleet test' })).status, 200);
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(a.port('submission')), '--timeout', '15', '--tls',
      '--auth', 'PLAIN', '--auth-user', 'fleet@isp.example', '--auth-password', 'a fleet password 1',
      '--from', 'fleet@isp.example', '--to', 'dave@example.net', '--quit-after', 'AUTH']);
    assert.match(r.stdout, /<~\* {1,2}525 5\.7\.13 /);
  });
});
