// The staff console end to end: the real `portwarden start` with console.listen,
// a staff user made with `portwarden staff add`, a real Chromium (playwright-core)
// signing in with the generated password and a TOTP code computed here from the
// printed secret (a wrong code first), choosing its own password, the home page,
// /staff in two tabs posting forms, sign-out; the lockout in words; curl for the
// cookie attributes and a POST without _csrf; the audit records through the CLI;
// SIGHUP's certificate reload reaching the console.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { TOTP } from 'otpauth';
import { startWithSink, run, type Portwarden } from '../lib/portwarden.ts';
import type { CaptureSink } from '../lib/sink.ts';
import { launchBrowser, screenshot, type TestBrowser } from '../lib/browser.ts';

let pw: Portwarden;
let sink: CaptureSink;
let browser: TestBrowser;
let base: string;

before(async () => {
  ({ pw, sink } = await startWithSink({ extraYaml: 'console:\n  listen: 127.0.0.1:0\n  lockoutAttempts: 3' }));
  base = `https://127.0.0.1:${pw.port('console')}`;
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await pw?.destroy(); await sink?.close(); });

interface Made { uri: string; secret: string; password: string }
async function addStaff(name: string, role: string): Promise<Made> {
  const { stdout } = await pw.cli(['staff', 'add', name, '--role', role]);
  const uri = /^TOTP URI:\s+(\S+)$/m.exec(stdout)![1];
  const secret = /^TOTP secret:\s+([A-Z2-7]+)/m.exec(stdout)![1];
  const password = /^password:\s+(\S+)/m.exec(stdout)![1];
  return { uri, secret, password };
}
const codeNow = (secret: string, offset = 0): string => TOTP.generate({ secret: new TOTP({ secret }).secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: Date.now() + offset });

