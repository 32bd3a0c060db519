// The DNSBL checker against a real rbldnsd on a loopback port, serving zone
// files this test writes (IPv4 ip4set, IPv6 ip6trie), with dig asking the same
// names: a listing is published once with its TXT reason encoded, a delisting
// and a new listing after it, the zone's error codes (127.255.255.x) are no
// listing, and a server that does not answer makes no signal and no crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger, systemClock } from '../core/index.ts';
import { InProcessBus, type EventMap } from '../events/index.ts';
import type { Signal } from './types.ts';
import { DnsblChecker, dnsblName, dnsblStateStore, queryAddress } from './dnsbl.ts';
import { openStore } from '../store/index.ts';
import { freePort, needTools, tempDir, until } from '../../test/lib/tools.ts';

const skip = needTools('rbldnsd', 'dig');
const ZONE = 'xbl.test';
const V6_NAME = '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2';

test('RFC 5782 query names: reversed octets, reversed nibbles; what an address source entry asks', () => {
  assert.equal(dnsblName('198.51.100.9', ZONE), `9.100.51.198.${ZONE}`);
  assert.equal(dnsblName('2001:db8:1::', ZONE), `${V6_NAME}.${ZONE}`);
  assert.equal(dnsblName('2001:db8::1', 'z'), `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.z`);
  assert.equal(dnsblName('not-an-ip', 'z'), null);
  assert.equal(queryAddress('198.51.100.9'), '198.51.100.9');
  assert.equal(queryAddress('198.51.100.9/32'), '198.51.100.9');
  assert.equal(queryAddress('198.51.100.0/24'), null, 'IPv4: single hosts only');
  assert.equal(queryAddress('2001:db8:1:0:abcd::/64'), '2001:db8:1::', 'IPv6 prefix: its first address');
  assert.equal(queryAddress('::ffff:198.51.100.9'), '198.51.100.9');
});

