import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { createBruteForce, MemoryLimitStore, type BruteForceSpec, type LockoutEvent, type AuthGate } from './index.ts';

// What auth's normalizeLogin does to these tests' logins (case, one trailing dot); the
// real one is wired in cli/limits.ts and exercised end to end in test/e2e/auth.test.ts.
const accountKey = (login: string): string | null => (/\s/.test(login) ? null : login.toLowerCase().replace(/\.$/, ''));

function tracker(spec: BruteForceSpec = {}) {
  const clock = new ManualClock();
  const events: LockoutEvent[] = [];
  const logger = new MemoryLogger();
  const r = createBruteForce({ store: new MemoryLimitStore({ clock }), spec, clock, logger, onLockout: (e) => events.push(e), accountKey });
  assert.ok(r.ok);
  return { bf: r.tracker, clock, events, logger };
}

const delays = (gs: AuthGate[]) => gs.map((g) => (g.action === 'proceed' ? g.delayMs : g.action));

test('growing delays, then a lockout at the 10th failure from one IP; released after lockoutMs', async () => {
  const { bf, clock, events, logger } = tracker({ account: false });
  const gates: AuthGate[] = [];
  for (let i = 0; i < 10; i++) {
    assert.equal((await bf.before('192.0.2.7', `user${i}`)).action, 'proceed');
    gates.push(await bf.failed('192.0.2.7', `user${i}`));
  }
  assert.deepEqual(delays(gates), [0, 0, 1000, 2000, 4000, 8000, 8000, 8000, 8000, 'locked']);
  assert.deepEqual(events.map((e) => [e.scope, e.subject, e.lockoutMs]), [['ip', '192.0.2.7', 900_000]]);
  assert.ok(logger.records.some((r) => r.msg === 'auth lockout' && r.scope === 'ip'));
  const locked = await bf.before('192.0.2.7', 'anyone');
  assert.deepEqual(locked, { action: 'locked', scope: 'ip', retryAfterMs: 900_000 });
  assert.equal((await bf.before('192.0.2.8', 'anyone')).action, 'proceed');
  clock.advance(900_000 - 1);
  assert.equal((await bf.before('192.0.2.7', 'anyone')).action, 'locked');
  clock.advance(1);
  assert.equal((await bf.before('192.0.2.7', 'anyone')).action, 'proceed');
});

test('unknown login and wrong password are indistinguishable: same gates, same delays', async () => {
  const { bf } = tracker();
  const seq = async (ip: string, login: string) => {
    const out: AuthGate[] = [];
    for (let i = 0; i < 11; i++) out.push(await bf.before(ip, login), await bf.failed(ip, login));
    return out;
  };
  const existing = await seq('198.51.100.1', 'alice@isp.example');
  const unknown = await seq('198.51.100.2', 'no-such-user@isp.example');
  assert.deepEqual(unknown, existing);
  assert.equal(existing.at(-1)!.action, 'locked');
});

test('one account attacked from many IPs locks the account everywhere (case-insensitive login)', async () => {
  const { bf, events } = tracker({ ip: false, prefix: false });
  for (let i = 0; i < 10; i++) await bf.failed(`203.0.113.${i + 1}`, i % 2 ? 'Victim@ISP.example' : 'victim@isp.example');
  assert.deepEqual(events.map((e) => [e.scope, e.subject]), [['account', 'victim@isp.example']]);
  const g = await bf.before('2001:db8::1', 'VICTIM@isp.example');
  assert.equal(g.action, 'locked');
  assert.equal((await bf.before('2001:db8::1', 'other@isp.example')).action, 'proceed');
});

test('a success clears the login failures but not the IP failures', async () => {
  const { bf } = tracker();
  for (let i = 0; i < 5; i++) await bf.failed('192.0.2.50', 'bob');
  await bf.succeeded('192.0.2.50', 'bob');
  const st = await bf.state('192.0.2.50', 'bob');
  assert.deepEqual(st.map((s) => [s.scope, s.failures, s.lockedMs]), [['ip', 5, 0], ['prefix', 5, 0], ['account', 0, 0]]);
});