test('sign in with password and TOTP in Chromium, change the generated password, home, two tabs posting, sign out', async () => {
  assert.ok(pw.logs.some((l) => l.event === 'console' && /the console has no admin yet: create one with `portwarden staff add NAME --role admin`/.test(String(l.msg))));
  assert.equal(pw.logs.find((l) => l.event === 'listening' && l.listener === 'console')?.tls, true);
  const root = await addStaff('Root', 'admin');
  assert.match(root.uri, /^otpauth:\/\/totp\/portwarden:root\?issuer=portwarden&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30$/);
  const ctx = await browser.context();
  const tab1 = await ctx.newPage();
  await tab1.goto(`${base}/`);
  assert.equal(new URL(tab1.url()).pathname, '/signin', 'not signed in: sent to /signin');
  await screenshot(tab1, 'console-signin');
  await tab1.getByLabel('Staff name').fill('root');
  await tab1.getByLabel('Password').fill(root.password);
  await tab1.getByRole('button', { name: 'Continue' }).click();
  assert.equal(new URL(tab1.url()).pathname, '/signin/code');
  await screenshot(tab1, 'console-totp');
  // A wrong code first (the code of ten minutes ago is outside the window).
  await tab1.getByLabel('Code').fill(codeNow(root.secret, -600_000));
  await tab1.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await tab1.locator('#code-error').innerText(), /That code is wrong, or it was used already/);
  await tab1.getByLabel('Code').fill(codeNow(root.secret));
  await tab1.getByRole('button', { name: 'Sign in' }).click();
  assert.equal(new URL(tab1.url()).pathname, '/signin/password', 'a generated password is changed first');
  await tab1.getByLabel('New password').fill('root chooses this passphrase');
  await tab1.getByLabel('The same password again').fill('root chooses this passphrase');
  await tab1.getByRole('button', { name: 'Save and go on' }).click();
  assert.equal(new URL(tab1.url()).pathname, '/');
  assert.equal(await tab1.locator('h1').innerText(), 'Console');
  assert.match(await tab1.locator('header').innerText(), /Signed in as root \(admin\)/);
  for (const area of ['Accounts', 'Queue', 'Cases', 'Exemptions', 'Network policy', 'Audit log', 'Charts', 'Staff']) {
    assert.equal(await tab1.locator('main').getByRole('link', { name: area, exact: true }).count(), 1, area);
  }
  await screenshot(tab1, 'console-home');

  const cookies = await ctx.cookies(base);
  const session = cookies.find((c) => c.name === '__Host-pw_console')!;
  assert.deepEqual([session.httpOnly, session.secure, session.sameSite, session.path, session.domain], [true, true, 'Strict', '/', '127.0.0.1']);

  // Two tabs of one session, both with the staff page open, both post.
  await tab1.goto(`${base}/staff`);
  const tab2 = await ctx.newPage();
  await tab2.goto(`${base}/staff`);
  await tab2.getByLabel('Name', { exact: true }).fill('desk.two');
  await tab2.getByLabel('Role').selectOption('desk');
  await tab2.getByRole('button', { name: 'Add', exact: true }).click();
  assert.match(await tab2.locator('main').innerText(), /desk\.two was added\.[\s\S]*otpauth:\/\/totp\/portwarden:desk\.two/);
  await tab1.getByLabel('Name', { exact: true }).fill('net.one');
  await tab1.getByLabel('Role').selectOption('netops');
  await tab1.getByRole('button', { name: 'Add', exact: true }).click();
  assert.match(await tab1.locator('main').innerText(), /net\.one was added\./, 'the older tab\'s form is still good');
  await tab1.goto(`${base}/staff`);
  await tab1.getByRole('button', { name: 'Disable desk.two' }).click();
  assert.match(await tab1.locator('main').innerText(), /desk\.two: disabled, their sessions ended\./);
  assert.equal(await tab1.getByRole('table').getByRole('rowheader').count(), 3);
  await screenshot(tab1, 'console-staff');

  // curl: the same session's cookie, a POST without _csrf: 403, nothing added.
  const noCsrf = await run('curl', ['-k', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-b', `__Host-pw_console=${session.value}`,
    '--data', 'name=sneaky&role=admin', `${base}/staff`]);
  assert.equal(noCsrf.stdout, '403');
  const list = JSON.parse((await pw.cli(['staff', 'list', '--json'])).stdout) as { staff: Array<{ name: string; disabledAt: number | null }> };
  assert.deepEqual(list.staff.map((u) => u.name), ['desk.two', 'net.one', 'root']);

  await tab2.getByRole('button', { name: 'Sign out' }).click();
  assert.equal(new URL(tab2.url()).pathname, '/signin');
  assert.match(await tab2.locator('main').innerText(), /You are signed out\./);
  await tab1.goto(`${base}/staff`);
  assert.equal(new URL(tab1.url()).pathname, '/signin', 'the other tab is signed out too: one session');
  await ctx.close();

  const audit = (await pw.cli(['audit', 'list', '--json'])).stdout;
  const rows = (JSON.parse(audit) as { entries: Array<{ actorKind: string; actor: string; action: string; outcome: string; from: string }> }).entries.reverse();
  const seen = rows.filter((r) => r.actor === 'root' && r.actorKind === 'staff').map((r) => `${r.actorKind} ${r.action} ${r.outcome}`);
  assert.deepEqual(seen, ['staff console.signin bad-code', 'staff console.signin ok', 'staff console.password ok', 'staff staff.add ok', 'staff staff.add ok', 'staff staff.disable ok', 'staff console.signout ok']);
  assert.ok(rows.filter((r) => r.actorKind === 'staff').every((r) => r.from === '127.0.0.1'));
});

