// The subscriber directory in the real portwarden process: `portwarden
// subscriber` and `portwarden address` on the shared store, the admin API's
// addresses.* and subscribers.* over HTTPS with curl, the server's open index
// picking up what the CLI wrote, a moved lease logged from the server's bus,
// trace naming the holder, and the audit row of every change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseSync } from 'node:sqlite';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run, startWithSink } from '../lib/portwarden.ts';
import { needTools } from '../lib/tools.ts';

const skip = needTools('curl');

describe('subscriber directory on the real server', { skip }, () => {
  let sink: CaptureSink, pw: Portwarden, ca = '', api = '', admin = '', reader = '';
  before(async () => {
    ({ sink, pw } = await startWithSink({ extraYaml: 'api: {listen: "127.0.0.1:0"}\n' }));
    ca = join(pw.dir, 'data', 'tls', 'cert.pem');
    api = `https://127.0.0.1:${pw.port('api')}`;
    admin = (await pw.cli(['token', 'add', 'provisioning', '--scope', 'admin'])).stdout.trim();
    reader = (await pw.cli(['token', 'add', 'desk', '--scope', 'read'])).stdout.trim();
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  const curl = async (method: string, path: string, token: string, json?: unknown) => {
    const args = ['-sS', '--cacert', ca, '-X', method, '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`];
    if (json !== undefined) {
      const f = join(pw.dir, 'body');
      writeFileSync(f, JSON.stringify(json));
      args.push('-H', 'Content-Type: application/json', '--data-binary', `@${f}`);
    }
    const r = await run('curl', [...args, `${api}${path}`]);
    assert.equal(r.code, 0, r.stderr);
    const nl = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(nl + 1)), body: JSON.parse(r.stdout.slice(0, nl)) };
  };
  const cliFails = async (args: string[]) => {
    try { await pw.cli(args); } catch (e) { const x = e as { code: number; stderr: string }; return { code: x.code, stderr: x.stderr }; }
    assert.fail(`portwarden ${args.join(' ')} succeeded`);
  };
  const audit = () => {
    const db = new DatabaseSync(join(pw.dir, 'data', 'state.db'), { readOnly: true });
    try { return db.prepare("SELECT actor_kind, actor, origin, action, object, outcome FROM app_audit WHERE action LIKE 'addresses.%' OR action LIKE 'subscribers.%' ORDER BY id").all().map((r) => ({ ...r })); } finally { db.close(); }
  };

  test('CLI writes, the server answers: subscriber put, address assign, then the API\'s who and subscribers.show see them', async () => {
    assert.match((await pw.cli(['subscriber', 'put', 'Cust-7', '--tier', 'business', '--contact', 'owner@home.example', '--access', 'radius:seven', '--reason', 'contract 7'])).stdout,
      /^cust-7: tier business; contacts owner@home\.example; access radius:seven$/m);
    assert.match((await pw.cli(['address', 'assign', 'cust-7', '198.51.100.77', '--start', '2h', '--session', 'p1'])).stdout, /^assigned 198\.51\.100\.77 to cust-7 from /);
    // The server's open index reads what another process wrote at its next sync (every second).
    let who: { status: number; body: { holders: Array<{ subscriber: string }> } } | undefined;
    for (let i = 0; i < 100; i++) {
      who = await curl('GET', '/api/v1/addresses/who?address=198.51.100.77', reader);
      if (who.body.holders?.length) break;
      await sleep(100);
    }
    assert.equal(who!.status, 200);
    assert.deepEqual(who!.body.holders.map((h) => h.subscriber), ['cust-7']);
    const show = await curl('GET', '/api/v1/subscribers/cust-7', reader);
    assert.equal(show.status, 200, JSON.stringify(show.body));
    assert.deepEqual([show.body.directory.record.tier, show.body.directory.record.access, show.body.directory.current.map((a: { prefix: string }) => a.prefix)],
      ['business', ['radius:seven'], ['198.51.100.77']]);
    const cli = (await pw.cli(['subscriber', 'show', 'cust-7'])).stdout;
    assert.match(cli, /^contacts {4}owner@home\.example$/m);
    assert.match(cli, /^cust-7\t198\.51\.100\.77\t-\t\S+\t-\tapi\tp1$/m);
  });

  test('API writes (a moved lease, logged from the server\'s bus), the CLI and trace answer; a read token may not write', async () => {
    const start = new Date(Date.now() - 30 * 60_000).toISOString();
    const moved = await curl('POST', '/api/v1/addresses', admin, { subscriber: 'cust-8', prefix: '198.51.100.77', start, session: 'p2', reason: 'lease moved' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual([moved.body.subscriber, moved.body.start, moved.body.end], ['cust-8', Date.parse(start), null]);
    const pd = await curl('POST', '/api/v1/addresses', admin, { subscriber: 'cust-8', prefix: '2001:DB8:77::/56', start: Date.parse(start) });
    assert.equal(pd.body.prefix, '2001:db8:77::/56');
    const logs = pw.logs.filter((l) => l.event === 'assignment-ended' || l.event === 'assigned').map((l) => [l.event, l.subscriber, l.prefix]);
    // The first line is the CLI's assignment of the test before, which the server's bus heard when it synced.
    assert.deepEqual(logs, [['assigned', 'cust-7', '198.51.100.77'], ['assignment-ended', 'cust-7', '198.51.100.77'], ['assigned', 'cust-8', '198.51.100.77'], ['assigned', 'cust-8', '2001:db8:77::/56']]);
    assert.match((await pw.cli(['address', 'who', '2001:db8:77:ff::1'])).stdout, /^cust-8\t2001:db8:77::\/56\t/m);
    assert.match((await pw.cli(['address', 'who', '198.51.100.77', '--at', '1h'])).stdout, /^cust-7\t/m, 'an hour ago: the previous holder');
    const hist = (await pw.cli(['address', 'history', '198.51.100.77'])).stdout.trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
    assert.deepEqual(hist, ['cust-8', 'cust-7']);
    const trace = await curl('GET', `/api/v1/trace?query=198.51.100.77&at=${Date.now() - 3_600_000}`, reader);
    assert.equal(trace.status, 200, JSON.stringify(trace.body));
    assert.deepEqual(trace.body.holders.map((h: { subscriber: string }) => h.subscriber), ['cust-7']);
    const t2 = await pw.cli(['trace', '198.51.100.77']);
    assert.match(t2.stdout, /^held by {5}cust-8 \(198\.51\.100\.77, since /m);
    const refused = await curl('POST', '/api/v1/addresses', reader, { subscriber: 'x', prefix: '192.0.2.1' });
    assert.deepEqual([refused.status, refused.body.error.code], [403, 'forbidden']);
    const bad = await curl('POST', '/api/v1/addresses', admin, { subscriber: 'x', prefix: '192.0.2.1', portLo: 2000, portHi: 1000 });
    assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.message], [400, 'invalid-value', 'port block 2000-1000: portLo is above portHi']);
    const ended = await curl('POST', '/api/v1/addresses/end', admin, { session: 'p2' });
    assert.equal(ended.body.ended.subscriber, 'cust-8');
    const gone = await cliFails(['address', 'who', '198.51.100.77']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^nobody held 198\.51\.100\.77 at /);
    const usage = await cliFails(['address', 'assign', 'x', '192.0.2.1', '--ports', '7']);
    assert.match(usage.stderr, /--ports: expected LO-HI/);
  });

  test('every change is audited: who, from where, what, on which object, the outcome', () => {
    const rows = audit().map((r) => [r.actor_kind, r.origin === 'cli' ? 'cli' : 'api', r.action, r.object, r.outcome]);
    assert.deepEqual(rows, [
      ['operator', 'cli', 'subscribers.put', 'subscriber cust-7', 'ok'],
      ['operator', 'cli', 'addresses.assign', 'address 198.51.100.77', 'ok'],
      ['token', 'api', 'addresses.assign', 'address 198.51.100.77', 'ok'],
      ['token', 'api', 'addresses.assign', 'address 2001:db8:77::/56', 'ok'],
      ['token', 'api', 'addresses.assign', 'address 192.0.2.1', 'forbidden'],
      ['token', 'api', 'addresses.assign', 'address 192.0.2.1:2000-1000', 'invalid-value'],
      ['token', 'api', 'addresses.end', 'session p2', 'ok'],
    ]);
  });
});
