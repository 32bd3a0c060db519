// Issue 4 end to end: limits per account from real clients with the exact
// replies, two portwarden nodes sharing one real Redis, Redis stopped mid-test,
// brute force from one IP, the attribution log answering `portwarden trace`,
// and /metrics scraped with curl.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, startWithSink, run } from '../lib/portwarden.ts';
import { RawClient, authedClient, plainAuth } from '../lib/smtpclient.ts';
import { freePort, needTools, until } from '../lib/tools.ts';

const skip = needTools('swaks', 'redis-server', 'curl');

const LIMITS = (extra: string) => `limits:
  ${extra}
  authFailureDelaysMs: [0, 0, 100, 200, 400]
  tiers:
    residential:
      - {name: messages-hour, scope: account, counts: messages, per: hour, limit: 3}
      - {name: recipients-hour, scope: account, counts: recipients, per: hour, limit: 50}
      - {name: flood, scope: account, counts: recipients, per: minute, limit: 8, action: flood, suspend: true}
`;

async function send(pw: Portwarden, user: string, pass: string, to = 'x@example.net'): Promise<string> {
  const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(pw.port('submission')), '--tls', '--auth', 'PLAIN',
    '--auth-user', user, '--auth-password', pass, '--from', user, '--to', to, '--timeout', '15']);
  return r.stdout;
}

