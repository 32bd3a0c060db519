// The hourly statistics of the real `portwarden start`: swaks sends over 587
// (STARTTLS, AUTH PLAIN) mail that is accepted, refused by a sending limit and by
// the sender binding, and a wrong password; the stats.series operation, asked
// through the admin API with a read token (curl), shows each count in the hour
// it happened. The node's recorder writes what it holds before it reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run, startWithSink } from '../lib/portwarden.ts';
import { needTools, tempDir, until } from '../lib/tools.ts';

const skip = needTools('swaks', 'curl');
const HOUR = 3_600_000;

describe('hourly statistics from real clients', { skip }, () => {
  let sink: CaptureSink, pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({
      accounts: [{ login: 'alice@isp.example', password: 'alice-pass-1', subscriber: 'cust-1' }],
      extraYaml: `api: {listen: "127.0.0.1:0"}
stats: {flushMs: 60000}
abuse: {enabled: false}
limits:
  store: memory
  authFailureDelaysMs: [0]
  tiers:
    residential:
      - {name: messages-hour, scope: account, counts: messages, per: hour, limit: 2}
`,
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  const swaks = async (user: string, pass: string, from = user): Promise<string> => (await run('swaks', ['--server', '127.0.0.1', '--port', String(pw.port('submission')),
    '--tls', '--auth', 'PLAIN', '--auth-user', user, '--auth-password', pass, '--from', from, '--to', 'bob@example.net', '--timeout', '15'])).stdout;

  test('accepted, refused by a limit and by the sender binding, a wrong password: counted in their hour, read through the API and `portwarden stats`', async () => {
    const start = Date.now();
    for (let i = 0; i < 2; i++) assert.match(await swaks('alice@isp.example', 'alice-pass-1'), /<~ {2}250 2\.0\.0 Ok: queued/);
    assert.match(await swaks('alice@isp.example', 'alice-pass-1'), /<~\* 450 4\.7\.1 Sending limit of 2 messages per hour/);
    assert.match(await swaks('alice@isp.example', 'alice-pass-1', 'ceo@bank.example'), /<~\* 550 5\.7\.1 Sender address rejected: not owned by user alice@isp\.example/);
    assert.match(await swaks('alice@isp.example', 'wrong-password'), /<~\* 535 5\.7\.8 Error: authentication failed/);
    const end = Date.now();

    const token = (await pw.cli(['token', 'add', 'charts', '--scope', 'read'])).stdout.trim();
    const since = Math.floor(start / HOUR) * HOUR;
    const q = ['messages', 'refusals', 'limit-hits', 'auth-failures'].map((s) => `series=${s}`).join('&');
    const r = await run('curl', ['-sS', '--fail-with-body', '--cacert', join(pw.dir, 'data', 'tls', 'cert.pem'), '-H', `Authorization: Bearer ${token}`,
      `https://127.0.0.1:${pw.port('api')}/api/v1/stats/series?${q}&since=${since}&until=${end + 1}`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const body = JSON.parse(r.stdout) as { step: string; times: number[]; series: Array<{ series: string; labels: Array<{ label: string; values: number[]; total: number }> }> };
    assert.equal(body.step, 'hour');
    assert.equal(body.times[0], since);
    const got = Object.fromEntries(body.series.map((s) => [s.series, Object.fromEntries(s.labels.map((l) => [l.label, l.total]))]));
    assert.deepEqual(got, {
      messages: { accepted: 2, refused: 2 },
      refusals: { limited: 1, senderNotOwned: 1 },
      'limit-hits': { 'residential/messages-hour': 1 },
      'auth-failures': { failure: 1 },
    });
    // The API's read wrote what the server held: `portwarden stats` reads the same rows from the state store.
    const cli = await pw.cli(['stats', '--series', 'refusals,auth-failures', '--since', new Date(since).toISOString()]);
    assert.match(cli.stdout, /^refusals \(count per hour\)\nTIME\tlimited\tsenderNotOwned\n/);
    assert.match(cli.stdout, /\nTOTAL\t1\t1\n\nauth-failures \(count per hour\)\nTIME\tfailure\n[^]*\nTOTAL\t1\n$/);
    await assert.rejects(pw.cli(['stats', '--series', 'nope']), (e: { code?: number; stderr?: string }) => e.code === 2 && /--series: no series "nope"/.test(e.stderr ?? ''));
    if (Math.floor(end / HOUR) * HOUR === since) {
      // The counts sit in the hour they happened: the only bucket of the period.
      assert.deepEqual(body.times, [since]);
      assert.deepEqual(body.series.find((s) => s.series === 'messages')!.labels.map((l) => l.values), [[2], [2]]);
    }
  });
});

describe('blocked port-25 packets from edge reports', { skip }, () => {
  const T1 = 'edge1-token-0123456789abcdef';
  let sink: CaptureSink, pw: Portwarden, dir: ReturnType<typeof tempDir>;
  before(async () => {
    dir = tempDir('pw-stats-edge-');
    writeFileSync(join(dir.path, 'tokens'), `edge1 ${T1}\n`);
    ({ sink, pw } = await startWithSink({ extraYaml: `netpolicy: {listen: "127.0.0.1:0", tokenFile: "${join(dir.path, 'tokens')}"}\nstats: {flushMs: 200}\n` }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
    dir?.remove();
  });

  test("the edge's cumulative counters become the packets blocked since its last report, written within flushMs", async () => {
    const post = async (packets: number): Promise<void> => {
      const f = join(dir.path, 'body');
      writeFileSync(f, JSON.stringify({ edge: 'edge1', version: '', blocked: [{ source: '198.51.100.7', packets, destinations: 2 }, { source: '198.51.100.8', packets: 4, destinations: 1 }] }));
      const r = await run('curl', ['-sS', '--cacert', join(pw.dir, 'data', 'tls', 'cert.pem'), '-H', `Authorization: Bearer ${T1}`, '-H', 'Content-Type: application/json',
        '--data-binary', `@${f}`, '-w', '\n%{http_code}', `https://127.0.0.1:${pw.port('netpolicy')}/v1/netpolicy/report`]);
      assert.match(r.stdout, /\n200$/, r.stdout + r.stderr);
    };
    await post(5);
    await post(12); // 7 more from .7; .8 still at 4: nothing new
    const since = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    let out = '';
    await until(async () => {
      out = (await pw.cli(['stats', '--series', 'edge-blocked', '--since', new Date(since).toISOString(), '--json'])).stdout;
      return JSON.parse(out).series[0].labels.length > 0;
    }, 'the counts written by the server', 10_000, 200);
    const labels = JSON.parse(out).series[0].labels as Array<{ label: string; total: number }>;
    assert.deepEqual(labels.map((l) => [l.label, l.total]), [['edge1', 5 + 4 + 7]]);
  });
});
