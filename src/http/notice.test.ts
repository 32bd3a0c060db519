import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test, type TestContext } from 'node:test';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { subscribeMetrics } from '../metrics/index.ts';
import { asksForPassword, NoticeDesk, NoticeTokens, type Evidence } from '../abuse/index.ts';
import { needTools } from '../../test/lib/tools.ts';
import { createHttpListener, noticeRoutes } from './index.ts';
import { FakeCases, fakeHolders } from '../../test/lib/abuse-fakes.ts';

const NOW = Date.UTC(2026, 11, 2, 12, 0);
const skip = needTools('curl');

function evidence(cls: Evidence['class'], amount: number, detail: Evidence['detail'] = {}): Evidence {
  return { id: 1, caseId: 'c7', class: cls, address: '127.0.0.1', port: null, account: null, origin: 'edge:bng1', amount, count: 1, firstAt: NOW - 3_600_000, lastAt: NOW - 60_000, detail };
}

async function setup(t: TestContext, holders: Record<string, string> = { '127.0.0.1': 'cust-1' }) {
  const clock = new ManualClock(NOW);
  const cases = new FakeCases();
  cases.add({ id: 'c7', subscriber: 'cust-1', active: [{ decision: 'd1', action: 'quarantine', rule: 'bot', at: NOW - 60_000, until: NOW + 4 * 3_600_000 }],
    evidence: [evidence('edge-destinations', 412), evidence('report', 1, { feedbackType: '<script>alert("x")</script>&' })] });
  const directory = fakeHolders(holders);
  const lookups = directory.asked;
  const bus = new InProcessBus();
  const metrics = createMetrics({ processMetrics: false });
  subscribeMetrics(bus, metrics);
  const tokens = new NoticeTokens({ secret: Buffer.alloc(32, 3), ttlHours: 24, clock });
  const desk = new NoticeDesk({ tokens, cases, holders: directory, bus, clock });
  const log = new MemoryLogger();
  const l = createHttpListener({ name: 'notice', logger: log });
  noticeRoutes(l.app, { desk, contact: 'abuse@isp.example', portalUrl: 'https://portal.isp.example/notice', logger: log });
  const port = await l.listen('127.0.0.1', 0);
  t.after(() => l.close());
  const base = `http://127.0.0.1:${port}`;
  return { clock, cases, tokens, desk, metrics, lookups, base, port };
}

interface CurlResult { status: number; headers: Record<string, string>; body: string }

/** Real curl from loopback (asynchronously: the server runs in this process): -i for the status and headers. */
async function curl(...args: string[]): Promise<CurlResult> {
  const r = await promisify(execFile)('curl', ['-s', '-i', '--max-time', '10', ...args], { encoding: 'utf8' });
  const split = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const h of head.slice(1)) { const i = h.indexOf(':'); headers[h.slice(0, i).toLowerCase()] = h.slice(i + 1).trim(); }
  return { status: Number(head[0].split(' ')[1]), headers, body: r.stdout.slice(split + 4) };
}

const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)![1];

