// Outages the queue must ride out (issue 3): the smarthost goes away for a
// while (mail waits in deferred/, then all of it is delivered once it is back),
// and the disk fills up (452 4.3.1 for the message that does not fit, nothing
// accepted before it harmed, all of that delivered later).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink } from '../lib/sink.ts';
import { NextHop, Portwarden } from '../lib/portwarden.ts';
import { authedClient, type RawClient } from '../lib/smtpclient.ts';
import { smallTmpfs } from '../lib/tools.ts';

const ACCOUNT = { login: 'carol@isp.example', password: 'carols-password' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function send(c: RawClient, name: string, body: string): Promise<{ code: number; text: string; queueId?: string }> {
  const m = await c.cmd(`MAIL FROM:<${ACCOUNT.login}>`);
  if (m.code !== 250) return m;
  assert.equal((await c.cmd('RCPT TO:<erin@example.net>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  const r = await c.cmd(`From: <${ACCOUNT.login}>\r\nTo: <erin@example.net>\r\nSubject: ${name}\r\nX-Name: ${name}\r\n\r\n${body}.`, 15_000);
  return { code: r.code, text: r.text, queueId: /queued as (\S+)/.exec(r.text)?.[1] };
}

const nameOf = (raw: Buffer): string => /^X-Name: (\S+)\r$/m.exec(raw.toString('latin1'))?.[1] ?? '?';

async function queueList(pw: Portwarden): Promise<Array<{ id: string; state: string; size: number; attempts: number; damaged?: string }>> {
  return JSON.parse((await pw.cli(['queue', 'list', '--json'])).stdout);
}

test('smarthost down for a while: mail waits in deferred/, then all of it is delivered', { timeout: 60_000 }, async (t) => {
  const sink = new CaptureSink();
  const hop = await NextHop.reserve(await sink.listen());
  await hop.up();
  const pw = await Portwarden.start({ smarthost: `127.0.0.1:${hop.port}`, accounts: [ACCOUNT] });
  t.after(async () => { await pw.destroy(); await hop.down(); await sink.close(); });
  const c = await authedClient(pw.port('submissions'), ACCOUNT.login, ACCOUNT.password, { implicit: true });
  t.after(() => c.close());

  assert.equal((await send(c, 'before', 'hop is up\r\n')).code, 250);
  await sink.waitFor(1);
  // Gone from the queue too: cutting the hop between the sink's 250 and the
  // relay reading it would make a (legitimate) duplicate.
  await pw.cli(['queue', 'wait-empty', '--timeout', '10']); // rejects unless it exits 0

  await hop.down();
  const during: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await send(c, `during-${i}`, `sent while the next hop is down ${i}\r\n`);
    assert.equal(r.code, 250, r.text);
    during.push(r.queueId!);
  }
  // Retries run (schedule 1, 1, 2 s) and fail: the messages stay queued.
  const deadline = Date.now() + 10_000;
  let q = await queueList(pw);
  while (!(q.length === 5 && q.every((m) => m.state === 'deferred' && m.attempts >= 2)) && Date.now() < deadline) {
    await sleep(200);
    q = await queueList(pw);
  }
  assert.deepEqual(q.map((m) => m.id), during);
  assert.ok(q.every((m) => m.state === 'deferred' && m.attempts >= 2), JSON.stringify(q));
  assert.equal(sink.messages.length, 1, 'nothing got through while down');
  const deferrals = pw.logs.filter((l) => l.msg === 'delivery' && l.status === 'deferred').length;
  assert.ok(deferrals >= 10, `${deferrals} deferrals logged`);

  await hop.up();
  await sink.waitFor(6, 10_000);
  await pw.cli(['queue', 'wait-empty', '--timeout', '10']);
  const names = sink.messages.map((m) => nameOf(m.raw)).sort();
  assert.deepEqual(names, ['before', 'during-0', 'during-1', 'during-2', 'during-3', 'during-4']);
});

test('disk full: 452 4.3.1 once the data directory is full; earlier messages intact and delivered', { timeout: 60_000 }, async (t) => {
  const fs = smallTmpfs('size=2m,mode=0700', 'pw-diskfull-');
  if ('skip' in fs) return t.skip(fs.skip);
  const mnt = fs.path;
  const sink = new CaptureSink();
  const hop = await NextHop.reserve(await sink.listen()); // down: the queue only grows
  let pw: Portwarden | undefined;
  t.after(async () => {
    await pw?.destroy();
    await hop.down();
    await sink.close();
    fs.remove();
  });
  pw = await Portwarden.start({ smarthost: `127.0.0.1:${hop.port}`, accounts: [ACCOUNT], dataDir: mnt });
  const c = await authedClient(pw.port('submissions'), ACCOUNT.login, ACCOUNT.password, { implicit: true });
  t.after(() => c.close());

  const accepted = new Map<string, string>(); // queue id → name
  const bodyOf = (i: number): string => `${`message ${i} `.padEnd(98, String.fromCharCode(97 + (i % 26)))}\r\n`.repeat(1000); // 100 kB each
  let refused: { code: number; text: string } | undefined;
  for (let i = 0; i < 40 && !refused; i++) {
    const r = await send(c, `m${i}`, bodyOf(i));
    if (r.code === 250) accepted.set(r.queueId!, `m${i}`);
    else refused = r;
  }
  assert.ok(refused, 'the disk filled up within 40 messages of 100 kB');
  assert.equal(refused.code, 452);
  assert.match(refused.text, /^4\.3\.1 /);
  assert.ok(accepted.size >= 3, `${accepted.size} accepted before it was full`);
  // The session survives the refusal (RSET works), as REQUIREMENTS A12 asks.
  assert.equal((await c.cmd('RSET')).code, 250);

  const q = await queueList(pw);
  assert.deepEqual(q.map((m) => m.id).sort(), [...accepted.keys()].sort(), 'exactly the accepted ones are queued');
  for (const m of q) assert.equal(m.damaged, undefined, `${m.id} intact`);

  await hop.up();
  await sink.waitFor(accepted.size, 20_000);
  const delivered = new Map(sink.messages.map((m) => [nameOf(m.raw), m.raw.toString('latin1')]));
  for (const [id, name] of accepted) {
    const raw = delivered.get(name);
    assert.ok(raw, `${name} (${id}) delivered`);
    const i = Number(name.slice(1));
    assert.equal(raw.slice(raw.indexOf('\r\n\r\n') + 4), `${bodyOf(i)}.\r\n`, `${name} body intact`);
  }
  // With space back, the server takes mail again.
  const again = await send(c, 'after', 'room again\r\n');
  assert.equal(again.code, 250, again.text);
});