describe('limits, brute force and accountability (embedded)', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({
      accounts: [
        { login: 'alice@isp.example', password: 'alice-pass-1', subscriber: 'cust-1' },
        { login: 'mallory@isp.example', password: 'mallory-pass-1', subscriber: 'cust-2' },
        { login: 'victim@isp.example', password: 'victim-pass-1', subscriber: 'cust-3' },
      ],
      // The issue-11 flood suspension (one flood, suspend: true) runs only without the abuse engine;
      // with it, the engine's credential-abuse rule suspends (test/e2e/abuse.test.ts).
      extraYaml: `${LIMITS('store: memory')}metrics: {listen: "127.0.0.1:0"}\nabuse: {enabled: false}\n`,
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  test('limit+1 messages: the 4th MAIL gets 450 4.7.1 naming the limit and the help URL', async () => {
    for (let i = 0; i < 3; i++) assert.match(await send(pw, 'alice@isp.example', 'alice-pass-1'), /<~ {2}250 2\.0\.0 Ok: queued/);
    const out = await send(pw, 'alice@isp.example', 'alice-pass-1');
    assert.match(out, /<~\* 450 4\.7\.1 Sending limit of 3 messages per hour for this account reached; try again in \d+ minutes?; see https:\/\/\S+/);
    // the limits in effect are visible per account, with the live state from the server
    const view = JSON.parse((await pw.cli(['limits', 'show', 'alice@isp.example', '--json'])).stdout);
    assert.equal(view.tier, 'residential');
    assert.equal(view.subscriber, 'cust-1');
    const hourly = view.rules.find((r: { name: string }) => r.name === 'messages-hour');
    assert.deepEqual([hourly.limit, hourly.per, hourly.remaining], [3, 'hour', 0]);
    assert.ok(hourly.resetMs > 0);
    const rcpts = view.rules.find((r: { name: string }) => r.name === 'recipients-hour');
    assert.equal(rcpts.remaining, 50 - 3);
  });

  test('a recipient flood gets 550 5.7.28 and suspends the account (525 5.7.13 at the next AUTH)', async () => {
    const c = await authedClient(pw.port('submission'), 'mallory@isp.example', 'mallory-pass-1');
    assert.equal((await c.cmd('MAIL FROM:<mallory@isp.example>')).code, 250);
    const codes: string[] = [];
    for (let i = 0; i < 9; i++) codes.push((await c.cmd(`RCPT TO:<r${i}@example.net>`)).lines[0].slice(0, 10));
    assert.deepEqual(codes.slice(0, 8), Array(8).fill('250 2.1.5 '));
    assert.equal(codes[8], '550 5.7.28');
    c.close();
    const again = await RawClient.connect(pw.port('submissions'), { tls: true });
    await again.read();
    await again.cmd('EHLO c.example');
    assert.match((await again.cmd(`AUTH PLAIN ${plainAuth('mallory@isp.example', 'mallory-pass-1')}`)).lines[0], /^525 5\.7\.13 /);
    again.close();
    // The log line crosses a pipe from the child: it may arrive after the 525 reply does.
    await until(() => pw.logsOf('suspended').some((l) => l.account === 'mallory@isp.example'), 'the suspended log line');
  });

  test('brute force from one IP: growing delays, then 421 4.7.0 and close; even the right password is refused then', async () => {
    const c = await RawClient.connect(pw.port('submissions'), { tls: true });
    await c.read();
    await c.cmd('EHLO c.example');
    let last = '';
    const started = Date.now();
    for (let i = 0; i < 12 && !c.closed; i++) {
      try { last = (await c.cmd(`AUTH PLAIN ${plainAuth('victim@isp.example', `guess-${i}`)}`, 20000)).lines[0]; } catch { break; }
      if (last.startsWith('421')) break;
    }
    assert.match(last, /^421 4\.7\.0 /);
    assert.ok(Date.now() - started >= 1500, 'failures were delayed');
    assert.ok(await c.waitClose());
    const d = await RawClient.connect(pw.port('submissions'), { tls: true });
    await d.read();
    await d.cmd('EHLO c.example');
    const r = await d.cmd(`AUTH PLAIN ${plainAuth('victim@isp.example', 'victim-pass-1')}`);
    assert.ok([421, 454].includes(r.code), r.lines[0]);
    d.close();
    assert.ok(pw.logsOf('lockout').length >= 1);
  });

  test('portwarden trace answers who sent a message, by queue id and by IP:port and time', async () => {
    const accepted = pw.logsOf('transaction').filter((l) => l.verdict === 'accepted');
    assert.ok(accepted.length >= 3);
    const q = String(accepted[0].queueId);
    const byId = await pw.cli(['trace', q, '--json']);
    const rec = JSON.parse(byId.stdout)[0];
    assert.equal(rec.account, 'alice@isp.example');
    assert.equal(rec.subscriber, 'cust-1');
    assert.equal(rec.clientIp, '127.0.0.1');
    assert.equal(rec.clientPort, accepted[0].port);
    assert.equal(rec.authMechanism, 'PLAIN');
    const at = new Date(Date.now()).toISOString();
    const byIp = await pw.cli(['trace', `127.0.0.1:${accepted[0].port}`, '--at', at, '--json']);
    assert.equal(JSON.parse(byIp.stdout)[0].queueId, q);
  });

  test('/metrics: transactions, auth outcomes and limit hits, scraped with curl', async () => {
    const r = await run('curl', ['-sS', '-i', `http://127.0.0.1:${pw.port('metrics')}/metrics`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /content-type: text\/plain; version=0\.0\.4/i);
    assert.match(r.stdout, /portwarden_messages_total\{[^}]*verdict="accepted"[^}]*\} [1-9]/);
    assert.match(r.stdout, /portwarden_limit_hits_total\{scope="account",outcome="limited"\} [1-9]/);
    assert.match(r.stdout, /portwarden_sessions_total\{listener="submission"\} [1-9]/);
    assert.match(r.stdout, /portwarden_auth_total\{[^}]*outcome="failure"[^}]*\} [1-9]/);
  });
});

