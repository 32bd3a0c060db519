// Direct MX delivery against a real DNS server (a private unbound on
// loopback) and capture sinks on loopback addresses that share one port,
// which is what MX mode assumes of every mail host.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { Spool } from '../spool/index.ts';
import type { EnvelopeInput } from '../spool/index.ts';
import { loopbackCert } from '../../test/lib/cert.ts';
import { needTools, until } from '../../test/lib/tools.ts';
import { Relay, destinationOf, nonPublicRange, resolveDestination } from './index.ts';
import type { RelayOptions } from './index.ts';
import { TestDns } from './testdata/dns.ts';
import { parseReport } from './testdata/report.ts';
import { CaptureSink } from '../../test/lib/sink.ts';
import type { SinkOptions } from '../../test/lib/sink.ts';

const skip = needTools('unbound', 'openssl', 'python3');

const ZONES = ['sender.test.', 'two.test.', 'nullmx.test.', 'amx.test.', 'v6.test.', 'tls.test.', 'badtls.test.', 'many.test.', 'nohost.test.', 'bounce.test.'];
const RECORDS = [
  'sender.test. IN MX 10 mx.sender.test.', 'mx.sender.test. IN A 127.0.0.5',
  // Preference 10 is down (nothing listens there), 20 is up.
  'two.test. IN MX 20 up.two.test.', 'two.test. IN MX 10 down.two.test.',
  'down.two.test. IN A 127.0.0.3', 'up.two.test. IN A 127.0.0.2',
  'nullmx.test. IN MX 0 .',
  'amx.test. IN A 127.0.0.6',
  'v6.test. IN MX 10 h6.v6.test.', 'h6.v6.test. IN AAAA ::1',
  'tls.test. IN MX 10 mx.tls.test.', 'mx.tls.test. IN A 127.0.0.7',
  'badtls.test. IN MX 10 mx.badtls.test.', 'mx.badtls.test. IN A 127.0.0.8',
  'many.test. IN MX 10 mx.many.test.', 'mx.many.test. IN A 127.0.0.9',
  'nohost.test. IN MX 10 gone.nohost.test.',
  'bounce.test. IN MX 10 mx.bounce.test.', 'mx.bounce.test. IN A 127.0.0.10',
];

let dns: TestDns;
let port = 0;
const sinks: Record<string, CaptureSink> = {};

/** Self-signed; direct MX delivery does not verify it (opportunistic TLS). */
function tlsCert(): { key: string; cert: string } {
  const { key, cert, remove } = loopbackCert('mx.tls.test');
  remove();
  return { key, cert };
}

before(async () => {
  if (skip) return;
  dns = await TestDns.start(ZONES, RECORDS);
  const hosts: Array<[string, string, SinkOptions]> = [
    ['up', '127.0.0.2', {}],
    ['sender', '127.0.0.5', {}],
    ['amx', '127.0.0.6', {}],
    ['v6', '::1', {}],
    ['tls', '127.0.0.7', { tls: tlsCert() }],
    ['badtls', '127.0.0.8', { brokenTls: true }],
    ['many', '127.0.0.9', {}],
    ['bounce', '127.0.0.10', { reply: (l) => (l.startsWith('RCPT TO:<nobody@') ? '550 5.1.1 <nobody@bounce.test>: User unknown' : undefined) }],
  ];
  // One port for all: the first sink picks it, the others bind it on their own address.
  for (let attempt = 0; ; attempt++) {
    const made: CaptureSink[] = [];
    try {
      for (const [name, addr, opts] of hosts) {
        const s = new CaptureSink(opts);
        await s.listen(addr, port);
        made.push(s);
        port = s.port;
        sinks[name] = s;
      }
      break;
    } catch (err) {
      for (const s of made) await s.close();
      port = 0;
      if (attempt >= 3) throw err;
    }
  }
});

after(async () => {
  for (const s of Object.values(sinks)) await s.close();
  await dns?.stop();
});

async function relayFor(t: TestContext, o: Partial<RelayOptions> = {}, start = true) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-mx-'));
  const clock = new ManualClock();
  const spool = await Spool.open(dir, { clock });
  const relay = new Relay({
    spool, clock, ehloName: 'relay.test', pollMs: 10, concurrency: 8,
    // A lab: every mail host here is on loopback.
    route: { kind: 'mx', port, allowPrivate: true, resolver: { servers: [dns.server], timeout: 1000, tries: 1 } },
    retry: { schedule: [60], jitter: 0 },
    timeouts: { connect: 2000, greeting: 2000, socket: 5000 },
    ...o,
  });
  if (start) relay.start();
  t.after(async () => { await relay.stop(); await spool.close(); rmSync(dir, { recursive: true, force: true }); });
  return { spool, relay, clock };
}