describe('DNSBL checker against rbldnsd', { skip }, () => {
  const dir = tempDir('pw-dnsbl-');
  let port = 0;
  let rbl: ChildProcess | undefined;
  const logger = new MemoryLogger();
  const bus = new InProcessBus({ logger });
  const events: Array<EventMap['dnsbl.listed']> = [];
  const signals: Signal[] = [];
  let checker: DnsblChecker;
  const addresses = ['198.51.100.9', '198.51.100.10', '198.51.100.11', '198.51.100.12', '2001:db8:1::/64', '198.51.100.0/24'];

  const dig = (name: string, type = 'A'): string =>
    execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+tries=1', '+time=1', name, type], { encoding: 'utf8' }).trim();

  /** (Re)starts rbldnsd on the same port with these zone lines. */
  const serve = async (v4: string, v6: string): Promise<void> => {
    await stopRbl();
    writeFileSync(join(dir.path, 'z4'), v4);
    writeFileSync(join(dir.path, 'z6'), v6);
    chmodSync(join(dir.path, 'z4'), 0o644);
    chmodSync(join(dir.path, 'z6'), 0o644);
    rbl = spawn('rbldnsd', ['-n', '-q', '-u', 'nobody', '-b', `127.0.0.1/${port}`, '-w', dir.path, `${ZONE}:ip4set:z4`, `${ZONE}:ip6trie:z6`], { stdio: 'ignore' });
    await until(() => { try { return dig(`2.0.0.127.${ZONE}`) === '127.0.0.2'; } catch { return false; } }, 'rbldnsd answering', 10_000, 100);
  };
  const stopRbl = async (): Promise<void> => {
    const c = rbl;
    rbl = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };

  before(async () => {
    chmodSync(dir.path, 0o755); // rbldnsd drops to nobody and reads the zone then
    port = await freePort();
    bus.subscribe('dnsbl.listed', (e) => events.push(e));
    checker = new DnsblChecker({
      zones: [ZONE], servers: [`127.0.0.1:${port}`], intervalMs: 60_000, spread: 0, timeoutMs: 500,
      addresses: async () => addresses, bus, sink: { ingest: (s) => { signals.push(s); return true; } }, logger, clock: systemClock,
    });
  });
  after(async () => {
    await checker?.stop();
    await stopRbl();
    dir.remove();
  });

  // 127.0.0.2 is RFC 5782's test entry; the TXT of .9 carries an escape sequence and a CR.
  const V4 = ':127.0.0.2:Listed \x1b[2J evil\r\n127.0.0.2\n198.51.100.9\n198.51.100.10 :127.0.0.4:Bot seen at $\n198.51.100.11 :127.255.255.254:Public resolver\n';
  const V6 = '2001:db8:1::/64 :127.0.0.3:v6 listed\n';

  test('a listing is published and signalled once, with the TXT reason encoded; an error code is no listing (logged once)', async () => {
    await serve(V4, V6);
    assert.equal(dig(`9.100.51.198.${ZONE}`), '127.0.0.2');
    assert.equal(dig(`10.100.51.198.${ZONE}`), '127.0.0.4');
    assert.equal(dig(`11.100.51.198.${ZONE}`), '127.255.255.254');
    assert.equal(dig(`12.100.51.198.${ZONE}`), '');
    assert.equal(dig(`${V6_NAME}.${ZONE}`), '127.0.0.3');
    const r = await checker.round();
    assert.deepEqual(r, { checked: 5, listed: 3, newlyListed: 3, delisted: 0, unknown: 0, refused: 1 });
    const by = new Map(events.map((e) => [e.address, e]));
    assert.deepEqual(by.get('198.51.100.10'), { address: '198.51.100.10', zone: ZONE, answer: '127.0.0.4', reason: 'Bot seen at 198.51.100.10' });
    assert.equal(by.get('2001:db8:1::')?.answer, '127.0.0.3');
    assert.equal(by.get('198.51.100.9')?.reason, 'Listed \x1b[2J evil\r', 'the event carries the text as given');
    const s9 = signals.find((s) => s.address === '198.51.100.9')!;
    assert.deepEqual(s9, { class: 'dnsbl', at: s9.at, address: '198.51.100.9', port: null, subscriber: null, account: null, amount: 1, origin: `dnsbl:${ZONE}`,
      detail: { zone: ZONE, answer: '127.0.0.2', reason: 'Listed \\x1b[2J evil\\r' } });
    assert.equal(signals.length, 3);
    assert.ok(!events.some((e) => e.address === '198.51.100.11'), 'an error code is not a listing');
    const refusedLogs = () => logger.records.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('the DNSBL zone refused'));
    assert.equal(refusedLogs().length, 1);
    assert.equal(refusedLogs()[0].answer, '127.255.255.254');

    const again = await checker.round();
    assert.equal(again.newlyListed, 0, 'still listed: nothing new');
    assert.equal(events.length, 3);
    assert.equal(refusedLogs().length, 1, 'logged once');
  });

  test('delisting, then listed again: a new listing', async () => {
    await serve(V4.replace('198.51.100.9\n', ''), V6);
    const r = await checker.round();
    assert.equal(r.delisted, 1);
    assert.equal(r.newlyListed, 0);
    assert.ok(logger.records.some((l) => l.event === 'dnsbl-delisted' && l.address === '198.51.100.9'));
    await serve(V4, V6);
    const n = events.length;
    const r2 = await checker.round();
    assert.equal(r2.newlyListed, 1);
    assert.equal(events.length, n + 1);
    assert.equal(events[n].address, '198.51.100.9');
  });

  test('a server that does not answer: every query unknown, no signal, no crash, and the listings are kept', async () => {
    await stopRbl();
    const n = signals.length;
    const r = await checker.round();
    assert.deepEqual(r, { checked: 5, listed: 0, newlyListed: 0, delisted: 0, unknown: 5, refused: 0 });
    assert.equal(signals.length, n);
    await serve(V4, V6);
    assert.equal((await checker.round()).newlyListed, 0, 'an unanswered check changes nothing');
    assert.equal(signals.length, n);
  });

  test('with the listings in the state store a restart does not signal a standing listing again; a delisting clears it', async () => {
    await serve(V4, V6);
    const store = await openStore(join(dir.path, 'state.db'));
    try {
      const got: Signal[] = [];
      const make = async () => new DnsblChecker({ zones: [ZONE], servers: [`127.0.0.1:${port}`], intervalMs: 60_000, spread: 0, timeoutMs: 500,
        addresses: async () => addresses, state: await dnsblStateStore(store), sink: { ingest: (s) => { got.push(s); return true; } }, logger, clock: systemClock });
      const first = await make();
      assert.equal((await first.round()).newlyListed, 3);
      await first.stop();
      const second = await make();
      assert.equal((await second.round()).newlyListed, 0, 'the restarted checker knows the listings');
      assert.equal(got.length, 3);
      await serve(V4.replace('198.51.100.9\n', ''), V6);
      assert.equal((await second.round()).delisted, 1);
      await second.stop();
      const rows = await store.db.all<{ address: string }>('SELECT address FROM abuse_dnsbl_listings ORDER BY address');
      assert.deepEqual(rows.map((r) => r.address), ['198.51.100.10', '2001:db8:1::']);
      await serve(V4, V6);
      const third = await make();
      assert.equal((await third.round()).newlyListed, 1, 'listed again after the delisting: new');
      await third.stop();
    } finally {
      await store.close();
    }
  });

  test('the round cap: at most maxPerRound addresses, the next round goes on from there', async () => {
    const capped = new DnsblChecker({ zones: [ZONE], servers: [`127.0.0.1:${port}`], intervalMs: 60_000, spread: 0, timeoutMs: 500, maxPerRound: 2,
      addresses: async () => addresses, logger, clock: systemClock });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push((await capped.round()).listed);
    // Sorted: .10 .11 .12 .9 2001:db8:1:: — rounds see [.10 .11] [.12 .9] [v6 .10]
    assert.deepEqual(seen, [1, 1, 2]);
    await capped.stop();
  });
});