function noPasswordNoLogin(html: string): void {
  assert.doesNotMatch(html, /type\s*=\s*["']?password/i);
  assert.doesNotMatch(html, /<input(?![^>]*type="hidden")/i, 'only hidden inputs');
  assert.doesNotMatch(html, /log\s?-?in|sign\s?-?in|username/i);
  assert.doesNotMatch(html, /<script/i);
  assert.equal(asksForPassword(html.replace(/<[^>]+>/g, ' ')), null);
}

test('by source address in the garden: any Host and any path show the case; no password, no login, hostile evidence escaped', { skip }, async (t) => {
  const { base, lookups, metrics } = await setup(t);
  for (const [host, path] of [['www.example.com', '/'], ['detectportal.firefox.com', '/success.txt'], ['10.1.2.3', '/a/b/c?x=<y>'], ['', `/${'p'.repeat(300)}`]]) {
    const r = await curl('-H', `Host: ${host}`, `${base}${path}`);
    assert.equal(r.status, 200, `${host}${path}`);
    assert.match(r.headers['content-type'], /^text\/html; charset=utf-8/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.match(r.body, /<strong>c7<\/strong>/);
    assert.match(r.body, /Your connection tried to send mail directly to 412 outside mail servers on port 25\./);
    assert.match(r.body, /Until 2 December 2026, 16:00 UTC/);
    assert.match(r.body, /<form method="post">/);
    noPasswordNoLogin(r.body);
    // The evidence's outside text is escaped, never markup.
    assert.doesNotMatch(r.body, /<script>alert/);
    assert.match(r.body, /&#60;script&#62;alert\(&#34;x&#34;\)&#60;\/script&#62;&#38;/);
  }
  // A proxy-style absolute target and a HEAD are answered too.
  const abs = await curl('--request-target', 'http://neverssl.com/online', `${base}/`);
  assert.equal(abs.status, 200);
  assert.match(abs.body, /<strong>c7<\/strong>/);
  assert.equal((await curl('-I', `${base}/favicon.ico`)).status, 200);
  assert.equal(lookups[0].address, '127.0.0.1');
  assert.equal(lookups[0].at, NOW);
  assert.ok(lookups[0].port! > 0, 'the source port is asked too (CGNAT port blocks)');
  assert.match(await metrics.registry.metrics(), /portwarden_notice_page_views_total\{via="address"\} 6/);
});

test('by token: the link shows its case from anywhere; tampered and expired links are refused in words', { skip }, async (t) => {
  const { base, tokens, clock, metrics } = await setup(t, {});
  const link = tokens.link('c7', 'cust-1');
  const r = await curl(`${base}/notice?t=${link}`);
  assert.equal(r.status, 200);
  assert.match(r.body, /<strong>c7<\/strong>/);
  noPasswordNoLogin(r.body);
  const bad = await curl(`${base}/notice?t=${link.slice(0, -3)}AAA`);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /the link was not issued by us or was altered/);
  const none = await curl(`${base}/`);
  assert.equal(none.status, 200);
  assert.match(none.body, /There is no notice for this connection/);
  assert.doesNotMatch(none.body, /<form/);
  clock.advance(24 * 3_600_000);
  const old = await curl(`${base}/notice?t=${link}`);
  assert.equal(old.status, 410);
  assert.match(old.body, /the link has expired/);
  const m = await metrics.registry.metrics();
  assert.match(m, /portwarden_notice_page_views_total\{via="token"\} 1/);
  assert.match(m, /portwarden_notice_page_views_total\{via="none"\} 3/);
});

test('self-release allowed: two tabs each get a good form; the release is the subscriber\'s, kind self', { skip }, async (t) => {
  const { base, cases, metrics } = await setup(t);
  const tab1 = csrfOf((await curl(`${base}/`)).body);
  const tab2 = csrfOf((await curl('-H', 'Host: other.example', `${base}/x`)).body);
  assert.notEqual(tab1, tab2);
  const r = await curl('-X', 'POST', '--data-urlencode', `csrf=${tab2}`, '--data-urlencode', 'case=c7', `${base}/x`);
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /The restriction has been lifted/);
  assert.deepEqual(cases.releases, [{ id: 'c7', actor: 'subscriber:cust-1', reason: 'self release on the notice page', kind: 'self' }]);
  // The other tab's form is still genuine, but there is nothing left to lift.
  const again = await curl('-X', 'POST', '--data-urlencode', `csrf=${tab1}`, `${base}/`);
  assert.equal(again.status, 409);
  assert.equal(cases.releases.length, 1);
  const m = await metrics.registry.metrics();
  assert.match(m, /portwarden_self_releases_total\{outcome="released"\} 1/);
  assert.match(m, /portwarden_self_releases_total\{outcome="refused"\} 1/);
});

test('self-release by the link\'s token works off the garden too', { skip }, async (t) => {
  const { base, cases, tokens } = await setup(t, {});
  const link = tokens.link('c7', 'cust-1');
  const csrf = csrfOf((await curl(`${base}/notice?t=${link}`)).body);
  const r = await curl('-X', 'POST', '--data-urlencode', `csrf=${csrf}`, `${base}/notice?t=${link}`);
  assert.equal(r.status, 200, r.body);
  assert.equal(cases.releases[0].actor, 'subscriber:cust-1');
});

test('self-release refused: the page says why and how to reach the desk, and a forced POST releases nothing', { skip }, async (t) => {
  const { base, cases, desk, metrics } = await setup(t);
  cases.check = { allowed: false, why: 'the evidence has not been quiet for 2 hours yet', quietSince: null, left: 0 };
  const page = await curl(`${base}/`);
  assert.doesNotMatch(page.body, /<form/);
  assert.match(page.body, /You cannot lift this yourself right now: the evidence has not been quiet for 2 hours yet/);
  assert.match(page.body, /Write to abuse@isp\.example and give your case number\./);
  const found = await desk.find({ address: '127.0.0.1' }, false);
  assert.ok(found.ok);
  const r = await curl('-X', 'POST', '--data-urlencode', `csrf=${found.view.csrf}`, `${base}/`);
  assert.equal(r.status, 409);
  assert.match(r.body, /not been quiet/);
  assert.equal(cases.releases.length, 0);
  assert.match(await metrics.registry.metrics(), /portwarden_self_releases_total\{outcome="refused"\} 1/);
});

test('CSRF: a missing, forged, stale or other-case value releases nothing', { skip }, async (t) => {
  const { base, cases, tokens, clock, metrics } = await setup(t);
  const good = csrfOf((await curl(`${base}/`)).body);
  const posts = [
    [],
    ['--data-urlencode', 'csrf=forged.value'],
    ['--data-urlencode', `csrf=${tokens.csrf('c8', 'address:127.0.0.1')}`],
    ['--data-urlencode', `csrf=${tokens.csrf('c7', 'address:10.0.0.9')}`],
  ];
  for (const p of posts) {
    const r = await curl('-X', 'POST', '-H', 'content-type: application/x-www-form-urlencoded', '--data', 'x=1', ...p, `${base}/`);
    assert.equal(r.status, 403, p.join(' '));
    assert.match(r.body, /Please reload the page/);
  }
  clock.advance(2 * 3_600_000);
  assert.equal((await curl('-X', 'POST', '--data-urlencode', `csrf=${good}`, `${base}/`)).status, 403);
  assert.equal(cases.releases.length, 0);
  assert.match(await metrics.registry.metrics(), /portwarden_self_releases_total\{outcome="csrf"\} 5/);
});

test('RFC 8908 captive-portal API: captive for a quarantined address, not for others', { skip }, async (t) => {
  const { base, cases } = await setup(t);
  for (const path of ['/.well-known/captive-portal', '/captive-portal/api']) {
    const r = await curl('-H', 'Accept: application/captive+json', `${base}${path}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/captive+json');
    assert.match(r.headers['cache-control'], /private/);
    assert.deepEqual(JSON.parse(r.body), { captive: true, 'user-portal-url': 'https://portal.isp.example/notice' });
  }
  cases.cases.get('c7')!.active = [];
  assert.deepEqual(JSON.parse((await curl(`${base}/captive-portal/api`)).body), { captive: false });
});
