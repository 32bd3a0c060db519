// The RADIUS accounting server against FreeRADIUS's radclient on loopback:
// Start/Interim/Stop/Accounting-On change who holds what, wrong secrets and
// unknown clients get no answer, retransmissions are answered without being
// applied twice, and the time is Event-Timestamp, else arrival − Acct-Delay-Time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { RadiusServer, parseClients } from './index.ts';
import { ATTR, encodeAccountingRequest, verifyAccountingResponse } from './radius-codec.ts';
import { needTools } from '../../test/lib/tools.ts';
import { radclient, packet } from '../../test/lib/radclient.ts';
import { openTestDirectory, type TestDirectory } from '../../test/lib/directory.ts';

const skip = needTools('radclient');
const T = 1_764_681_600; // 2025-12-02T13:20:00Z, seconds
const SECRET = 'testing123 with spaces';
const clock = new ManualClock(T * 1000 + 3_600_000);
let dir: TestDirectory;
let server: RadiusServer;
let target: string;
const logger = new MemoryLogger();

before(async () => {
  if (skip) return;
  dir = await openTestDirectory();
  server = new RadiusServer({ repo: dir.repo, clients: parseClients(`127.0.0.1 ${SECRET}\n::1/128 ${SECRET}\n`), clock, logger });
  const { port } = await server.listen('::', 0);
  target = `127.0.0.1:${port}`;
});
after(async () => { await server?.close(); await dir?.close(); });

const holder = async (addr: string, at: number, port?: number): Promise<string[]> =>
  (await dir.repo.holdersAt(addr, at, port)).map((h) => h.subscriber).sort();

test('Start, Interim-Update and Stop: a subscriber is created for the User-Name and holds its addresses, prefixes and port block for the session', { skip }, async () => {
  const start = { 'User-Name': ' Alice ', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 's1', 'NAS-Identifier': 'bng1', 'Event-Timestamp': T,
    'Framed-IP-Address': '100.64.0.5', 'Delegated-IPv6-Prefix': '2001:db8:100::/56', 'Framed-IPv6-Prefix': '2001:db8:1:2::/64',
    'Alc-Nat-Port-Range': '198.51.100.1 1024-2047 router base nat-policy p' };
  let r = await radclient(target, SECRET, [packet(start)]);
  assert.equal(r.replies, 1, r.out);
  const s = await dir.repo.subscriber('alice');
  assert.deepEqual(s?.access, ['radius:alice']);
  const at = T * 1000 + 1000;
  assert.deepEqual(await holder('100.64.0.5', at), ['alice']);
  assert.deepEqual(await holder('2001:db8:100:ff::1', at), ['alice']);
  assert.deepEqual(await holder('2001:db8:1:2::99', at), ['alice']);
  assert.deepEqual(await holder('198.51.100.1', at, 1500), ['alice']);
  assert.deepEqual(await holder('198.51.100.1', at, 3000), []);
  assert.deepEqual(await holder('100.64.0.5', T * 1000 - 1), [], 'nobody before the Event-Timestamp');

  const writes = dir.writes();
  r = await radclient(target, SECRET, [packet({ ...start, 'Acct-Status-Type': 'Interim-Update', 'Event-Timestamp': T + 300, 'Acct-Session-Time': 300 })]);
  assert.equal(r.replies, 1, r.out);
  assert.equal(dir.writes(), writes, 'an Interim-Update of a held session writes nothing');

  r = await radclient(target, SECRET, [packet({ ...start, 'Acct-Status-Type': 'Stop', 'Event-Timestamp': T + 600, 'Acct-Session-Time': 600 })]);
  assert.equal(r.replies, 1, r.out);
  assert.deepEqual(await holder('100.64.0.5', (T + 599) * 1000), ['alice']);
  assert.deepEqual(await holder('100.64.0.5', (T + 600) * 1000), []);
  assert.deepEqual(await holder('2001:db8:100::1', (T + 601) * 1000), []);
  assert.deepEqual(await holder('198.51.100.1', (T + 601) * 1000, 1500), []);
});

test('an access identity already provisioned names its subscriber; RFC 8045 IP-Port-Range is read', { skip }, async () => {
  await dir.repo.putSubscriber({ id: 'cust-17', access: ['radius:bob@isp.example'] });
  const r = await radclient(`[::1]:${target.split(':')[1]}`, SECRET, [packet({ 'User-Name': 'Bob@ISP.example', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'b1',
    'NAS-IP-Address': '192.0.2.1', 'Event-Timestamp': T, 'IP-Port-Range-Ext-IPv4-Addr': '192.0.2.9', 'IP-Port-Range-Range-Start': 4096, 'IP-Port-Range-Range-End': 8191 })]);
  assert.equal(r.replies, 1, r.out + ' (over IPv6)');
  assert.deepEqual(await holder('192.0.2.9', T * 1000, 5000), ['cust-17']);
  assert.equal(await dir.repo.subscriber('bob@isp.example'), null, 'no second subscriber');
});