describe('brute force spread over many accounts from one address', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({
      accounts: Array.from({ length: 4 }, (_, i) => ({ login: `user${i}@isp.example`, password: `user-pass-${i}0` })),
      extraYaml: LIMITS('store: memory'),
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  test('one guess per account, known and unknown alike: the address is locked out after 10 failures', async () => {
    const replies: string[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await RawClient.connect(pw.port('submissions'), { tls: true });
      await c.read();
      await c.cmd('EHLO c.example');
      const login = i % 2 ? `user${i % 4}@isp.example` : `ghost${i}@isp.example`;
      try { replies.push((await c.cmd(`AUTH PLAIN ${plainAuth(login, 'wrong-guess')}`, 20000)).lines[0].slice(0, 9)); } catch { replies.push('closed'); }
      c.close();
    }
    // the same 535 for unknown and known accounts until the address locks (no enumeration)
    assert.deepEqual(replies.slice(0, 9), Array(9).fill('535 5.7.8'));
    assert.equal(replies[9], '421 4.7.0', replies.join(' | '));
    assert.ok(replies.slice(10).every((r) => r === '421 4.7.0'), 'later sessions are refused at once');
    const lock = pw.logsOf('lockout').find((l) => l.scope === 'ip');
    assert.ok(lock, 'the lockout is recorded');
    assert.equal(lock!.subject, '127.0.0.1');
  });
});

describe('two nodes share one Redis', { skip }, () => {
  let sink: CaptureSink;
  let redis: ChildProcess;
  let redisPort: number;
  const nodes: Portwarden[] = [];
  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const r = await run('redis-cli', ['-p', String(redisPort), 'ping']);
      if (r.stdout.trim() === 'PONG') return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('redis did not start');
  };
  before(async () => {
    redisPort = await freePort();
    await startRedis();
    sink = new CaptureSink();
    const smarthost = `127.0.0.1:${await sink.listen()}`;
    for (const failMode of ['closed', 'open']) {
      nodes.push(await Portwarden.start({
        smarthost,
        accounts: [{ login: 'bob@isp.example', password: 'bob-pass-123', subscriber: 'cust-9' }],
        extraYaml: LIMITS(`store: redis\n  redisUrl: "redis://127.0.0.1:${redisPort}"\n  failMode: ${failMode}`),
      }));
    }
  });
  after(async () => {
    for (const n of nodes) await n.destroy();
    redis?.kill('SIGKILL');
    await sink?.close();
  });

  test('the account limit is enforced jointly: 3 messages across both nodes, the 4th refused on either', async () => {
    const outs = [];
    for (const n of [0, 1, 0]) outs.push(await send(nodes[n], 'bob@isp.example', 'bob-pass-123'));
    for (const o of outs) assert.match(o, /<~ {2}250 2\.0\.0 Ok: queued/);
    assert.match(await send(nodes[1], 'bob@isp.example', 'bob-pass-123'), /<~\* 450 4\.7\.1 Sending limit of 3 messages/);
    assert.match(await send(nodes[0], 'bob@isp.example', 'bob-pass-123'), /<~\* 450 4\.7\.1 /);
  });

  test('Redis stopped: the fail-closed node defers with 451 4.3.0, the fail-open node limits locally; both recover', async () => {
    redis.kill('SIGKILL');
    await new Promise((res) => setTimeout(res, 300));
    assert.match(await send(nodes[0], 'bob@isp.example', 'bob-pass-123'), /<~\* 451 4\.3\.0 Sending limits temporarily unavailable/);
    // fail-open: a fresh local bucket, so this node admits up to the limit again on its own
    assert.match(await send(nodes[1], 'bob@isp.example', 'bob-pass-123'), /<~ {2}250 2\.0\.0 Ok: queued/);
    await startRedis();
    await new Promise((res) => setTimeout(res, 1500));
    // the restarted Redis is empty: the shared bucket starts over and both nodes use it again
    assert.match(await send(nodes[0], 'bob@isp.example', 'bob-pass-123'), /<~ {2}250 2\.0\.0 Ok: queued/);
    const r = await run('redis-cli', ['-p', String(redisPort), '--scan']);
    assert.ok(r.stdout.trim().length > 0, 'limit keys are in Redis again');
  });
});
