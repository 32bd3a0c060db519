// The relay's credentials go only over TLS it has verified (issue 10, item
// 15): against a real STARTTLS next hop (the capture sink with a self-signed
// certificate the relay does not trust, one it does trust through `ca`, and one
// without STARTTLS), the sink must never see an AUTH line unless the session is
// encrypted and the certificate checked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { Spool } from '../spool/index.ts';
import type { Envelope } from '../spool/index.ts';
import { loopbackCert } from '../../test/lib/cert.ts';
import { needTools, until } from '../../test/lib/tools.ts';
import { connectClient } from './client.ts';
import type { SmarthostOptions } from './client.ts';
import { Relay } from './index.ts';
import { CaptureSink } from '../../test/lib/sink.ts';
import type { SinkOptions } from '../../test/lib/sink.ts';

const skip = needTools('openssl');
const T = { connect: 2000, greeting: 2000, socket: 3000 };
const AUTH = { user: 'user', pass: 'pass' };
const EXT = ['PIPELINING', 'DSN', 'AUTH PLAIN LOGIN'];

/** A self-signed certificate for 127.0.0.1 and localhost: untrusted unless given as `ca`. */
const made = skip ? null : loopbackCert('smarthost.test');
made?.remove(); // key and cert are read: the files are not needed
const pair = { key: made?.key ?? '', cert: made?.cert ?? '' };

async function sink(t: TestContext, o: SinkOptions): Promise<CaptureSink> {
  const s = await CaptureSink.start({ extensions: EXT, ...o });
  t.after(() => s.close());
  return s;
}
const authLines = (s: CaptureSink): string[] => s.commands.filter((l) => /^AUTH\b/i.test(l) || l === 'dXNlcg==' || l === 'cGFzcw==');
const hop = (s: CaptureSink, o: Partial<SmarthostOptions>): SmarthostOptions => ({ host: '127.0.0.1', port: s.port, tls: 'required', auth: AUTH, ...o });
const envelope = (): Envelope => ({
  id: 'T1', mailFrom: { address: 'alice@example.org' }, receivedAt: 0, attributes: {}, attempts: 0, account: 'al+ice@example.org',
  recipients: [{ address: 'b@example.net', state: 'pending' }],
});

test('STARTTLS to a certificate we do not trust: with verification off, the session is encrypted but AUTH is withheld', { skip }, async (t) => {
  const s = await sink(t, { tls: pair });
  await assert.rejects(connectClient(hop(s, { rejectUnauthorized: false }), 'relay.test', T), /credentials not sent: .*not verified/);
  assert.ok(s.commands.includes('STARTTLS'), s.commands.join('\n'));
  await assert.rejects(connectClient(hop(s, {}), 'relay.test', T), /STARTTLS failed: self-signed certificate/);
  assert.deepEqual(authLines(s), [], 'the sink never saw AUTH');
});

test('a next hop without STARTTLS, or tls none/opportunistic with credentials: AUTH is withheld', { skip }, async (t) => {
  const s = await sink(t, {});
  for (const tls of ['opportunistic', 'none'] as const) {
    await assert.rejects(connectClient(hop(s, { tls, rejectUnauthorized: false }), 'relay.test', T), /credentials not sent: .*(no TLS|not encrypted)/);
  }
  await assert.rejects(connectClient(hop(s, {}), 'relay.test', T), /does not offer STARTTLS/);
  assert.deepEqual(authLines(s), []);
});

test('verified TLS (the hop\'s CA given): AUTH LOGIN after STARTTLS, then AUTH=<account> on MAIL; wrong credentials refused', { skip }, async (t) => {
  const s = await sink(t, {
    tls: pair,
    reply: (l) => (l === 'AUTH LOGIN' ? '334 VXNlcm5hbWU6' : l === 'dXNlcg==' ? '334 UGFzc3dvcmQ6' : l === 'cGFzcw==' ? '235 2.7.0 ok' : undefined),
    extensions: ['PIPELINING', 'DSN', 'AUTH LOGIN'],
  });
  const c = await connectClient(hop(s, { ca: pair.cert }), 'relay.test', T);
  t.after(() => c.quit());
  assert.equal(c.secure, true);
  const r = await c.deliver(envelope(), [0], 10, Readable.from([Buffer.from('hi\r\n')]));
  assert.equal(r.replies.get(0), '250 2.0.0 Ok: queued');
  assert.deepEqual(s.commands.slice(0, 6), ['EHLO relay.test', 'STARTTLS', 'EHLO relay.test', 'AUTH LOGIN', 'dXNlcg==', 'cGFzcw==']);
  assert.ok(s.commands.includes('MAIL FROM:<alice@example.org> AUTH=al+2Bice@example.org'), s.commands.join('\n'));
  assert.equal(s.messages[0].tls, true);
  // A non-ASCII account goes as the xtext of its UTF-8 octets (RFC 3461 §4), not of UTF-16 code units.
  const r2 = await c.deliver({ ...envelope(), account: 'jos\u00e9\u20ac@example.org' }, [0], 10, Readable.from([Buffer.from('hi\r\n')]));
  assert.equal(r2.replies.get(0), '250 2.0.0 Ok: queued');
  assert.ok(s.commands.includes('MAIL FROM:<alice@example.org> AUTH=jos+C3+A9+E2+82+AC@example.org'), s.commands.join('\n'));

  const denying = await sink(t, { tls: pair, reply: (l) => (l.startsWith('AUTH PLAIN') ? '535 5.7.8 bad credentials' : undefined) });
  await assert.rejects(connectClient(hop(denying, { ca: pair.cert }), 'relay.test', T), /authentication failed: 535 5\.7\.8/);
  await assert.rejects(connectClient(hop(denying, { ca: pair.cert, servername: 'other.test' }), 'relay.test', T), /STARTTLS failed: .*altnames/);
});

test('the relay defers the message with a clear log line and sends no credentials when TLS is not verified', { skip }, async (t) => {
  const s = await sink(t, { tls: pair });
  const dir = mkdtempSync(join(tmpdir(), 'pw-relay-auth-'));
  const clock = new ManualClock();
  const log = new MemoryLogger();
  const spool = await Spool.open(dir, { clock });
  const relay = new Relay({
    spool, clock, logger: log, ehloName: 'relay.test', pollMs: 20,
    smarthost: hop(s, { tls: 'opportunistic', rejectUnauthorized: false }),
    retry: { schedule: [60], jitter: 0 }, timeouts: T,
  });
  t.after(async () => { await relay.stop(); await spool.close(); rmSync(dir, { recursive: true, force: true }); });
  relay.start();
  const w = spool.create({ mailFrom: { address: 'alice@example.org' }, recipients: [{ address: 'b@example.net' }] });
  w.stream.write('Subject: x\r\n\r\nhi\r\n');
  await w.commit();
  await until(() => spool.stateOf(w.id) === 'deferred', 'deferral');
  assert.match((await spool.read(w.id))!.envelope.lastReply ?? '', /^451 4\.7\.0 Credentials not sent to 127\.0\.0\.1:\d+: /);
  const line = log.records.find((r) => r.event === 'credentials-withheld');
  assert.ok(line, JSON.stringify(log.records));
  assert.equal(line.level, 'error');
  assert.equal(s.messages.length, 0);
  assert.deepEqual(authLines(s), []);
});