test('time: Event-Timestamp when present, else arrival minus Acct-Delay-Time', { skip }, async () => {
  const r = await radclient(target, SECRET, [
    packet({ 'User-Name': 'carol', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'c1', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.0.7', 'Acct-Delay-Time': 30 }),
    packet({ 'User-Name': 'dave', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'd1', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.0.8', 'Acct-Delay-Time': 30, 'Event-Timestamp': T + 5 }),
  ]);
  assert.equal(r.replies, 2, r.out);
  const [c] = await dir.repo.currentOf('carol');
  assert.equal(c.start, clock.now() - 30_000);
  const [d] = await dir.repo.currentOf('dave');
  assert.equal(d.start, (T + 5) * 1000);
});

test('Accounting-On from a NAS ends every open session of that NAS and no other', { skip }, async () => {
  const r1 = await radclient(target, SECRET, [
    packet({ 'User-Name': 'erin', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'e1', 'NAS-Identifier': 'bng7', 'Framed-IP-Address': '100.64.7.1', 'Event-Timestamp': T }),
    packet({ 'User-Name': 'frank', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'f1', 'NAS-Identifier': 'bng8', 'Framed-IP-Address': '100.64.8.1', 'Event-Timestamp': T }),
  ]);
  assert.equal(r1.replies, 2, r1.out);
  const r2 = await radclient(target, SECRET, [packet({ 'Acct-Status-Type': 'Accounting-On', 'NAS-Identifier': 'bng7', 'Event-Timestamp': T + 60 })]);
  assert.equal(r2.replies, 1, r2.out);
  assert.deepEqual(await holder('100.64.7.1', (T + 61) * 1000), []);
  assert.deepEqual(await holder('100.64.7.1', (T + 59) * 1000), ['erin']);
  assert.deepEqual(await holder('100.64.8.1', (T + 61) * 1000), ['frank']);
});

test('a wrong secret and an unknown client get no answer and are counted; garbage never stops the server', { skip }, async (t) => {
  const p = packet({ 'User-Name': 'mallory', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'm1', 'Framed-IP-Address': '100.64.9.9', 'Event-Timestamp': T });
  const r = await radclient(target, 'not-the-secret', [p], { retries: 1, timeout: 0.3 });
  assert.equal(r.replies, 0, r.out);
  assert.ok((server.counts.dropped['bad-authenticator'] ?? 0) >= 1);

  const port = Number(target.split(':')[1]);
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.2', () => res()));
  const local = createSocket('udp4');
  t.after(() => { sock.close(); local.close(); });
  const good = encodeAccountingRequest(9, [{ type: ATTR.userName, value: Buffer.from('mallory') }], Buffer.from(SECRET));
  const before = server.counts.dropped['unknown-client'] ?? 0;
  sock.send(good, port, '127.0.0.1');
  const garbage = [Buffer.alloc(0), Buffer.alloc(19), Buffer.from('04000fff' + '00'.repeat(16), 'hex'), Buffer.concat([good.subarray(0, 20), Buffer.from([1, 0])])];
  for (const g of garbage) local.send(g, port, '127.0.0.1');
  const ok = await radclient(target, SECRET, [packet({ 'User-Name': 'after-garbage', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'g1', 'Framed-IP-Address': '100.64.9.10', 'Event-Timestamp': T })]);
  assert.equal(ok.replies, 1, ok.out);
  assert.equal(server.counts.dropped['unknown-client'], before + 1);
  assert.ok((server.counts.dropped.malformed ?? 0) >= 3);
  assert.deepEqual(await holder('100.64.9.9', T * 1000), []);
  // Logged once per address and reason (radclient retried: two bad packets, one line).
  assert.deepEqual(logger.records.filter((r) => r.dropped).map((r) => [r.dropped, r.client]), [['bad-authenticator', '127.0.0.1'], ['unknown-client', '127.0.0.2']]);
});

test('retransmissions: one while the record is being stored gets the one answer, one after it gets the same answer again, neither applies twice', { skip }, async () => {
  const gate = dir.hold();
  const p = packet({ 'User-Name': 'grace', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'r1', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.10.1', 'Event-Timestamp': T });
  const dupBefore = server.counts.duplicates;
  const pending = radclient(target, SECRET, [p], { retries: 3, timeout: 0.4 });
  try {
    await until(() => server.counts.duplicates > dupBefore, 'a retransmission while the record is held');
  } finally {
    gate.release();
  }
  const r = await pending;
  assert.equal(r.replies, 1, r.out);
  assert.equal((await dir.repo.currentOf('grace')).length, 1);

  const port = Number(target.split(':')[1]);
  const req = encodeAccountingRequest(77, [
    { type: ATTR.userName, value: Buffer.from('heidi') }, { type: ATTR.acctStatusType, value: u32(1) }, { type: ATTR.acctSessionId, value: Buffer.from('h1') },
    { type: ATTR.framedIpAddress, value: Buffer.from([100, 64, 10, 2]) }, { type: ATTR.eventTimestamp, value: u32(T) },
  ], Buffer.from(SECRET));
  const sock = createSocket('udp4');
  const answers: Buffer[] = [];
  sock.on('message', (m) => answers.push(m));
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  sock.send(req, port, '127.0.0.1');
  await until(() => answers.length >= 1, 'the first answer');
  const writes = dir.writes();
  sock.send(req, port, '127.0.0.1');
  await until(() => answers.length >= 2, 'the answer to the retransmission');
  sock.close();
  assert.ok(answers[1].equals(answers[0]));
  assert.ok(verifyAccountingResponse(answers[1], req.subarray(4, 20), Buffer.from(SECRET)));
  assert.equal(dir.writes(), writes, 'the retransmission was not applied again');
});

test('a store failure sends no answer; the retransmission is then stored and answered', { skip }, async () => {
  dir.failNext(1);
  const r = await radclient(target, SECRET, [packet({ 'User-Name': 'ivan', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'i1', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.11.1', 'Event-Timestamp': T })], { retries: 3, timeout: 0.4 });
  assert.equal(r.replies, 1, r.out);
  assert.ok((server.counts.dropped['store-error'] ?? 0) >= 1);
  assert.deepEqual(await holder('100.64.11.1', T * 1000), ['ivan']);
});

test('sessions we missed the Start of: an Interim-Update begins at time − Acct-Session-Time, a lone Stop records the closed span; Huawei port blocks; Accounting-Off', { skip }, async () => {
  let r = await radclient(target, SECRET, [
    packet({ 'User-Name': 'judy', 'Acct-Status-Type': 'Interim-Update', 'Acct-Session-Id': 'j9', 'NAS-Identifier': 'bng9', 'Framed-IP-Address': '100.64.12.1',
      'Event-Timestamp': T + 900, 'Acct-Session-Time': 900, 'Huawei-NAT-Public-Address': '198.51.100.12', 'Huawei-NAT-Start-Port': 10240, 'Huawei-NAT-End-Port': 11263 }),
    packet({ 'User-Name': 'ken', 'Acct-Status-Type': 'Stop', 'Acct-Session-Id': 'k9', 'NAS-Identifier': 'bng9', 'Framed-IP-Address': '100.64.12.2', 'Event-Timestamp': T + 600, 'Acct-Session-Time': 500 }),
  ]);
  assert.equal(r.replies, 2, r.out);
  assert.deepEqual(await holder('100.64.12.1', T * 1000), ['judy'], 'from T + 900 − 900');
  assert.deepEqual(await holder('198.51.100.12', T * 1000, 11000), ['judy']);
  assert.deepEqual(await holder('198.51.100.12', T * 1000, 12000), []);
  assert.deepEqual(await holder('100.64.12.2', (T + 100) * 1000), ['ken']);
  assert.deepEqual(await holder('100.64.12.2', (T + 99) * 1000), []);
  assert.deepEqual(await holder('100.64.12.2', (T + 600) * 1000), []);
  r = await radclient(target, SECRET, [packet({ 'Acct-Status-Type': 'Accounting-Off', 'NAS-Identifier': 'bng9', 'Event-Timestamp': T + 1000 })]);
  assert.equal(r.replies, 1, r.out);
  assert.deepEqual(await holder('100.64.12.1', (T + 1000) * 1000), []);
  assert.deepEqual(await holder('198.51.100.12', (T + 1000) * 1000, 11000), []);
});

test('over maxInFlight records being stored, a new request is dropped as busy (the NAS retransmits) and applied once there is room', { skip }, async (t) => {
  const busy = new RadiusServer({ repo: dir.repo, clients: parseClients(`127.0.0.1 ${SECRET}\n`), clock, logger: new MemoryLogger(), maxInFlight: 1 });
  const { port } = await busy.listen('127.0.0.1', 0);
  t.after(() => busy.close());
  const gate = dir.hold();
  const first = radclient(`127.0.0.1:${port}`, SECRET, [packet({ 'User-Name': 'lou', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'l1', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.13.1', 'Event-Timestamp': T })], { retries: 5, timeout: 0.5 });
  let second: ReturnType<typeof radclient> | undefined;
  try {
    await until(() => dir.writes() > 0 && (busy.counts.dropped.busy ?? 0) === 0, 'the first record held');
    second = radclient(`127.0.0.1:${port}`, SECRET, [packet({ 'User-Name': 'max', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'm2', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.13.2', 'Event-Timestamp': T })], { retries: 5, timeout: 0.5 });
    await until(() => (busy.counts.dropped.busy ?? 0) >= 1, 'a busy drop');
  } finally {
    gate.release();
  }
  assert.equal((await first).replies, 1);
  assert.equal((await second!).replies, 1, 'the retransmission found room');
  assert.deepEqual(await holder('100.64.13.2', T * 1000), ['max']);
});

/** Polls a condition every 20 ms for at most 5 s (a bounded wait, not a timing assertion). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), `never saw ${what}`);
}

function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }
