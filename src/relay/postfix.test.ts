// Against a real next hop: Postfix's smtp-sink (Debian package postfix).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { Spool } from '../spool/index.ts';
import { freePort, needTools, until } from '../../test/lib/tools.ts';
import { Relay } from './index.ts';

const skip = needTools('smtp-sink');

async function startSink(port: number, dump: string, args: string[] = []): Promise<ChildProcess> {
  const asRoot = process.getuid?.() === 0 ? ['-u', 'postfix'] : [];
  const p = spawn('smtp-sink', [...asRoot, '-d', `${dump}/m.`, ...args, `127.0.0.1:${port}`, '10'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return p;
    await new Promise((r) => setTimeout(r, 20));
  }
  p.kill();
  throw new Error('smtp-sink did not start');
}

async function stopSink(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await gone;
}

async function setup(t: TestContext, port: number) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-relay-pf-'));
  const dump = join(dir, 'dump');
  const spoolDir = join(dir, 'spool');
  mkdirSync(dump);
  chmodSync(dir, 0o755);
  chmodSync(dump, 0o777); // smtp-sink drops to user postfix
  const clock = new ManualClock();
  const spool = await Spool.open(spoolDir, { clock });
  const relay = new Relay({
    spool, clock, ehloName: 'relay.test', pollMs: 20, concurrency: 2,
    smarthost: { host: '127.0.0.1', port, tls: 'none' },
    retry: { schedule: [60, 300], jitter: 0 },
    timeouts: { connect: 1000, greeting: 2000, socket: 5000 },
  });
  const sinks: ChildProcess[] = [];
  t.after(async () => {
    await relay.stop();
    for (const s of sinks) await stopSink(s);
    await spool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { clock, spool, relay, dump, sinks };
}

const dumps = (dump: string): string[] => readdirSync(dump).map((f) => readFileSync(join(dump, f), 'latin1'));

// smtp-sink speaks no TLS, so the relay withholds credentials from it (auth-tls.test.ts covers AUTH and AUTH= over verified TLS).
test('smtp-sink: delivered with DSN parameters and a "." body line (F4); no AUTH= to a hop we did not authenticate to', { skip }, async (t) => {
  const port = await freePort();
  const { spool, relay, dump, sinks } = await setup(t, port);
  sinks.push(await startSink(port, dump));
  relay.start();
  const w = spool.create({
    mailFrom: { address: 'alice@example.org', ret: 'FULL', envid: 'E1' },
    recipients: [{ address: 'bob@example.net', notify: ['SUCCESS'], orcpt: 'rfc822;bob@example.net' }, { address: 'carol@example.net' }],
    account: 'alice+relay@example.org',
  });
  w.stream.write('Subject: dots\r\n\r\nbefore\r\n.\r\nafter\r\n');
  await w.commit();
  await spool.waitEmpty();
  await until(() => dumps(dump).length === 1, 'dump file');
  const d = dumps(dump)[0];
  assert.match(d, /^X-Mail-Args: <alice@example\.org> RET=FULL ENVID=E1$/m);
  assert.match(d, /^X-Rcpt-Args: <bob@example\.net> NOTIFY=SUCCESS ORCPT=rfc822;bob@example\.net$/m);
  assert.match(d, /^X-Rcpt-Args: <carol@example\.net>$/m);
  assert.match(d, /\nSubject: dots\n\nbefore\n\.\nafter\n/); // smtp-sink un-stuffs: the "." line came through as data
});

test('smtp-sink: next hop down → queued; 4xx → deferred; back → delivered', { skip }, async (t) => {
  const port = await freePort();
  const { spool, relay, dump, sinks, clock } = await setup(t, port);
  relay.start();
  const w = spool.create({ mailFrom: { address: 'a@example.org' }, recipients: [{ address: 'b@example.net' }] });
  w.stream.write('Subject: later\r\n\r\nhi\r\n');
  await w.commit();
  await until(() => spool.stateOf(w.id) === 'deferred', 'first deferral');
  assert.match((await spool.read(w.id))?.envelope.lastReply ?? '', /^451 4\.4\.1 .*unreachable/);

  const soft = await startSink(port, dump, ['-r', 'RCPT']);
  sinks.push(soft);
  clock.advance(60_000);
  // read() may race the relay moving the file between deferred/ and active/: retry.
  await until(async () => spool.stateOf(w.id) === 'deferred' && (await spool.read(w.id).catch(() => null))?.envelope.attempts === 2, 'second attempt');
  const m = await spool.read(w.id);
  assert.equal(m?.state, 'deferred');
  assert.match(m?.envelope.lastReply ?? '', /^450 4\.3\.0/);
  assert.equal(m?.envelope.nextAttemptAt, clock.now() + 300_000);
  assert.equal(dumps(dump).length, 0);

  await stopSink(soft);
  sinks.push(await startSink(port, dump));
  clock.advance(300_000);
  await spool.waitEmpty();
  await until(() => dumps(dump).length === 1, 'dump file');
  assert.match(dumps(dump)[0], /Subject: later/);
});

test('smtp-sink: 5xx → a DSN to the sender (refused too, and dropped: no bounce loop), message deleted', { skip }, async (t) => {
  const port = await freePort();
  const { spool, relay, dump, sinks } = await setup(t, port);
  sinks.push(await startSink(port, dump, ['-f', 'RCPT']));
  relay.start();
  const w = spool.create({ mailFrom: { address: 'a@example.org' }, recipients: [{ address: 'b@example.net' }] });
  w.stream.write('Subject: no\r\n\r\nhi\r\n');
  await w.commit();
  await until(() => spool.stateOf(w.id) === undefined && spool.stats().commits === 2, 'bounce, then delete');
  await spool.waitEmpty();
  const st = spool.stats();
  assert.equal(st.commits, 2, 'the message and one notice, and no notice about the notice');
  assert.equal(st.hold + st.active + st.deferred, 0);
  assert.equal(dumps(dump).length, 0);
});
