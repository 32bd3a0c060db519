// Issue 12 end to end on the real `portwarden` process: a compromised account
// floods through submission; the abuse engine's credential-abuse rule (flood 50
// points each, threshold 100 in 600 s) suspends it: the next AUTH answers
// 525 5.7.13, its queued mail is held, the decision is audited and counted in
// /metrics; a notice reaches the subscriber's contact (the directory) through
// portwarden's own spool and relay; `portwarden case list/show` show the case;
// a restart loses no case, evidence or decision; `portwarden case release`
// restores the account.
// The capture sink is the relay's next hop: it defers the zombie's queued mail
// (451), so that there is queued mail to hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { RawClient, authedClient, plainAuth } from '../lib/smtpclient.ts';
import { needTools, until } from '../lib/tools.ts';

const skip = needTools('curl');

const CONFIG = `limits:
  store: memory
  tiers:
    residential:
      - {name: flood, scope: account, counts: recipients, per: minute, limit: 8, action: flood, suspend: true}
metrics: {listen: "127.0.0.1:0"}
api: {listen: "127.0.0.1:0", tls: false}
abuse: {noticeListen: "127.0.0.1:0"}
`;

interface Entry { id: string; state: string; account?: string; holdReason?: string }
interface Summary { id: string; subscriber: string; state: string; active: Array<{ action: string; rule: string; until: number | null }> }
interface Detail extends Summary { evidence: Array<{ class: string; amount: number; account: string | null; origin: string }>; timeline: Array<{ kind: string; actor: string; text: string }> }