test('curl: the cookies are __Host-, HttpOnly, Secure, SameSite=Strict, Path=/; the sign-in form needs its token', async () => {
  const head = await run('curl', ['-k', '-s', '-i', `${base}/signin`]);
  const pre = /^set-cookie: (__Host-pw_console_pre=[^;\r\n]+)(.*)$/mi.exec(head.stdout)!;
  assert.equal(pre[2].trim(), '; Path=/; HttpOnly; Secure; SameSite=Strict');
  const token = /name="_csrf" value="([^"]+)"/.exec(head.stdout)![1];
  const bare = await run('curl', ['-k', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--data', 'name=root&password=x', `${base}/signin`]);
  assert.equal(bare.stdout, '403', 'no pre-session cookie and token');
  const { password } = await addStaff('curl.user', 'desk');
  const step1 = await run('curl', ['-k', '-s', '-i', '-b', pre[1], '--data-urlencode', `_csrf=${token}`, '--data-urlencode', 'name=curl.user',
    '--data-urlencode', `password=${password}`, `${base}/signin`]);
  assert.match(step1.stdout, /^HTTP\/1\.1 303/);
  assert.match(step1.stdout, /^location: \/signin\/code\r?$/mi);
  assert.match(step1.stdout, /^set-cookie: __Host-pw_console=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict\r?$/mi);
  const headers = await run('curl', ['-k', '-s', '-D', '-', '-o', '/dev/null', `${base}/`]);
  assert.match(headers.stdout, /^HTTP\/1\.1 303/);
  assert.match(headers.stdout, /^location: \/signin\r?$/mi);
  const post = await run('curl', ['-k', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--data', 'x=1', `${base}/staff`]);
  assert.equal(post.stdout, '401', 'a POST without a session is 401');
});

test('a wrong password three times locks the name, told in words; the right one is then refused too; staff unlock ends it', async () => {
  const made = await addStaff('lock.me', 'postmaster');
  const ctx = await browser.context();
  const page = await ctx.newPage();
  const attempt = async (password: string) => {
    await page.goto(`${base}/signin`);
    await page.getByLabel('Staff name').fill('lock.me');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Continue' }).click();
  };
  for (let i = 0; i < 2; i++) {
    await attempt('not the password');
    assert.match(await page.locator('main [role=alert]').innerText(), /The name or the password is wrong/);
  }
  await attempt('not the password');
  assert.match(await page.locator('main [role=alert]').innerText(), /Too many failed sign-ins: signing in with this name or from this address is locked until \d\d:\d\d UTC \(about 15 minutes from now\)/);
  await attempt(made.password);
  assert.match(await page.locator('main [role=alert]').innerText(), /Too many failed sign-ins/, 'locked: the right password is not even checked');
  const shown = (await pw.cli(['staff', 'show', 'lock.me'])).stdout;
  assert.match(shown, /failures\s+3 \(locked until /);
  await pw.cli(['staff', 'unlock', 'lock.me']);
  await attempt(made.password);
  assert.equal(new URL(page.url()).pathname, '/signin/code');
  await ctx.close();
  const rows = (JSON.parse((await pw.cli(['audit', 'list', '--json'])).stdout) as { entries: Array<{ actor: string; action: string; outcome: string }> }).entries
    .filter((r) => r.actor === 'lock.me' || r.action === 'staff.unlock').reverse().map((r) => `${r.action} ${r.outcome}`);
  assert.deepEqual(rows, ['console.signin bad-password', 'console.signin bad-password', 'console.signin bad-password', 'console.lockout locked', 'console.signin locked', 'staff.unlock ok']);
});

test('SIGHUP: the console serves the renewed certificate to new connections', async () => {
  const fingerprint = (port: number): Promise<string> => new Promise((res, rej) => {
    const c = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => { res(c.getPeerCertificate().fingerprint256); c.destroy(); });
    c.on('error', rej);
  });
  const port = pw.port('console');
  const before = await fingerprint(port);
  const tls = join(pw.dir, 'data', 'tls');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=renewed.isp.example', '-keyout', join(tls, 'key.pem'), '-out', join(tls, 'cert.pem')], { stdio: 'ignore' });
  process.kill(pw.pid, 'SIGHUP');
  let now = before;
  for (const end = Date.now() + 5000; now === before && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 100));
    now = await fingerprint(port);
  }
  assert.notEqual(now, before);
  assert.equal(now, await fingerprint(pw.port('submissions')), 'the same certificate as the SMTP listeners');
});
