// Every counter on /metrics against the event that feeds it: the real server,
// real clients (swaks, Python smtplib from a second loopback address), the
// relay to a capture sink that bounces and defers chosen recipients, and the
// exposition scraped with curl before and after each event.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { RawClient, plainAuth } from '../lib/smtpclient.ts';
import { needTools, until } from '../lib/tools.ts';
import { RedisServer } from '../../src/limits/redis-fixture.ts';

const skip = needTools('swaks', 'curl', 'python3');

const ALICE = 'alice@isp.example';
const PASS = 'alice-secret-pass';

/** One sample per labelled series: `name{a="x",b="y"}` → value. */
type Samples = Map<string, number>;

function parse(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^(portwarden_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+|NaN)$/.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** Sum of every series of `name` whose labels include all of `labels`. */
function value(s: Samples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [k, v] of s) {
    const m = /^([a-z_]+)(?:\{(.*)\})?$/.exec(k)!;
    if (m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([l, want]) => have.get(l) === want)) sum += v;
  }
  return sum;
}

/** Counter deltas between two scrapes, for the named series. */
const delta = (a: Samples, b: Samples, name: string, labels: Record<string, string> = {}) => value(b, name, labels) - value(a, name, labels);

async function scrape(server: Portwarden): Promise<Samples> {
  const r = await run('curl', ['-sS', '--fail', `http://127.0.0.1:${server.port('metrics')}/metrics`]);
  assert.equal(r.code, 0, r.stderr);
  return parse(r.stdout);
}

const swaks = (server: Portwarden, user: string, pass: string, from: string, to: string[], extra: string[] = []) => run('swaks', [
  '--server', '127.0.0.1', '--port', String(server.port('submission')), '--tls', '--auth', 'PLAIN', '--auth-user', user,
  '--auth-password', pass, '--from', from, '--to', to.join(','), '--timeout', '15', ...extra]);