describe('abuse: a credential flood suspends the account, holds its mail, survives a restart, and the desk releases it', { skip }, () => {
  const sink = new CaptureSink({ rcptReply: (a) => (a.startsWith('slow') ? '451 4.3.0 try later' : '250 2.1.5 Ok') });
  let pw: Portwarden;
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await pw.cli([...args, '--json']);
    return JSON.parse(r.stdout) as T;
  };
  const authReply = async (pass = 'zombie-pass-1'): Promise<string> => {
    const c = await RawClient.connect(pw.port('submissions'), { tls: true });
    await c.read();
    await c.cmd('EHLO c.example');
    const line = (await c.cmd(`AUTH PLAIN ${plainAuth('zombie@isp.example', pass)}`)).lines[0];
    c.close();
    return line;
  };
  /** RCPTs until `floods` of them got 550 5.7.28 (each is one limit.flood). */
  const flood = async (floods: number): Promise<void> => {
    const c = await authedClient(pw.port('submissions'), 'zombie@isp.example', 'zombie-pass-1', { implicit: true });
    assert.equal((await c.cmd('MAIL FROM:<zombie@isp.example>')).code, 250);
    let seen = 0;
    for (let i = 0; i < 40 && seen < floods; i++) if ((await c.cmd(`RCPT TO:<f${i}@example.net>`)).lines[0].startsWith('550 5.7.28')) seen++;
    assert.equal(seen, floods);
    await c.cmd('RSET');
    c.close();
  };
  const metrics = async (): Promise<string> => {
    const r = await run('curl', ['-sS', `http://127.0.0.1:${pw.port('metrics')}/metrics`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  /** The notices the sink took for the subscriber's contact: their Subject lines. */
  const notices = (): string[] => sink.messages.filter((m) => m.rcptTo.includes('owner@home.example'))
    .map((m) => /^Subject: (.*)$/m.exec(m.data.toString('utf8'))?.[1] ?? '?');
  const zombieQueue = async (): Promise<Entry[]> => (await json<Entry[]>(['queue', 'list'])).filter((m) => m.account === 'zombie@isp.example');

  before(async () => {
    const port = await sink.listen();
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${port}`,
      accounts: [
        { login: 'zombie@isp.example', password: 'zombie-pass-1', subscriber: 'sub-z' },
        { login: 'neighbour@isp.example', password: 'neighbour-pass-1', subscriber: 'sub-n' },
      ],
      extraYaml: CONFIG,
    });
  });
  after(async () => {
    await pw?.destroy();
    await sink.close();
  });

  test('the subscriber is in the directory with a contact', async () => {
    await pw.cli(['subscriber', 'put', 'sub-z', '--tier', 'residential', '--contact', 'owner@home.example', '--reason', 'signup']);
    const shown = JSON.parse((await pw.cli(['subscriber', 'show', 'sub-z', '--json'])).stdout);
    assert.deepEqual(shown.directory.record.contacts, ['owner@home.example']);
  });

  test('two messages wait in the queue (the next hop defers them)', async () => {
    const c = await authedClient(pw.port('submissions'), 'zombie@isp.example', 'zombie-pass-1', { implicit: true });
    for (let i = 0; i < 2; i++) {
      assert.equal((await c.cmd('MAIL FROM:<zombie@isp.example>')).code, 250);
      assert.equal((await c.cmd(`RCPT TO:<slow${i}@example.net>`)).code, 250);
      assert.equal((await c.cmd('DATA')).code, 354);
      assert.equal((await c.cmd(`From: <zombie@isp.example>\r\nTo: <slow${i}@example.net>\r\nSubject: ${i}\r\n\r\nbuy now\r\n.`)).code, 250);
    }
    c.close();
    await until(async () => (await zombieQueue()).length === 2, 'two queued messages of the zombie', 15_000, 100);
  });

  test('one flood is a signal, not a suspension: the issue-11 flood subscriber does not act beside the engine', async () => {
    await flood(1);
    await until(async () => (await json<Summary[]>(['case', 'list'])).some((c) => c.subscriber === 'sub-z'), 'a case for sub-z', 15_000, 100);
    const [c] = await json<Summary[]>(['case', 'list', '--subscriber', 'sub-z']);
    assert.deepEqual(c.active.map((a) => a.action), ['notify'], '50 points: the notify rule (20), below the credential-abuse threshold (100)');
    assert.match(await authReply(), /^235 /, 'suspend: true on the flood rule did not disable the account by itself');
    assert.equal(pw.logsOf('suspended').length, 0);
  });

  test('the second flood: suspended (525 5.7.13 at AUTH), queued mail held, audited, counted', async () => {
    await flood(1);
    await until(async () => (await authReply()).startsWith('525 5.7.13'), 'AUTH answers 525 5.7.13', 15_000, 200);
    const held = await zombieQueue();
    assert.deepEqual(held.map((m) => m.state), ['hold', 'hold']);
    for (const m of held) assert.match(m.holdReason ?? '', /^held by abuse: /);
    assert.match(await authReply.call(null), /^525 5\.7\.13 /);
    const other = await RawClient.connect(pw.port('submissions'), { tls: true });
    await other.read();
    await other.cmd('EHLO c.example');
    assert.match((await other.cmd(`AUTH PLAIN ${plainAuth('neighbour@isp.example', 'neighbour-pass-1')}`)).lines[0], /^235 /, 'another subscriber is untouched');
    other.close();

    const audit = await json<{ entries: Array<{ action: string; actor: string; actorKind: string; object: string }> }>(['audit', 'list', '--actor', 'abuse']);
    const rows = (Array.isArray(audit) ? audit : audit.entries).map((e) => [e.action, e.actorKind, e.object]);
    assert.ok(rows.some(([a, k, o]) => a === 'abuse.suspend' && k === 'system' && o === 'account zombie@isp.example'), JSON.stringify(rows));
    assert.ok(rows.some(([a, , o]) => a === 'abuse.hold' && o === 'queue account=zombie@isp.example'), JSON.stringify(rows));

    const m = await metrics();
    assert.match(m, /portwarden_abuse_signals_total\{class="flood",result="ingested"\} 2\n/);
    assert.match(m, /portwarden_abuse_decisions_total\{action="suspend",immune="no"\} 1\n/);
    assert.match(m, /portwarden_abuse_cases_open 1\n/);
  });

  test("notices reach the subscriber's contact through the spool and relay: notify, then suspend", async () => {
    await until(() => notices().length >= 2, 'two notices at the sink', 20_000, 100);
    assert.deepEqual(notices().sort(), ['Your internet connection may have a virus (case c1)', 'Your mail account is paused (case c1)'].sort());
    const suspend = sink.messages.find((m) => /Subject: Your mail account is paused/.test(m.data.toString('utf8')))!;
    const text = suspend.data.toString('utf8');
    assert.match(text, /^X-Portwarden-Case: c1\r$/m);
    assert.match(text, /^Auto-Submitted: auto-generated\r$/m);
    assert.doesNotMatch(text, /password:/i);
    // The notice page runs now that the engine's cases are there: the link's token finds the case.
    const token = /[?&]t=([A-Za-z0-9_.-]+)/.exec(text)?.[1];
    assert.ok(token, text);
    const page = await run('curl', ['-sS', '-w', '\n%{http_code}', `http://127.0.0.1:${pw.port('notice')}/notice?t=${token}`]);
    assert.match(page.stdout, /\n200$/);
    assert.match(page.stdout, /c1/);
  });

  let before_: Detail;
  test('portwarden case list and show: the decision, its evidence and timeline', async () => {
    const [c] = await json<Summary[]>(['case', 'list', '--state', 'open']);
    assert.equal(c.subscriber, 'sub-z');
    assert.deepEqual(c.active.map((a) => [a.action, a.rule]), [['notify', 'notify'], ['suspend', 'credential-abuse']]);
    const text = (await pw.cli(['case', 'list'])).stdout;
    assert.match(text, new RegExp(`${c.id}\\s+sub-z\\s+open\\s+\\S+\\s+\\S+ \\S+\\s+notify by notify until .*; suspend by credential-abuse until `));
    before_ = await json<Detail>(['case', 'show', c.id]);
    const floods = before_.evidence.filter((e) => e.class === 'flood');
    assert.equal(floods.reduce((n, e) => n + e.amount, 0), 2);
    assert.ok(floods.every((e) => e.account === 'zombie@isp.example' && e.origin === 'submission'));
    assert.ok(before_.timeline.some((t) => t.kind === 'decision'), JSON.stringify(before_.timeline));
    assert.ok(before_.timeline.some((t) => t.kind === 'enforced' && /zombie@isp\.example/.test(t.text)), JSON.stringify(before_.timeline));
    const shown = (await pw.cli(['case', 'show', c.id])).stdout;
    assert.match(shown, /in force:\s+suspend by credential-abuse until /);
    assert.match(shown, /flood ×[12] .*from submission address 127\.0\.0\.1 account zombie@isp\.example/);
  });

  test('the admin API with curl: GET /api/v1/cases, a note by a token (audited, on the timeline)', async () => {
    const token = (await pw.cli(['token', 'add', 'desk-bot', '--scope', 'operate'])).stdout.trim();
    const api = `http://127.0.0.1:${pw.port('api')}/api/v1`;
    const get = await run('curl', ['-sS', '-H', `Authorization: Bearer ${token}`, `${api}/cases?subscriber=sub-z&state=open`]);
    const listed = JSON.parse(get.stdout) as { cases: Summary[] };
    assert.deepEqual(listed.cases.map((c) => c.id), [before_.id]);
    const post = await run('curl', ['-sS', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/json',
      '--data-binary', JSON.stringify({ text: 'customer called back' }), `${api}/cases/${before_.id}/notes`]);
    assert.match(post.stdout, /\n200$/, post.stdout);
    const d = await json<Detail>(['case', 'show', before_.id]);
    assert.ok(d.timeline.some((t) => t.kind === 'note' && t.actor === 'token:desk-bot' && t.text === 'customer called back'), JSON.stringify(d.timeline));
    const audit = await json<{ entries: Array<{ action: string; actor: string; actorKind: string; object: string }> }>(['audit', 'list', '--action', 'cases.note']);
    assert.deepEqual(audit.entries.map((e) => [e.action, e.actorKind, e.actor, e.object]), [['cases.note', 'token', 'desk-bot', `case ${before_.id}`]]);
    before_ = d;
  });

  test('a restart loses no case, evidence or decision', async () => {
    await pw.stop();
    await pw.restart();
    const after_ = await json<Detail>(['case', 'show', before_.id]);
    assert.deepEqual(after_.evidence, before_.evidence);
    assert.deepEqual(after_.active, before_.active);
    assert.deepEqual(after_.timeline.slice(0, before_.timeline.length), before_.timeline);
    assert.match(await authReply(), /^525 5\.7\.13 /, 'still suspended');
    assert.match(await metrics(), /portwarden_abuse_cases_open 1\n/);
  });

  test('portwarden case release: the account works again; held mail stays held for the desk; audited', async () => {
    const refused = await pw.cli(['case', 'release', before_.id]).catch((e: { code: number; stderr: string }) => e);
    assert.equal((refused as { code?: number }).code, 2, 'a release needs --reason');
    const r = await pw.cli(['case', 'release', before_.id, '--reason', 'password changed with the customer on the phone']);
    assert.match(r.stdout, new RegExp(`^${before_.id}: released \\(subscriber sub-z, open, in force: notify by notify until `), 'a notice in force is no restriction: it stays');
    assert.match(await authReply(), /^235 /);
    assert.deepEqual((await zombieQueue()).map((m) => m.state), ['hold', 'hold']);
    const d = await json<Detail>(['case', 'show', before_.id]);
    const me = (await run('id', ['-un'])).stdout.trim();
    assert.ok(d.timeline.some((t) => t.kind === 'release' && t.actor === `operator:${me}` && /password changed/.test(t.text)), JSON.stringify(d.timeline));
    const audit = await json<{ entries: Array<{ action: string; actor: string; from: string; reason: string; outcome: string }> }>(['audit', 'list', '--action', 'cases.release']);
    const entries = Array.isArray(audit) ? audit : audit.entries;
    assert.deepEqual(entries.map((e) => [e.action, e.actor, e.from, e.reason, e.outcome]),
      [['cases.release', me, 'control', 'password changed with the customer on the phone', 'ok']]);
    assert.ok(pw.logsOf('abuse-enforce').some((l) => l.action === 'unsuspend' && l.stillHeld === 2));
    await until(() => notices().some((s) => s === 'Your internet connection is back to normal (case c1)'), 'the released notice', 20_000, 100);
  });

  test("desk quarantine: the subscriber's current address enters the walled garden (audited as abuse); the release lifts it", async () => {
    await pw.cli(['subscriber', 'put', 'sub-n', '--contact', 'n@home.example']);
    const admin = (await pw.cli(['token', 'add', 'provisioning', '--scope', 'admin'])).stdout.trim();
    const assign = await run('curl', ['-sS', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${admin}`, '-H', 'Content-Type: application/json',
      '--data-binary', JSON.stringify({ subscriber: 'sub-n', prefix: '198.51.100.23', source: 'static' }), `http://127.0.0.1:${pw.port('api')}/api/v1/addresses`]);
    assert.match(assign.stdout, /\n200$/, assign.stdout);
    const q = await pw.cli(['case', 'quarantine', 'sub-n', '--reason', 'spam complaint by phone', '--duration', '1h']);
    const id = /^(c\d+): quarantined \(subscriber sub-n, open, in force: quarantine by desk until /.exec(q.stdout)?.[1];
    assert.ok(id, q.stdout);
    const garden = JSON.parse((await pw.cli(['policy', 'quarantine', 'list', '--json'])).stdout) as Array<{ prefix: string; subscriber: string; caseId: string; by: string }>;
    assert.deepEqual(garden.map((g) => [g.prefix, g.subscriber, g.caseId, g.by]), [['198.51.100.23', 'sub-n', id, 'abuse']]);
    await pw.cli(['case', 'release', id, '--reason', 'checked: not a bot']);
    assert.deepEqual(JSON.parse((await pw.cli(['policy', 'quarantine', 'list', '--json'])).stdout), []);
  });
});
