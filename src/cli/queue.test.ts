// `portwarden queue` against the real server: the smarthost is a closed port,
// three messages from two accounts wait in deferred/, an operator holds one
// account's mail, releases it, deletes another message, opens the next hop
// and flushes; what remains arrives at a capture sink.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink } from '../../test/lib/sink.ts';
import { MAIN, NODE, NextHop, Portwarden, run } from '../../test/lib/portwarden.ts';
import { authedClient } from '../../test/lib/smtpclient.ts';

interface Entry { id: string; state: string; sender: string; account?: string; attempts: number; holdReason?: string; recipients: Array<{ state: string; reply?: string }> }

describe('portwarden queue', () => {
  let sink: CaptureSink;
  let hop: NextHop;
  let pw: Portwarden;
  const ids: Record<string, string> = {};
  const queue = async (...args: string[]) => run(NODE, [MAIN, 'queue', ...args, '--config', pw.config], { timeout: 20_000 });
  const list = async (): Promise<Entry[]> => {
    const r = await queue('list', '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Entry[];
  };
  const waitList = async (what: string, cond: (l: Entry[]) => boolean, ms = 10_000): Promise<Entry[]> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const l = await list();
      if (cond(l)) return l;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(l)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    sink = new CaptureSink();
    hop = await NextHop.reserve(await sink.listen()); // down: nothing listens on hop.port
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${hop.port}`,
      accounts: [
        { login: 'alice@isp.example', password: 'alice-password', addresses: ['a.smith@isp.example'] },
        { login: 'bob@isp.example', password: 'bob-password' },
      ],
    });
    for (const [name, user, pass, from] of [
      ['a1', 'alice@isp.example', 'alice-password', 'alice@isp.example'],
      ['a2', 'alice@isp.example', 'alice-password', 'a.smith@isp.example'],
      ['b1', 'bob@isp.example', 'bob-password', 'bob@isp.example'],
    ]) {
      const c = await authedClient(pw.port('submissions'), user, pass, { implicit: true });
      assert.equal((await c.cmd(`MAIL FROM:<${from}>`)).code, 250);
      assert.equal((await c.cmd('RCPT TO:<dave@example.net>')).code, 250);
      assert.equal((await c.cmd('DATA')).code, 354);
      const r = await c.cmd(`From: <${from}>\r\nTo: <dave@example.net>\r\nSubject: ${name}\r\nX-Name: ${name}\r\n\r\nbody of ${name}\r\n.`);
      assert.equal(r.code, 250, r.text);
      ids[name] = /queued as (\S+)/.exec(r.text)![1];
      await c.cmd('QUIT');
      c.close();
    }
  });
  after(async () => {
    await pw?.destroy();
    await hop?.down();
    await sink?.close();
  });

  test('list: deferred with the reply from the closed port', async () => {
    const l = await waitList('three deferred', (l) => l.length === 3 && l.every((e) => e.state === 'deferred' && e.attempts >= 1));
    assert.deepEqual(l.map((e) => e.id), [ids.a1, ids.a2, ids.b1]);
    assert.deepEqual(l.map((e) => e.account), ['alice@isp.example', 'alice@isp.example', 'bob@isp.example']);
    for (const e of l) assert.match(e.recipients[0].reply ?? '', /^4\d\d /);
    const text = await queue('list');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^-Queue ID- +--Size--/);
    // The relay keeps retrying between the two listings: an entry may be in delivery again, marked "*" as in Postfix's mailq.
    assert.match(text.stdout, new RegExp(`^${ids.b1}[* ] +\\d+ \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  bob@isp\\.example  account=bob@isp\\.example$`, 'm'));
    assert.match(text.stdout, /^ {50}dave@example\.net {2}\[deferred: 4\d\d /m);
    assert.match(text.stdout, /^-- \d+ Kbytes in 3 Requests\.$/m);
  });

  test('show: envelope and the headers as queued (with our Received)', async () => {
    const r = await queue('show', ids.a2);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sender: +<a\.smith@isp\.example>$/m);
    assert.match(r.stdout, /^account: +alice@isp\.example$/m);
    assert.match(r.stdout.replace(/\n[ \t]+/g, ' '), new RegExp(`^Received: from .* with ESMTPSA id ${ids.a2} `, 'm'));
    assert.match(r.stdout, /^Subject: a2$/m);
    assert.doesNotMatch(r.stdout, /body of a2/);
    const missing = await queue('show', '01KDZZZZZZ00000000');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such message/);
  });

  test('hold by account survives retries; release; delete one', async () => {
    const h = await queue('hold', '--account', 'alice@isp.example', '--reason', 'case 4711');
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /held 2 message\(s\)/);
    // bob's message goes on being retried (schedule 1, 1, 2 s); alice's stay put.
    const bobBefore = (await list()).find((e) => e.id === ids.b1)!.attempts;
    const l = await waitList('bob retried', (l) => l.find((e) => e.id === ids.b1)!.attempts > bobBefore);
    assert.deepEqual(l.filter((e) => e.state === 'hold').map((e) => e.id), [ids.a1, ids.a2]);
    assert.equal(l[0].holdReason, 'held by operator: case 4711');
    assert.match((await queue('list')).stdout, new RegExp(`^${ids.a1}! `, 'm'));

    const rel = await queue('release', '--sender', 'a.smith@isp.example');
    assert.equal(rel.code, 0, rel.stderr);
    assert.equal(rel.stdout.trim(), `${ids.a2}: released\nreleased 1 message(s)`);
    const rel2 = await queue('release', ids.a1);
    assert.equal(rel2.code, 0, rel2.stderr);
    const del = await queue('delete', ids.b1);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /deleted 1 message\(s\)/);
    const after = await list();
    assert.deepEqual(after.map((e) => e.id), [ids.a1, ids.a2]);
    assert.ok(after.every((e) => e.state !== 'hold'));
    // Released means no longer held: the reason goes too (list and show printed it for ever).
    assert.deepEqual(after.map((e) => e.holdReason), [undefined, undefined]);
    assert.doesNotMatch((await queue('list')).stdout, /held by operator/);
    assert.doesNotMatch((await queue('show', ids.a1)).stdout, /^held:/m);
  });

  test('the next hop comes up; flush delivers what is left, and only that', async () => {
    await hop.up();
    const f = await queue('flush');
    assert.equal(f.code, 0, f.stderr);
    await sink.waitFor(2, 10_000);
    const w = await queue('wait-empty', '--timeout', '10');
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(sink.messages.map((m) => /X-Name: (\w+)/.exec(m.raw.toString())![1]).sort(), ['a1', 'a2']);
    const stats = JSON.parse((await queue('stats')).stdout) as Record<string, number>;
    assert.equal(stats.active + stats.deferred + stats.hold, 0);
    assert.equal(stats.commits, 3, 'stats came from the running server');
  });

  test('usage: --help per subcommand, selector errors, unknown ids', async () => {
    const help = await queue('hold', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: portwarden queue hold ID…\|ALL\|--account A\|--sender S/);
    const none = await queue('hold');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give queue ids, ALL, --account or --sender/);
    const bad = await queue('delete', 'not-an-id');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a queue id/);
    const wrongOpt = await queue('flush', '--account', 'x');
    assert.equal(wrongOpt.code, 2);
    const gone = await queue('release', '01KDZZZZZZ00000000');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /01KDZZZZZZ00000000: no such message/);
  });

  test('without a server: list reads the spool, changes are refused', async () => {
    await pw.stop();
    const l = await queue('list');
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout.trim(), 'Mail queue is empty');
    const h = await queue('hold', 'ALL');
    assert.equal(h.code, 1);
    assert.match(h.stderr, /no server runs/);
  });
});