test('IPv6 /64 prefix lockout catches an attacker rotating addresses inside the /64', async () => {
  const { bf, events } = tracker({ ip: { failures: 100, per: 'hour' }, prefix: { failures: 5, per: 'hour', lockoutMs: 60_000 }, account: false });
  const gates: AuthGate[] = [];
  for (let i = 1; i <= 5; i++) gates.push(await bf.failed(`2001:db8:aa:bb::${i.toString(16)}`, 'x'));
  assert.equal(gates.at(-1)!.action, 'locked');
  assert.deepEqual(events.map((e) => [e.scope, e.subject]), [['prefix', '2001:db8:aa:bb::/64']]);
  assert.equal((await bf.before('2001:db8:aa:bb:ffff::1', 'y')).action, 'locked');
  assert.equal((await bf.before('2001:db8:aa:bc::1', 'y')).action, 'proceed');
});

test('trusted networks are never delayed, counted or locked', async () => {
  const { bf, events } = tracker({ trusted: ['10.0.0.0/8', '2001:db8:f00::/48'] });
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(await bf.failed('10.1.2.3', 'carol'), { action: 'proceed', delayMs: 0 });
    assert.deepEqual(await bf.failed('2001:db8:f00:1::9', 'carol'), { action: 'proceed', delayMs: 0 });
  }
  assert.equal(events.length, 0);
  assert.equal((await bf.before('10.1.2.3', 'carol')).action, 'proceed');
  assert.equal((await bf.before('192.0.2.1', 'carol')).action, 'proceed');
});

test('failures drain over the window, so slow guessing below the rate never locks', async () => {
  const { bf, clock, events } = tracker({ ip: { failures: 10, per: 600 }, prefix: false, account: false });
  for (let i = 0; i < 40; i++) {
    await bf.failed('192.0.2.99', 'z');
    clock.advance(60_001); // just under 10 per 600 s
  }
  assert.equal(events.length, 0);
});

test('bad settings are reported, not thrown', () => {
  const r = createBruteForce({ store: new MemoryLimitStore(), accountKey, spec: { trusted: ['10.0.0.0/40'], ip: { failures: 0, per: 60 }, delaysMs: [] } });
  assert.ok(!r.ok);
  assert.equal(r.errors.length, 3);
});

test('the account bucket is keyed by the login as the caller normalises it: variants are one account', async () => {
  const { bf, events } = tracker({ ip: false, prefix: false });
  const variants = ['Victim@ISP.example', 'victim@isp.example.', 'VICTIM@isp.EXAMPLE.', 'victim@isp.example'];
  for (let i = 0; i < 10; i++) await bf.failed(`203.0.113.${i + 1}`, variants[i % 4]);
  assert.deepEqual(events.map((e) => [e.scope, e.subject]), [['account', 'victim@isp.example']]);
  for (const v of variants) assert.equal((await bf.before('198.51.100.9', v)).action, 'locked', v);
  // A login the normaliser refuses cannot authenticate: it is counted per IP only.
  assert.equal((await bf.before('198.51.100.9', 'victim @isp.example')).action, 'proceed');
});

test('known prefixes: failures from elsewhere lock only the (account, unknown prefixes) bucket', async () => {
  const { bf, events } = tracker({ ip: false, prefix: false });
  await bf.succeeded('192.0.2.10', 'alice'); // the owner logged in from 192.0.2.0/24 before
  for (let i = 0; i < 10; i++) await bf.failed(`198.51.100.${i + 1}`, 'alice');
  assert.deepEqual(events.map((e) => [e.scope, e.subject]), [['account', 'alice']]);
  assert.equal((await bf.before('203.0.113.5', 'alice')).action, 'locked', 'any unknown prefix is locked');
  assert.equal((await bf.before('192.0.2.77', 'alice')).action, 'proceed', 'the known prefix is not');
  // Failures from the known prefix count in its own bucket and lock only it.
  for (let i = 0; i < 10; i++) await bf.failed('192.0.2.77', 'alice');
  assert.deepEqual(events.map((e) => [e.scope, e.subject]).at(-1), ['account', 'alice 192.0.2.0/24']);
  assert.equal((await bf.before('192.0.2.10', 'alice')).action, 'locked');
  await bf.succeeded('2001:db8:1:2::5', 'bob');
  for (let i = 0; i < 10; i++) await bf.failed(`2001:db8:9:${i}::1`, 'bob');
  assert.equal((await bf.before('2001:db8:1:2:ffff::1', 'bob')).action, 'proceed', 'same /64 as the earlier login');
  assert.equal((await bf.before('2001:db8:1:3::1', 'bob')).action, 'locked');
});