async function queue(spool: Spool, e: EnvelopeInput, body = 'Subject: mx\r\n\r\nhello\r\n'): Promise<string> {
  const w = spool.create(e);
  w.stream.write(body);
  await w.commit();
  return w.id;
}

const rcptsOf = (s: CaptureSink, who: RegExp) => s.messages.filter((m) => m.rcpts.some((r) => who.test(r)));

test('resolution: MX order, implicit MX, AAAA-only host, null MX, NXDOMAIN, host without address, DNS down', { skip, timeout: 15_000 }, async () => {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([dns.server]);
  const fixed = () => 0.5;
  assert.deepEqual(await resolveDestination(r, 'two.test', true, fixed), {
    ok: true, hosts: [{ name: 'down.two.test', addresses: ['127.0.0.3'] }, { name: 'up.two.test', addresses: ['127.0.0.2'] }],
  });
  assert.deepEqual(await resolveDestination(r, 'amx.test', true, fixed), { ok: true, hosts: [{ name: 'amx.test', addresses: ['127.0.0.6'] }] });
  assert.deepEqual(await resolveDestination(r, 'v6.test', true, fixed), { ok: true, hosts: [{ name: 'h6.v6.test', addresses: ['::1'] }] });
  assert.deepEqual(await resolveDestination(r, 'v6.test', false, fixed), { ok: false, reply: '550 5.4.4 No address for the mail hosts of v6.test' });
  assert.deepEqual(await resolveDestination(r, 'nullmx.test', true, fixed), { ok: false, reply: '556 5.1.10 Domain nullmx.test accepts no mail (null MX)' });
  assert.deepEqual(await resolveDestination(r, 'nothere.test', true, fixed), { ok: false, reply: '550 5.4.4 Domain nothere.test not found' });
  assert.deepEqual(await resolveDestination(r, 'nohost.test', true, fixed), { ok: false, reply: '550 5.4.4 No address for the mail hosts of nohost.test' });
  assert.deepEqual(await resolveDestination(r, '[127.0.0.2]', true, fixed), { ok: true, hosts: [{ name: '127.0.0.2', addresses: ['127.0.0.2'] }] });
  const dead = new Resolver({ timeout: 200, tries: 1 });
  dead.setServers([`127.0.0.1:${port}`]); // a TCP sink's port: nothing answers UDP there
  const down = await resolveDestination(dead, 'two.test', true, fixed);
  assert.equal(down.ok, false);
  assert.match(down.ok ? '' : down.reply, /^451 4\.4\.3 DNS lookup of MX for two\.test failed: E[A-Z]+$/);
  assert.equal(destinationOf('Bob@Bücher.Example'), 'xn--bcher-kva.example');
  assert.equal(destinationOf('x@[IPv6:::1]'), '[ipv6:::1]');
});

test('one message, five domains: second MX after the first is down, implicit MX, IPv6-only MX, null MX bounced to the sender\'s MX', { skip, timeout: 15_000 }, async (t) => {
  const { spool } = await relayFor(t);
  const id = await queue(spool, {
    mailFrom: { address: 'alice@sender.test' },
    recipients: [
      { address: 'a1@two.test' }, { address: 'b1@amx.test' }, { address: 'c1@v6.test' },
      { address: 'd1@nullmx.test', orcpt: 'rfc822;d1@nullmx.test' }, { address: 'e1@TWO.test' },
    ],
  });
  const dsns = () => sinks.sender.messages.filter((m) => m.rcpts.includes('RCPT TO:<alice@sender.test>'));
  await until(() => spool.stateOf(id) === undefined && dsns().length === 1, 'delivery and bounce', 8000);
  const two = rcptsOf(sinks.up, /<a1@two\.test>/);
  assert.equal(two.length, 1);
  assert.deepEqual(two[0].rcpts, ['RCPT TO:<a1@two.test>', 'RCPT TO:<e1@TWO.test>'], 'one transaction per domain');
  assert.equal(rcptsOf(sinks.amx, /<b1@amx\.test>/).length, 1);
  assert.equal(rcptsOf(sinks.v6, /<c1@v6\.test>/).length, 1);
  const d = dsns()[0];
  assert.equal(d.mail.split(' ')[0], 'MAIL');
  assert.match(d.mail, /^MAIL FROM:<>/);
  const r = parseReport(d.data);
  assert.deepEqual(r.defects, []);
  const g = r.parts[1].groups!;
  assert.equal(g.length, 2, 'one recipient reported: the null MX one');
  assert.equal(g[1]['Final-Recipient'], 'rfc822; d1@nullmx.test');
  assert.equal(g[1].Action, 'failed');
  assert.equal(g[1].Status, '5.1.10');
  assert.equal(g[1]['Remote-MTA'], undefined, 'no host was contacted');
  assert.equal(g[1]['Diagnostic-Code'], 'X-Portwarden; 556 5.1.10 Domain nullmx.test accepts no mail (null MX)');
  assert.equal(r.parts[2].type, 'message/rfc822');
});

