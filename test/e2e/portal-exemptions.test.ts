// The portal's sign-in and port-25 exemption requests, end to end: the real
// `portwarden start` with portal.listen, a real Chromium signing in with the
// submission account (made with `portwarden account add`, the subscriber and
// its address with `subscriber put` and `address assign`), asking for an
// exemption, the checks against a real DNS server on loopback (unbound); the
// desk (a staff user made with `portwarden staff add`, signed in on the
// server's own console with password and TOTP) granting and refusing it; the
// grant in `portwarden policy show` and the compiled nft policy with its
// expiry; a renewal granted through the server's own operations (admin API)
// logged as a policy change on its bus (what the edges' push waits for);
// the refusal's reason on the subscriber's account page; and five
// wrong passwords locking the portal and SMTP AUTH on 587 alike (python smtplib).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { BrowserContext, Page } from 'playwright-core';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { launchBrowser, screenshot, type TestBrowser } from '../lib/browser.ts';
import { TestDns } from '../lib/dns.ts';
import { needTools, until } from '../lib/tools.ts';
import { addStaff, firstSignIn } from '../lib/console.ts';

const skip = needTools('unbound', 'curl', 'python3', 'chromium');
const PW = { alice: 'alice-password-1', bob: 'bob-password-22', carol: 'carol-password-3', dave: 'dave-password-44' };