test('known prefixes live in the limit store: a second node (or a restart with Redis) sees them', async () => {
  const clock = new ManualClock();
  const store = new MemoryLimitStore({ clock });
  const mk = () => {
    const r = createBruteForce({ store, clock, spec: { ip: false, prefix: false, knownPrefixDays: 30 }, accountKey });
    assert.ok(r.ok);
    return r.tracker;
  };
  await mk().succeeded('192.0.2.10', 'carol');
  const other = mk();
  for (let i = 0; i < 10; i++) await other.failed(`198.51.100.${i + 1}`, 'carol');
  assert.equal((await other.before('192.0.2.99', 'carol')).action, 'proceed');
  clock.advance(31 * 86_400_000); // forgotten after knownPrefixDays without a login
  for (let i = 0; i < 10; i++) await other.failed(`198.51.100.${i + 1}`, 'carol');
  assert.equal((await other.before('192.0.2.99', 'carol')).action, 'locked');
});

test('IPv6 /56 and /48 aggregates catch an attacker rotating /64s', async () => {
  const { bf, events } = tracker({ ip: false, account: false, prefix: { failures: 30, per: 600 },
    prefix56: { failures: 6, per: 600 }, prefix48: { failures: 12, per: 600 } });
  for (let i = 0; i < 6; i++) await bf.failed(`2001:db8:aa:${i.toString(16)}::1`, 'x'); // six /64s in one /56
  assert.deepEqual(events.map((e) => [e.scope, e.subject]), [['prefix56', '2001:db8:aa::/56']]);
  assert.equal((await bf.before('2001:db8:aa:ff::1', 'y')).action, 'locked');
  assert.equal((await bf.before('2001:db8:aa:100::1', 'y')).action, 'proceed', 'the next /56');
  for (let i = 1; i <= 6; i++) await bf.failed(`2001:db8:aa:${(i * 0x100).toString(16)}::1`, 'x'); // six more /56s in the /48
  assert.deepEqual(events.map((e) => [e.scope, e.subject]).at(-1), ['prefix48', '2001:db8:aa::/48']);
  assert.equal((await bf.before('2001:db8:aa:ff00::1', 'y')).action, 'locked');
  assert.equal((await bf.before('2001:db8:ab::1', 'y')).action, 'proceed');
  assert.equal((await bf.before('192.0.2.1', 'y')).action, 'proceed', 'IPv4 has no such aggregates');
});

test('defaults are documented values; a locked reply waits as long as the longest failure delay', () => {
  const { bf } = tracker();
  assert.deepEqual(bf.describe(), {
    ip: '10 per 600 s', prefix: '30 per 600 s', prefix56: '60 per 600 s', prefix48: '100 per 600 s', account: '10 per 900 s',
    lockoutMs: 900_000, knownPrefixDays: 30, ipv4Prefix: 24, ipv6Prefix: 64,
  });
  assert.equal(bf.lockedDelayMs(), 8000);
});

test('unknown settings are refused by name', () => {
  const r = createBruteForce({ store: new MemoryLimitStore(), accountKey, spec: { acount: { failures: 3, per: 60 } } as never });
  assert.ok(!r.ok);
  assert.match(r.errors.join(), /acount: unknown setting/);
});