test('5xx at RCPT from the recipient\'s MX: DSN at the sender\'s MX with Remote-MTA and smtp diagnostic', { skip, timeout: 15_000 }, async (t) => {
  const { spool } = await relayFor(t);
  const id = await queue(spool, { mailFrom: { address: 'bob@sender.test', envid: 'Q7' }, recipients: [{ address: 'nobody@bounce.test', notify: ['FAILURE'] }] });
  const dsns = () => sinks.sender.messages.filter((m) => m.rcpts.includes('RCPT TO:<bob@sender.test>'));
  await until(() => spool.stateOf(id) === undefined && dsns().length === 1, 'bounce', 8000);
  const r = parseReport(dsns()[0].data);
  assert.equal(r.type, 'multipart/report');
  assert.equal(r.params['report-type'], 'delivery-status');
  const [msg, rc] = r.parts[1].groups!;
  assert.equal(msg['Original-Envelope-Id'], 'Q7');
  assert.equal(rc['Final-Recipient'], 'rfc822; nobody@bounce.test');
  assert.equal(rc.Action, 'failed');
  assert.equal(rc.Status, '5.1.1');
  assert.equal(rc['Remote-MTA'], 'dns; mx.bounce.test');
  assert.equal(rc['Diagnostic-Code'], 'smtp; 550 5.1.1 <nobody@bounce.test>: User unknown');
  assert.equal(r.parts[2].inner?.headers.Subject, 'mx');
});

test('unknown domain and DNS failure: 5.4.4 bounced at once; temporary DNS failure deferred', { skip, timeout: 15_000 }, async (t) => {
  const { spool } = await relayFor(t);
  const id = await queue(spool, { mailFrom: { address: 'carl@sender.test' }, recipients: [{ address: 'x@nothere.test' }] });
  const dsns = () => sinks.sender.messages.filter((m) => m.rcpts.includes('RCPT TO:<carl@sender.test>'));
  await until(() => spool.stateOf(id) === undefined && dsns().length === 1, 'bounce', 8000);
  assert.equal(parseReport(dsns()[0].data).parts[1].groups![1].Status, '5.4.4');

  const dead = await relayFor(t, { route: { kind: 'mx', port, allowPrivate: true, resolver: { servers: [`127.0.0.1:${port}`], timeout: 200, tries: 1 } } });
  const id2 = await queue(dead.spool, { mailFrom: { address: 'carl@sender.test' }, recipients: [{ address: 'y@two.test' }] });
  await until(() => dead.spool.stateOf(id2) === 'deferred', 'deferral', 8000);
  assert.match((await dead.spool.read(id2))?.envelope.lastReply ?? '', /^451 4\.4\.3 /);
});

test('opportunistic STARTTLS without verification; a broken TLS handshake falls back to plain text', { skip, timeout: 15_000 }, async (t) => {
  const { spool } = await relayFor(t);
  await queue(spool, { mailFrom: { address: 'alice@sender.test' }, recipients: [{ address: 's@tls.test' }, { address: 'p@badtls.test' }] });
  await spool.waitEmpty();
  const secure = rcptsOf(sinks.tls, /<s@tls\.test>/);
  assert.equal(secure.length, 1);
  assert.equal(secure[0].tls, true);
  assert.ok(sinks.tls.commands.includes('STARTTLS'));
  const plain = rcptsOf(sinks.badtls, /<p@badtls\.test>/);
  assert.equal(plain.length, 1);
  assert.equal(plain[0].tls, false);
  assert.ok(sinks.badtls.commands.includes('STARTTLS'), 'TLS was tried first');
});