describe('/metrics counts what happened', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  let deferredOnce = false;
  before(async () => {
    sink = new CaptureSink({
      rcptReply: (a) => {
        if (a.startsWith('bounce@')) return '550 5.1.1 no such user';
        // Deferred at the first attempt, accepted at the retry: the counts stay exact.
        if (a.startsWith('later@') && !deferredOnce) { deferredOnce = true; return '451 4.3.0 try again'; }
        return '250 2.1.5 Ok';
      },
    });
    const port = await sink.listen();
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${port}`,
      accounts: [
        { login: ALICE, password: PASS, subscriber: 'cust-1' },
        { login: 'victim@isp.example', password: 'victim-secret-pass' },
        { login: 'gone@isp.example', password: 'gone-secret-pass', disabled: true },
      ],
      extraYaml: [
        'limits:',
        '  authFailureDelaysMs: [0]',
        '  tiers:',
        '    residential:',
        '      - {name: messages-hour, scope: account, counts: messages, per: hour, limit: 100}',
        '    tiny:',
        '      - {name: messages-hour, scope: account, counts: messages, per: hour, limit: 1}',
        'metrics: {listen: "127.0.0.1:0"}',
      ].join('\n') + '\n',
    });
    await pw.cli(['account', 'add', 'tiny@isp.example', '--password-stdin', '--tier', 'tiny'], 'tiny-secret-pass1\n');
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  test('a MAIL refused by policy is a rejected message; refused and accepted RCPTs count one each', async () => {
    const t0 = await scrape(pw);
    // Not her address: 550 5.7.1 at MAIL, so no RCPT is ever sent.
    const r1 = await swaks(pw, ALICE, PASS, 'someone-else@isp.example', ['x@example.net']);
    assert.match(r1.stdout, /<~\* 550 5\.7\.1 Sender address rejected/);
    // The sending limit at MAIL: the second message of the hour for the "tiny" tier is 450 4.7.1.
    assert.match((await swaks(pw, 'tiny@isp.example', 'tiny-secret-pass1', 'tiny@isp.example', ['x@example.net'])).stdout, /<~ {2}250 2\.0\.0 Ok: queued/);
    assert.match((await swaks(pw, 'tiny@isp.example', 'tiny-secret-pass1', 'tiny@isp.example', ['x@example.net'])).stdout, /<~\* 450 4\.7\.1/);
    // Three recipients, one of them without a domain name the MSA accepts (554 5.1.2); the message goes to the other two.
    const r3 = await swaks(pw, ALICE, PASS, ALICE, ['a@example.net', 'b@example.net', 'nodots@localhost']);
    assert.match(r3.stdout, /<~\* 554 5\.1\.2/);
    assert.match(r3.stdout, /<~ {2}250 2\.0\.0 Ok: queued/);
    const t1 = await scrape(pw);
    assert.equal(delta(t0, t1, 'portwarden_messages_total', { verdict: 'rejected', code: '550', enhanced: '5.7.1' }), 1, 'refused at MAIL');
    assert.equal(delta(t0, t1, 'portwarden_messages_total', { verdict: 'deferred', code: '450', enhanced: '4.7.1' }), 1, 'limited at MAIL');
    assert.equal(delta(t0, t1, 'portwarden_messages_total', { verdict: 'accepted', code: '250' }), 2);
    assert.equal(delta(t0, t1, 'portwarden_messages_total'), 4);
    assert.equal(delta(t0, t1, 'portwarden_recipients_total', { verdict: 'accepted', code: '250', enhanced: '2.1.5' }), 3);
    assert.equal(delta(t0, t1, 'portwarden_recipients_total', { verdict: 'rejected', code: '554', enhanced: '5.1.2' }), 1);
    assert.equal(delta(t0, t1, 'portwarden_recipients_total'), 4);
    assert.equal(delta(t0, t1, 'portwarden_limit_hits_total', { scope: 'account', outcome: 'limited' }), 1);
    assert.equal(delta(t0, t1, 'portwarden_transaction_duration_seconds_count'), 4, 'every message has a duration');
    assert.equal(delta(t0, t1, 'portwarden_auth_total', { mechanism: 'PLAIN', outcome: 'success' }), 4);
    await sink.waitFor(2);
  });

  test('relay outcomes per recipient: one sent, one bounced, one deferred then sent; the bounce notice is sent too', async () => {
    await until(async () => {
      const s = await scrape(pw);
      return value(s, 'portwarden_queue_messages', { state: 'active' }) === 0 && value(s, 'portwarden_queue_messages', { state: 'deferred' }) === 0;
    }, 'an empty queue', 15000, 200);
    const before = sink.messages.length;
    const t0 = await scrape(pw);
    const r = await swaks(pw, ALICE, PASS, ALICE, ['ok@example.net', 'bounce@example.net', 'later@example.net']);
    assert.match(r.stdout, /<~ {2}250 2\.0\.0 Ok: queued/);
    // The message to ok@, the failure notice to alice, then the retry to later@ (after the 1 s schedule step).
    await sink.waitFor(before + 3, 20000);
    await until(async () => {
      const s = await scrape(pw);
      return value(s, 'portwarden_queue_messages', { state: 'active' }) + value(s, 'portwarden_queue_messages', { state: 'deferred' }) === 0;
    }, 'the queue to drain', 15000, 200);
    const t1 = await scrape(pw);
    assert.equal(delta(t0, t1, 'portwarden_relay_total', { outcome: 'sent' }), 3, 'ok@, later@ at the retry, and the notice to alice');
    assert.equal(delta(t0, t1, 'portwarden_relay_total', { outcome: 'bounced' }), 1);
    assert.equal(delta(t0, t1, 'portwarden_relay_total', { outcome: 'deferred' }), 1);
    // Attempts: the first one (deferred: later@ is still open), the notice, and the retry.
    assert.equal(delta(t0, t1, 'portwarden_relay_attempt_duration_seconds_count', { outcome: 'deferred' }), 1);
    assert.equal(delta(t0, t1, 'portwarden_relay_attempt_duration_seconds_count', { outcome: 'sent' }), 2);
  });

  test('sessions open and close on the gauge; a disabled account with the right password is outcome="disabled"', async () => {
    const t0 = await scrape(pw);
    const c = await RawClient.connect(pw.port('submissions'), { tls: true });
    await c.read();
    await c.cmd('EHLO c.example');
    const t1 = await scrape(pw);
    assert.equal(delta(t0, t1, 'portwarden_sessions_open', { listener: 'submissions' }), 1);
    assert.equal(delta(t0, t1, 'portwarden_sessions_total', { listener: 'submissions' }), 1);
    assert.match((await c.cmd(`AUTH PLAIN ${plainAuth('gone@isp.example', 'gone-secret-pass')}`)).lines[0], /^525 5\.7\.13/);
    c.close();
    await until(async () => delta(t0, await scrape(pw), 'portwarden_sessions_open', { listener: 'submissions' }) === 0, 'the session to close');
    const t2 = await scrape(pw);
    assert.equal(delta(t0, t2, 'portwarden_auth_total', { mechanism: 'PLAIN', outcome: 'disabled' }), 1);
    assert.equal(delta(t0, t2, 'portwarden_auth_total'), 1);
  });

  test('a brute-force lockout is counted, and so is the AUTH refused while locked', async () => {
    const t0 = await scrape(pw);
    // From 127.0.0.2, so the lock on that address leaves the other tests' 127.0.0.1 alone.
    const py = `
import smtplib, ssl, sys
ctx = ssl._create_unverified_context()
for i in range(11):
    try:
        s = smtplib.SMTP_SSL('127.0.0.1', ${pw.port('submissions')}, context=ctx, source_address=('127.0.0.2', 0), timeout=15)
        s.ehlo('brute.example')
        # One mechanism per attempt: login() would try PLAIN, then LOGIN, counting two failures.
        s.user, s.password = 'victim@isp.example', 'wrong-password-%d' % i
        s.auth('PLAIN', s.auth_plain)
        print('235')
    except smtplib.SMTPAuthenticationError as e:
        print(e.smtp_code)
    except smtplib.SMTPServerDisconnected:
        print('closed')
`;
    const r = await run('python3', ['-c', py], { timeout: 60000 });
    assert.equal(r.code, 0, r.stderr);
    const codes = r.stdout.trim().split('\n');
    assert.deepEqual(codes.slice(0, 9), Array(9).fill('535'), r.stdout);
    assert.ok(codes[9] !== '535' && codes[10] !== '535' && !codes.includes('235'), r.stdout);
    const t1 = await scrape(pw);
    assert.equal(delta(t0, t1, 'portwarden_auth_lockouts_total', { scope: 'ip' }), 1);
    // Every lockout the tracker logged is counted, whichever scopes it locked.
    await until(() => pw.logsOf('lockout').length > 0, 'the lockout log line');
    assert.equal(delta(t0, t1, 'portwarden_auth_lockouts_total'), pw.logsOf('lockout').length);
    assert.equal(delta(t0, t1, 'portwarden_auth_total', { outcome: 'failure' }), 10);
    assert.equal(delta(t0, t1, 'portwarden_auth_total', { outcome: 'locked' }), 1, 'the 11th attempt, refused while locked');
  });
});

describe('/metrics: limit decisions made without the shared store', { skip: skip || needTools('redis-server') }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  const redis = new RedisServer();
  before(async () => {
    await redis.start();
    sink = new CaptureSink();
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${await sink.listen()}`,
      accounts: [{ login: ALICE, password: PASS }],
      extraYaml: `limits: {store: redis, redisUrl: "${redis.url}", failMode: open}\nmetrics: {listen: "127.0.0.1:0"}\n`,
    });
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
    await redis.stop();
  });

  test('with Redis gone and failMode open, each decision falls back to the local bucket and is counted', async () => {
    const send = () => swaks(pw, ALICE, PASS, ALICE, ['x@example.net']);
    const t0 = await scrape(pw);
    assert.match((await send()).stdout, /<~ {2}250 2\.0\.0 Ok: queued/);
    const t1 = await scrape(pw);
    assert.equal(delta(t0, t1, 'portwarden_limit_store_degraded_total'), 0, 'Redis answers');
    await redis.stop();
    assert.match((await send()).stdout, /<~ {2}250 2\.0\.0 Ok: queued/, 'fail open: still accepted');
    const t2 = await scrape(pw);
    // One decision at MAIL (messages), one at the RCPT (recipients).
    assert.equal(delta(t1, t2, 'portwarden_limit_store_degraded_total', { result: 'fallback' }), 2);
  });

  test('with failMode closed, the MAIL refused for want of the store is counted as refused and as a deferred message', async () => {
    const closed = await Portwarden.start({
      smarthost: `127.0.0.1:${sink.port}`,
      accounts: [{ login: ALICE, password: PASS }],
      extraYaml: `limits: {store: redis, redisUrl: "${redis.url}", failMode: closed}\nmetrics: {listen: "127.0.0.1:0"}\n`,
    });
    try {
      await redis.stop(); // (already stopped by the test before, when run in order)
      const t0 = await scrape(closed);
      const r = await swaks(closed, ALICE, PASS, ALICE, ['x@example.net']);
      assert.match(r.stdout, /<~\* 451 4\.3\.0 Sending limits temporarily unavailable/);
      const t1 = await scrape(closed);
      assert.equal(delta(t0, t1, 'portwarden_limit_store_degraded_total', { result: 'refused' }), 1);
      assert.equal(delta(t0, t1, 'portwarden_messages_total', { verdict: 'deferred', code: '451', enhanced: '4.3.0' }), 1);
    } finally {
      await closed.destroy();
    }
  });
});