/** One AUTH PLAIN on 587 after STARTTLS (python smtplib, one mechanism only): the reply code, or "closed". */
async function smtpAuth(port: number, user: string, pass: string): Promise<string> {
  const py = `
import smtplib, ssl, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
s.ehlo(); s.starttls(context=ssl._create_unverified_context()); s.ehlo()
s.user, s.password = sys.argv[2], sys.argv[3]
try:
    code, _ = s.auth('PLAIN', s.auth_plain); print(code)
except smtplib.SMTPAuthenticationError as e: print(e.smtp_code)
except smtplib.SMTPServerDisconnected: print('closed')
except smtplib.SMTPResponseException as e: print(e.smtp_code)
`;
  const r = await run('python3', ['-c', py, String(port), user, pass], { timeout: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe('portal: sign-in with the submission account, exemption requests, the desk\'s review', { skip }, () => {
  const sink = new CaptureSink({});
  let pw: Portwarden;
  let dns: TestDns;
  let browser: TestBrowser;
  let deskContext: BrowserContext;
  let deskUrl = '';
  const portal = () => `https://127.0.0.1:${pw.port('portal')}`;

  before(async () => {
    dns = await TestDns.start(['cust-a.example.', 'cust-b.example.', 'in-addr.arpa.'], [
      'mail.cust-a.example. IN A 198.51.100.7',
      '7.100.51.198.in-addr.arpa. IN PTR mail.cust-a.example.',
      'mx.cust-b.example. IN A 198.51.100.8',
    ]);
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${await sink.listen()}`,
      accounts: [
        { login: 'alice@isp.example', password: PW.alice, subscriber: 'cust-a' },
        { login: 'bob@isp.example', password: PW.bob, subscriber: 'cust-b' },
        { login: 'carol@isp.example', password: PW.carol, subscriber: 'cust-c' },
        { login: 'dave@isp.example', password: PW.dave, subscriber: 'cust-d' },
      ],
      extraYaml: [
        'portal: {listen: "127.0.0.1:0"}',
        'console: {listen: "127.0.0.1:0"}',
        'api: {listen: "127.0.0.1:0", tls: false}',
        `exemptions: {resolvers: ["${dns.server}"], minAccountAgeDays: 0, sweepMinutes: 1}`,
        // Five failures lock the account; the address scopes stay out of the way (every client here is 127.0.0.1).
        'limits: {authFailureDelaysMs: [0], bruteForce: {account: {failures: 5, per: 900}, ip: {failures: 1000, per: 600}, prefix: {failures: 1000, per: 600}}}',
        '',
      ].join('\n'),
    });
    for (const [id, tier] of [['cust-a', 'premium'], ['cust-b', 'premium']]) {
      await pw.cli(['subscriber', 'put', id, '--tier', tier, '--contact', `${id}@home.example`, '--reason', 'test']);
    }
    await pw.cli(['address', 'assign', 'cust-a', '198.51.100.7', '--start', '2026-11-01T00:00:00Z', '--reason', 'test']);
    await pw.cli(['address', 'assign', 'cust-b', '198.51.100.8', '--start', '2026-11-01T00:00:00Z', '--reason', 'test']);

    // The desk: dora, made with `portwarden staff add`, signed in on the server's own console with password and TOTP.
    const dora = await addStaff(pw, 'dora', 'desk');
    deskUrl = `https://127.0.0.1:${pw.port('console')}`;
    browser = await launchBrowser();
    deskContext = await browser.context();
    const dp = await deskContext.newPage();
    await firstSignIn(dp, deskUrl, dora, 'dora reviews exemptions daily');
    await dp.close();
  });

  after(async () => {
    await browser?.close();
    await pw?.destroy();
    await dns?.stop();
    await sink.close();
  });

  const signIn = async (page: Page, login: string, password: string, shot?: string) => {
    await page.goto(`${portal()}/signin`);
    await page.getByLabel('Mail login').fill(login);
    await page.getByLabel('Mail password').fill(password);
    if (shot) await screenshot(page, shot);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  test('a subscriber signs in, asks for an exemption for its address, sees the checks; the desk grants it; the grant is in the policy with its expiry', async () => {
    const ctx = await browser.context();
    const page = await ctx.newPage();
    await signIn(page, 'alice@isp.example', PW.alice, 'portal-signin');
    assert.equal(new URL(page.url()).pathname, '/account');
    const cookie = (await ctx.cookies()).find((c) => c.name === '__Host-pw_portal')!;
    assert.ok(cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict' && cookie.path === '/', JSON.stringify(cookie));
    assert.match(await page.locator('main').innerText(), /cust-a/);

    await page.getByRole('link', { name: 'Ask for a port 25 exemption' }).click();
    assert.equal(await page.getByLabel(/Address of your mail server/).inputValue(), '198.51.100.7', 'prefilled with the current address');
    // A refused form keeps what was typed and says why next to the field.
    await page.getByLabel(/Host name of your mail server/).fill('not a host name');
    await page.getByLabel('Why do you need port 25?').fill('I run the mail server of my family.');
    await page.getByRole('button', { name: 'Send the request' }).click();
    assert.match(await page.locator('#err-server').innerText(), /host name such as mail\.example\.net/);
    assert.equal(await page.getByLabel('Why do you need port 25?').inputValue(), 'I run the mail server of my family.');
    await page.getByLabel(/Host name of your mail server/).fill('mail.cust-a.example');
    await page.getByRole('button', { name: 'Send the request' }).click();
    assert.match(new URL(page.url()).pathname, /^\/exemption\/\d+$/);
    const checks = await page.locator('table').first().innerText();
    assert.match(checks, /Reverse DNS matches the server name\s+passed\s+198\.51\.100\.7 is mail\.cust-a\.example in reverse DNS/);
    assert.match(checks, /Your plan includes exemptions\s+passed/);
    await screenshot(page, 'portal-exemption-request');

    // The desk reviews it in the console module and grants it for 30 days.
    const dp = await deskContext.newPage();
    await dp.goto(`${deskUrl}/exemptions`);
    const section = dp.locator('section', { hasText: '198.51.100.7' });
    assert.match(await section.innerText(), /reverse DNS: pass/);
    await screenshot(dp, 'console-exemptions');
    await section.getByLabel('Days').fill('30');
    await section.getByLabel('Reason for the grant').fill('checks pass; business server');
    const before = Date.now();
    await section.getByRole('button', { name: 'Grant' }).click();
    assert.match(await dp.locator('[role=status]').innerText(), /granted/);
    // Granted in the server itself: its bus hears the policy change (what the edges' push waits for), by dora.
    await until(() => pw.logs.some((l) => l.event === 'policy-change' && String(l.object).includes('198.51.100.7') && String(l.actor).includes('dora')), 'the server logging the desk\'s policy change', 10_000);

    // The grant is policy: `portwarden policy show` and the compiled nft ruleset have it, with its expiry.
    const show = await pw.cli(['policy', 'show', '--json']);
    const snap = JSON.parse(show.stdout) as { snapshot?: { exemptions: Array<{ prefix: string; customer: string; expiresAt: number }> }; exemptions?: unknown };
    const ex = (snap.snapshot ?? (snap as never as { exemptions: Array<{ prefix: string; customer: string; expiresAt: number }> })).exemptions;
    const grant = ex.find((e) => e.prefix === '198.51.100.7')!;
    assert.equal(grant.customer, 'cust-a');
    assert.ok(Math.abs(grant.expiresAt - (before + 30 * 86_400_000)) < 60_000, `expiry ${grant.expiresAt}`);
    const nft = (await pw.cli(['policy', 'compile', '--format', 'nft'])).stdout;
    assert.match(nft, /198\.51\.100\.7/);

    // The subscriber sees it granted, until when, with the desk's words.
    await page.goto(`${portal()}/account`);
    const acc = await page.locator('main').innerText();
    assert.match(acc, /granted/);
    assert.match(acc, /checks pass; business server/);
    assert.match(acc, new RegExp(`${new Date(grant.expiresAt).getUTCFullYear()}`));
    await screenshot(page, 'portal-account');

    // The subscriber asks to renew: back in the desk's queue as a renewal, the grant running on.
    await page.getByRole('link', { name: /^\d+$/ }).first().click();
    await page.getByRole('button', { name: 'Ask to renew' }).click();
    assert.match(await page.locator('[role=status]').innerText(), /renewal request was sent/);
    assert.match(await page.locator('main').innerText(), /waiting for the desk \(renewal\)/);
    await dp.goto(`${deskUrl}/exemptions`);
    assert.match(await dp.locator('section', { hasText: '198.51.100.7' }).innerText(), /renewal of a running grant/);
    assert.ok(JSON.stringify(JSON.parse((await pw.cli(['policy', 'show', '--json'])).stdout)).includes('198.51.100.7'), 'the grant runs on');
    await ctx.close();
  });

  test('the same decision through the server\'s own operations (admin API) is a policy change on its bus: what the edges\' push waits for', async () => {
    const token = (await pw.cli(['token', 'add', 'desk-api', '--scope', 'operate'])).stdout.trim();
    const list = await run('curl', ['-sS', '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${pw.port('api')}/api/v1/exemptions/requests?state=pending`]);
    const pending = (JSON.parse(list.stdout) as { requests: Array<{ id: number; prefix: string; renewal: boolean }> }).requests;
    const renewal = pending.find((r) => r.prefix === '198.51.100.7')!;
    assert.equal(renewal.renewal, true);
    const r = await run('curl', ['-sS', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`, '-H', 'content-type: application/json',
      '-d', JSON.stringify({ days: 10, reason: 'renewed over the API' }), `http://127.0.0.1:${pw.port('api')}/api/v1/exemptions/requests/${renewal.id}/grant`]);
    assert.match(r.stdout, /\n200$/, r.stdout);
    assert.equal((JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('\n'))) as { state: string }).state, 'granted');
    await until(() => pw.logs.some((l) => l.event === 'policy-change' && String(l.object).includes('198.51.100.7') && l.actor === 'token:desk-api'), 'the server logging the policy change', 10_000);
  });

  test('a refused request shows the desk\'s reason to the subscriber; sign-out ends the session', async () => {
    const ctx = await browser.context();
    const page = await ctx.newPage();
    await signIn(page, 'bob@isp.example', PW.bob);
    await page.goto(`${portal()}/exemption`);
    await page.getByLabel(/Host name of your mail server/).fill('mx.cust-b.example');
    await page.getByLabel('Why do you need port 25?').fill('testing a <b>server</b> & "more"');
    // A form with a token that is not this session's is refused, and shown again with what was typed.
    await page.locator('form[action="/exemption"] input[name=_csrf]').evaluate((i) => { (i as unknown as { value: string }).value = 'forged'; });
    await page.getByRole('button', { name: 'Send the request' }).click();
    assert.match(await page.locator('[role=alert]').innerText(), /too old or came from another page/);
    assert.equal(await page.getByLabel(/Host name of your mail server/).inputValue(), 'mx.cust-b.example');
    await page.getByRole('button', { name: 'Send the request' }).click();
    assert.match(await page.locator('table').first().innerText(), /Reverse DNS matches the server name\s+not passed\s+198\.51\.100\.8 has no reverse DNS name/);

    const dp = await deskContext.newPage();
    await dp.goto(`${deskUrl}/exemptions`);
    const section = dp.locator('section', { hasText: '198.51.100.8' });
    // The subscriber's words are text on the desk's page, never markup.
    assert.match(await section.innerText(), /testing a <b>server<\/b> & "more"/);
    assert.equal(await section.locator('b').count(), 0);
    // An empty reason is refused next to the form, nothing lost.
    await section.locator("form[action$=refuse] input[name=reason]").evaluate((i) => { (i as unknown as { required: boolean }).required = false; });
    await section.getByRole('button', { name: 'Refuse' }).click();
    assert.match(await dp.locator('section', { hasText: '198.51.100.8' }).locator('[role=alert]').innerText(), /Reason for the refusal/);
    await dp.locator('section', { hasText: '198.51.100.8' }).getByLabel(/Reason for the refusal/).fill('no reverse DNS for 198.51.100.8: ask us to set it first');
    await dp.locator('section', { hasText: '198.51.100.8' }).getByRole('button', { name: 'Refuse' }).click();
    assert.match(await dp.locator('[role=status]').innerText(), /refused/);

    await page.goto(`${portal()}/account`);
    const acc = await page.locator('main').innerText();
    assert.match(acc, /refused/);
    assert.match(acc, /no reverse DNS for 198\.51\.100\.8: ask us to set it first/);
    const policy = JSON.stringify(JSON.parse((await pw.cli(['policy', 'show', '--json'])).stdout));
    assert.doesNotMatch(policy, /198\.51\.100\.8/);

    await page.getByRole('button', { name: 'Sign out' }).click();
    assert.equal(new URL(page.url()).pathname, '/signin');
    await page.goto(`${portal()}/account`);
    assert.equal(new URL(page.url()).pathname, '/signin', 'the session is gone');
    await ctx.close();

    // Every sign-in is audited as the subscriber.
    const db = new DatabaseSync(join(pw.dir, 'data', 'state.db'), { readOnly: true });
    try {
      const rows = db.prepare("SELECT actor_kind, actor, action, outcome FROM app_audit WHERE action IN ('portal.signin', 'exemptions.request', 'exemptions.refuse') ORDER BY id").all().map((r) => Object.values(r).join(' '));
      assert.ok(rows.includes('subscriber bob@isp.example portal.signin ok'), rows.join('\n'));
      assert.ok(rows.includes('subscriber bob@isp.example exemptions.request ok'), rows.join('\n'));
      assert.ok(rows.includes('staff dora exemptions.refuse ok'), rows.join('\n'));
    } finally { db.close(); }
  });

  test('a sign-in form posted from elsewhere (no sign-in cookie) is refused before the password is looked at', async () => {
    const r = await run('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '-d', `login=alice@isp.example&password=${PW.alice}`, `${portal()}/signin`]);
    assert.equal(r.stdout, '403');
    assert.equal(await smtpAuth(pw.port('submission'), 'alice@isp.example', PW.alice), '235', 'and nothing was counted against the account');
  });

  test('five wrong passwords on the portal lock SMTP AUTH on 587 too, and five on 587 lock the portal', async () => {
    const sub = pw.port('submission');
    const ctx = await browser.context();
    const page = await ctx.newPage();
    for (let i = 0; i < 5; i++) {
      await signIn(page, 'carol@isp.example', 'wrong-password-x');
      assert.match(await page.locator('[role=alert]').innerText(), /(not right|Too many wrong passwords)/);
    }
    await signIn(page, 'carol@isp.example', PW.carol);
    assert.match(await page.locator('[role=alert]').innerText(), /Too many wrong passwords/);
    assert.notEqual(new URL(page.url()).pathname, '/account');
    assert.equal(await smtpAuth(sub, 'carol@isp.example', PW.carol), '454', 'the right password on 587 is refused while locked');

    for (let i = 0; i < 5; i++) assert.match(await smtpAuth(sub, 'dave@isp.example', 'wrong-password-y'), /^(535|454|421|closed)$/);
    await signIn(page, 'dave@isp.example', PW.dave);
    assert.match(await page.locator('[role=alert]').innerText(), /Too many wrong passwords/);
    // A failure audited with its outcome.
    const db = new DatabaseSync(join(pw.dir, 'data', 'state.db'), { readOnly: true });
    try {
      const rows = db.prepare("SELECT actor, outcome FROM app_audit WHERE action = 'portal.signin' AND actor = 'carol@isp.example'").all().map((r) => r.outcome);
      assert.ok(rows.includes('credentials') && rows.includes('locked'), rows.join(','));
    } finally { db.close(); }
    await ctx.close();
  });
});
