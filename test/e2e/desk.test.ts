// The desk's day through the real `portwarden start`, in a real Chromium: a desk
// member made with `portwarden staff add` signs in with password and TOTP, finds
// the case the CLI opened (a desk quarantine of a subscriber's static address),
// releases it with a reason; the walled garden empties and the audit log names
// the person, their role's kind and their address. Then the same person is refused
// a change outside the desk's role, in words.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWithSink, type Portwarden } from '../lib/portwarden.ts';
import type { CaptureSink } from '../lib/sink.ts';
import { launchBrowser, screenshot, type TestBrowser } from '../lib/browser.ts';
import { needTools, until } from '../lib/tools.ts';
import { addStaff, firstSignIn } from '../lib/console.ts';

const skip = needTools('chromium');
let pw: Portwarden;
let sink: CaptureSink;
let browser: TestBrowser;
let base: string;

before(async () => {
  if (skip) return;
  ({ pw, sink } = await startWithSink({ extraYaml: 'console:\n  listen: 127.0.0.1:0\nabuse: {noticeListen: "127.0.0.1:0"}' }));
  base = `https://127.0.0.1:${pw.port('console')}`;
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await pw?.destroy(); await sink?.close(); });

const json = async <T>(args: string[]): Promise<T> => JSON.parse((await pw.cli([...args, '--json'])).stdout) as T;

test('a desk member signs in with TOTP and releases a quarantine case; the garden empties; the audit names them', { skip }, async () => {
  const dora = await addStaff(pw, 'dora', 'desk');
  await pw.cli(['subscriber', 'put', 'sub-d', '--contact', 'd@home.example']);
  await pw.cli(['address', 'assign', 'sub-d', '198.51.100.40', '--static', '--reason', 'business line']);
  const q = (await pw.cli(['case', 'quarantine', 'sub-d', '--reason', 'spam complaint by phone', '--duration', '1h'])).stdout;
  const id = /^(c\d+): quarantined/.exec(q)?.[1];
  assert.ok(id, q);
  // The decision is the case's at once; the enforcer puts the address in the garden right after.
  await until(async () => (await json<Array<{ prefix: string }>>(['policy', 'quarantine', 'list'])).map((g) => g.prefix).join() === '198.51.100.40', 'the address in the garden', 10_000, 100);

  const page = await (await browser.context()).newPage();
  await page.goto(`${base}/cases`);
  assert.equal(new URL(page.url()).pathname, '/signin');
  await firstSignIn(page, base, dora, 'dora keeps the desk tidy');

  await page.goto(`${base}/cases`);
  // Every area's pages carry the frame: the desk role's areas and the sign-out button.
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1);
  assert.deepEqual(await page.locator('header nav a').allInnerTexts(), ['Home', 'Accounts', 'Subscribers', 'Queue', 'Cases', 'Exemptions', 'Network policy', 'Audit log', 'Charts']);
  await page.getByRole('link', { name: id }).click();
  await page.getByRole('textbox', { name: /^Reason/ }).fill('customer called back: the printer was the bot, unplugged');
  await page.getByRole('button', { name: 'Release the subscriber' }).click();
  assert.equal(await page.getByRole('status').textContent(), 'Case released.');
  await screenshot(page, 'desk-case-released');
  assert.deepEqual(await json(['policy', 'quarantine', 'list']), [], 'the release reached the policy store');
  const audit = await json<{ entries: Array<{ actorKind: string; actor: string; from: string; reason: string; outcome: string }> }>(['audit', 'list', '--action', 'cases.release']);
  assert.deepEqual(audit.entries.map((e) => [e.actorKind, e.actor, e.from, e.reason, e.outcome]),
    [['staff', 'dora', '127.0.0.1', 'customer called back: the printer was the bot, unplugged', 'ok']]);
  const shown = await json<{ state: string; active: unknown[] }>(['case', 'show', id]);
  assert.deepEqual(shown.active, [], 'nothing in force any more');
});