test('per-domain concurrency limit and connection reuse', { skip, timeout: 15_000 }, async (t) => {
  const { spool, relay } = await relayFor(t, {
    concurrency: 16,
    route: { kind: 'mx', port, allowPrivate: true, perDomain: 3, resolver: { servers: [dns.server], timeout: 1000, tries: 1 } },
  }, false);
  const before = sinks.many.connections;
  for (let i = 0; i < 24; i++) await queue(spool, { mailFrom: { address: 'alice@sender.test' }, recipients: [{ address: `n${i}@many.test` }] });
  relay.start(); // all 24 at once: 16 in flight, at most 3 of them talking to many.test
  await spool.waitEmpty();
  assert.equal(rcptsOf(sinks.many, /<n\d+@many\.test>/).length, 24);
  assert.equal(sinks.many.peak, 3, 'the limit is reached and never passed');
  assert.equal(sinks.many.connections - before, 3, '24 messages over 3 reused connections');
});


test('non-public addresses: loopback MX hosts are not connected to; deferred, then bounced as unreachable', { skip, timeout: 15_000 }, async (t) => {
  const { spool, clock } = await relayFor(t, {
    route: { kind: 'mx', port, resolver: { servers: [dns.server], timeout: 1000, tries: 1 } },
    retry: { schedule: [60], maxAge: 120, jitter: 0 },
  });
  const before = sinks.amx.connections + sinks.up.connections;
  const id = await queue(spool, { mailFrom: { address: 'alice@sender.test' }, recipients: [{ address: 'a@amx.test' }, { address: 'b@two.test' }] });
  await until(() => spool.stateOf(id) === 'deferred', 'deferral', 8000);
  const m = (await spool.read(id))!.envelope;
  assert.match(m.recipients[0].reply ?? '', /^451 4\.4\.4 Not connecting to non-public addresses of amx\.test: amx\.test\[127\.0\.0\.6\] \(loopback\)$/);
  assert.match(m.recipients[1].reply ?? '', /^451 4\.4\.4 .*down\.two\.test\[127\.0\.0\.3\] \(loopback\), up\.two\.test\[127\.0\.0\.2\] \(loopback\)$/);
  clock.advance(130_000);
  await until(() => spool.stateOf(id) === undefined, 'given up', 8000);
  assert.equal(sinks.amx.connections + sinks.up.connections, before, 'no connection to a loopback host');
  // The failure notice is queued for the sender (whose MX is on loopback too, so it waits in turn).
  const notices = await Promise.all(spool.list('deferred').concat(spool.list('active')).map((i) => spool.read(i)));
  assert.ok(notices.some((n) => n?.envelope.mailFrom.address === '' && n.envelope.recipients[0].address === 'alice@sender.test'), 'a DSN to the sender');
});

test('address-literal recipients in MX mode: refused (5.1.2) without a connection unless allowed', { skip, timeout: 15_000 }, async (t) => {
  const { spool } = await relayFor(t, { route: { kind: 'mx', port, resolver: { servers: [dns.server], timeout: 1000, tries: 1 } } });
  const before = sinks.up.connections;
  const id = await queue(spool, { mailFrom: { address: '' }, recipients: [{ address: 'x@[127.0.0.2]' }, { address: 'y@[IPv6:::1]' }] });
  await until(() => spool.stateOf(id) === undefined, 'bounced at once', 8000);
  assert.equal(sinks.up.connections, before);
  const lab = await relayFor(t);
  await queue(lab.spool, { mailFrom: { address: 'alice@sender.test' }, recipients: [{ address: 'lit@[127.0.0.2]' }] });
  await lab.spool.waitEmpty();
  assert.equal(rcptsOf(sinks.up, /<lit@\[127\.0\.0\.2\]>/).length, 1, 'a lab may deliver to a literal');
});

test('nonPublicRange: what is not public: private, loopback, link-local, CGNAT, ULA, documentation, multicast, unspecified and their IPv4-mapped forms', () => {
  const notPublic = ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.1.1', '100.64.0.1', '100.127.255.254',
    '0.0.0.0', '0.1.2.3', '192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '224.0.0.1', '239.1.1.1', '240.0.0.1', '255.255.255.255',
    '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '2001:db8::1', '3fff::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1',
    '::ffff:192.168.0.1', '::ffff:7f00:1', '64:ff9b::10.0.0.1', '::127.0.0.1', 'fec0::1', '100::1', '2002:7f00:1::1', '2001::1'];
  for (const a of notPublic) assert.notEqual(nonPublicRange(a), null, a);
  for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2a00:1450:4001:80b::200e', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8']) {
    assert.equal(nonPublicRange(a), null, a);
  }
  assert.equal(nonPublicRange('::ffff:127.0.0.1'), 'loopback');
  assert.equal(nonPublicRange('not an address'), 'invalid');
});
