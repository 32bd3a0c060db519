// The public portal pages in a real Chromium, asked from addresses of each
// class: one network namespace per subscriber (a veth pair to the root
// namespace, the subscriber's address at one end and the portal's at the
// other), Chromium run inside it, the portal modules served in this process on
// the root side. "Am I blocked?" must answer for the address the page is asked
// from, in the words for its class; the guides and the walled garden's notice
// page (quarantined subscriber) are shot too. Screenshots: portal-blocked-*,
// portal-guides, portal-guide-thunderbird, portal-notice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ADDR, NOW, portalWorld, servePortal, type PortalWorld } from '../lib/portal.ts';
import { launchBrowser, screenshot } from '../lib/browser.ts';
import { canUseNetns, needTools } from '../lib/tools.ts';
import { createHttpListener, noticeRoutes, type HttpListener } from '../../src/http/index.ts';
import { NoticeDesk, NoticeTokens, type Evidence } from '../../src/abuse/index.ts';

const skip = needTools('ip', '/usr/bin/chromium') || (canUseNetns() ? false : 'needs root for network namespaces');
const id = randomBytes(3).toString('hex');
/** The portal's address on every pair's root end (a /32 with a peer route per subscriber). */
const PORTAL = '192.0.2.254';
/** The portal's IPv6 address, on the IPv6 subscriber's link (its /64 is the subscriber's delegated prefix). */
const PORTAL6 = '2001:db8:1:5::1';
const SUBSCRIBERS = { dynamic: ADDR.dynamic, static: ADDR.static, cgnat: ADDR.cgnat, exempt: ADDR.exempt, quarantined: ADDR.quarantined, dynamic6: ADDR.dynamic6 } as const;
type Who = keyof typeof SUBSCRIBERS;
const sh = (...a: string[]): string => execFileSync(a[0], a.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const made: string[] = [];
const ns = (w: Who): string => `pw-${id}-${w}`;
let world: PortalWorld, portal: HttpListener, portal6: HttpListener, notice: HttpListener, portalPort: number, portal6Port: number, noticePort: number;

before(async () => {
  if (skip) return;
  world = await portalWorld();
  (Object.keys(SUBSCRIBERS) as Who[]).forEach((w, i) => {
    const n = ns(w), host = `pw${id}${i}`;
    sh('ip', 'netns', 'add', n);
    made.push(n);
    sh('ip', 'netns', 'exec', n, 'ip', 'link', 'set', 'lo', 'up');
    // Made inside the namespace, the root end moved out: deleting the namespace removes the pair.
    sh('ip', 'netns', 'exec', n, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', host);
    sh('ip', 'netns', 'exec', n, 'ip', 'link', 'set', host, 'netns', '1');
    if (w === 'dynamic6') {
      sh('ip', 'netns', 'exec', n, 'ip', '-6', 'addr', 'add', `${SUBSCRIBERS[w]}/64`, 'dev', 'eth0', 'nodad');
      sh('ip', '-6', 'addr', 'add', `${PORTAL6}/64`, 'dev', host, 'nodad');
    } else {
      sh('ip', 'netns', 'exec', n, 'ip', 'addr', 'add', `${SUBSCRIBERS[w]}/32`, 'peer', `${PORTAL}/32`, 'dev', 'eth0');
      sh('ip', 'addr', 'add', `${PORTAL}/32`, 'peer', `${SUBSCRIBERS[w]}/32`, 'dev', host);
    }
    sh('ip', 'netns', 'exec', n, 'ip', 'link', 'set', 'eth0', 'up');
    sh('ip', 'link', 'set', host, 'up');
  });
  const s = await servePortal(world, {}, PORTAL);
  portal = s.listener; portalPort = s.port;
  const s6 = await servePortal(world, {}, PORTAL6);
  portal6 = s6.listener; portal6Port = s6.port;
  // The walled garden's notice page as the garden serves it (abuse.noticeListen), for the quarantined subscriber.
  const evidence = (cls: Evidence['class'], amount: number): Evidence => ({ id: 1, caseId: 'case-30', class: cls, address: ADDR.quarantined, port: null, account: null,
    origin: 'edge:bng1', amount, count: 1, firstAt: NOW - 3_600_000, lastAt: NOW - 60_000, detail: {} });
  const c = world.cases.cases.get('case-30')!;
  c.evidence = [evidence('edge-destinations', 412), evidence('report', 2)];
  c.active = [{ decision: 'd1', action: 'quarantine', rule: 'bot', at: NOW - 600_000, until: NOW + 4 * 3_600_000 }];
  const desk = new NoticeDesk({ tokens: new NoticeTokens({ secret: Buffer.alloc(32, 7), ttlHours: 24, clock: world.clock }), cases: world.cases, holders: world.directory, clock: world.clock });
  notice = createHttpListener({ name: 'notice', logger: world.app.logger });
  noticeRoutes(notice.app, { desk, contact: 'abuse@isp.example', portalUrl: 'https://portal.isp.example/notice', logger: world.app.logger });
  noticePort = await notice.listen(PORTAL, 0);
});

after(async () => {
  if (skip) return;
  await portal?.close();
  await portal6?.close();
  await notice?.close();
  for (const n of made) { try { sh('ip', 'netns', 'del', n); } catch { /* gone */ } }
  await world?.close();
});

/** Opens `path` in a Chromium inside `who`'s namespace; returns the page's text and saves the screenshot. */
async function visit(who: Who, path: string, shot: string | null, port = who === 'dynamic6' ? portal6Port : portalPort): Promise<{ text: string; html: string }> {
  const b = await launchBrowser({ netns: ns(who) });
  try {
    const ctx = await b.context();
    const page = await ctx.newPage();
    const r = await page.goto(`http://${who === 'dynamic6' ? `[${PORTAL6}]` : PORTAL}:${port}${path}`, { waitUntil: 'load', timeout: 20_000 });
    assert.equal(r?.status(), 200, `${who} ${path}`);
    const text = (await page.innerText('body')).replace(/\s+/g, ' ');
    const html = await page.content();
    if (shot) await screenshot(page, shot);
    return { text, html };
  } finally { await b.close(); }
}

test('dynamic: "Am I blocked?" sees the subscriber\'s own address, blocked by class, our own list, what to do', { skip }, async () => {
  const { text } = await visit('dynamic', '/blocked', 'portal-blocked-dynamic');
  assert.match(text, new RegExp(`You are connected from ${ADDR.dynamic.replace(/\./g, '\\.')}`));
  assert.match(text, /One of our home internet addresses/);
  assert.match(text, /Blocked\. Devices on this connection cannot deliver mail straight to other mail servers on port 25/);
  assert.match(text, /No: there is no open case about this connection/);
  assert.match(text, /includes this address/);
  assert.match(text, /Set up your mail program to send through us/);
});

test('dynamic IPv6: the delegated prefix\'s address, blocked by class like IPv4', { skip }, async () => {
  const { text } = await visit('dynamic6', '/blocked', 'portal-blocked-dynamic6');
  assert.match(text, /You are connected from 2001:db8:1:5::10/);
  assert.match(text, /One of our home internet addresses/);
  assert.match(text, /Blocked\. Devices on this connection cannot deliver mail straight/);
  assert.match(text, /No: there is no open case about this connection/, 'the holder of the /64 found');
});

test('static: not blocked', { skip }, async () => {
  const { text } = await visit('static', '/blocked', 'portal-blocked-static');
  assert.match(text, new RegExp(`You are connected from ${ADDR.static.replace(/\./g, '\\.')}`));
  assert.match(text, /A fixed \(static\) address from us/);
  assert.match(text, /Not blocked: fixed and business addresses may deliver mail directly/);
  assert.match(text, /does not include this address/);
});

test('CGNAT: shared, blocked, no exemption for a shared address', { skip }, async () => {
  const { text } = await visit('cgnat', '/blocked', 'portal-blocked-cgnat');
  assert.match(text, /carrier-grade NAT/);
  assert.match(text, /Blocked\./);
  assert.match(text, /A shared address cannot get an exemption/);
});

test('exempt: allowed until the expiry, renewal offered', { skip }, async () => {
  const { text } = await visit('exempt', '/blocked', 'portal-blocked-exempt');
  assert.match(text, /Allowed: this connection has a port-25 exemption\. The exemption ends on 1 March 2027\./);
  assert.match(text, /Renew the exemption before it ends/);
});

test('quarantined: the open case and the notice page; the notice page itself shows what was seen, what to do, the release button, no password', { skip }, async () => {
  const b = await visit('quarantined', '/blocked', null);
  assert.match(b.text, /Yes: there is an open case about this connection/);
  assert.ok(!b.html.includes('case-30') && !b.html.includes('gina'), 'no case id, no subscriber id on the portal');
  const n = await visit('quarantined', '/', 'portal-notice', noticePort);
  assert.match(n.text, /Your internet connection is restricted for now/);
  assert.match(n.text, /What we saw/);
  assert.match(n.text, /What to do/);
  assert.match(n.html, /<button type="submit">My devices are clean: lift the restriction<\/button>/);
  assert.doesNotMatch(n.html, /type="password"/i);
});

test('the guides: index and Thunderbird with the real server and ports', { skip }, async () => {
  const i = await visit('dynamic', '/guides', 'portal-guides');
  assert.match(i.text, /Thunderbird \(Windows, Mac, Linux\)/);
  assert.match(i.text, /Why port 25 is blocked/);
  const t = await visit('dynamic', '/guides/thunderbird', 'portal-guide-thunderbird');
  assert.match(t.text, /smtp\.isp\.example\s465\sSSL\/TLS/);
  assert.match(t.text, /smtp\.isp\.example\s587\sSTARTTLS/);
  assert.match(t.text, /Account Settings, then Account Actions, then Add Mail Account/);
});
