// The console's pages in a real Chromium (Debian's, through playwright-core)
// against the real listener on a real app layer: a person fills the forms and
// clicks, and sees the result — an account created and refused, messages held
// and a desk's delete refused in words, a case noted and released, the policy
// and the audit log. Screenshots: test-output/screenshots/console-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CHROMIUM, launchBrowser, screenshot } from '../../../test/lib/browser.ts';
import { consoleRig } from '../../../test/lib/console-app.ts';

const skip = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}`;

test('the console in Chromium: accounts, queue, cases, policy and audit by hand', { skip, timeout: 120_000 }, async (t) => {
  const r = await consoleRig();
  t.after(() => r.close());
  const b = await launchBrowser();
  t.after(() => b.close());
  const ctx = await b.context();
  const page = await ctx.newPage();
  const scripts: string[] = [];
  page.on('dialog', (d) => { scripts.push(d.message()); void d.dismiss(); });

  // Accounts: create one by hand, then a refused sender address keeps what was typed.
  await page.goto(`${r.url}/accounts`);
  const create = page.getByRole('form', { name: 'Create account' });
  await create.getByLabel('Login').fill('bob@isp.example');
  await create.getByLabel('Password').fill('a long password here');
  await create.getByLabel('Subscriber').fill('sub-1');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/accounts\/bob%40isp\.example\?done=added$/);
  assert.equal(await page.getByRole('status').textContent(), 'Account created.');
  await r.send('bob@isp.example', 12, 3); // the MSA's charges for 12 messages: the page shows what is left
  await page.getByLabel('Address', { exact: true }).fill('@bob.example');
  await page.getByRole('button', { name: 'Add address' }).click();
  await page.getByRole('cell', { name: '@bob.example' }).waitFor();
  await page.getByLabel('Address', { exact: true }).fill('not an address');
  await page.getByRole('button', { name: 'Add address' }).click();
  assert.match(await page.locator('#alias-add-address-error').textContent() ?? '', /^That is not a valid mail address/);
  assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), 'not an address');
  assert.equal(await page.locator('tr', { hasText: 'messages-hour' }).locator('td').nth(6).textContent(), '88', 'the limits with their live state');
  await screenshot(page, 'console-account');
  await r.app.accounts!.add({ login: 'carol@isp.example', password: 'a long password here', subscriber: 'sub-2', tier: 'business' });
  await page.goto(`${r.url}/accounts`);
  await page.getByRole('link', { name: 'carol@isp.example' }).waitFor();
  await screenshot(page, 'console-accounts');

  // Queue: hold two selected messages; a desk's delete is refused in words; the message's headers are text.
  const evil = await r.queue({ from: 'bob@isp.example', to: 'dave@example.net', account: 'bob@isp.example', subject: '<script>alert(1)</script><img src=x onerror=alert(2)>' });
  const plain = await r.queue({ from: 'carol@isp.example', to: 'erin@example.net', account: 'carol@isp.example', subject: 'minutes' });
  await page.goto(`${r.url}/queue`);
  await page.getByLabel(`Select message ${evil}`).check();
  await page.getByLabel(`Select message ${plain}`).check();
  await page.locator('#act-reason').fill('checking a complaint');
  await page.getByRole('button', { name: 'Hold' }).click();
  assert.equal(await page.getByRole('status').textContent(), 'Hold: 2 messages done.');
  r.gate.who = { name: 'dora', role: 'desk' };
  await page.getByLabel(`Select message ${plain}`).check();
  await page.getByRole('button', { name: 'Delete' }).click();
  assert.equal(await page.locator('#act-error').textContent(), 'Your role (desk) may not delete messages from the queue.');
  assert.ok(await page.getByLabel(`Select message ${plain}`).isChecked(), 'the selection is kept');
  assert.equal((await r.spool.stats()).hold, 2, 'nothing deleted');
  await screenshot(page, 'console-queue');
  await page.getByRole('link', { name: evil }).click();
  const headers = await page.locator('pre').textContent() ?? '';
  assert.match(headers, /Subject: <script>alert\(1\)<\/script><img src=x onerror=alert\(2\)>/, 'shown as text');
  assert.equal(await page.locator('main script, main img').count(), 0, 'never markup');
  await screenshot(page, 'console-message');

  // Cases: a bot quarantined by the engine; the desk (dora) adds a note and releases it, giving a reason.
  await r.directory.putSubscriber({ id: 'sub-1', tier: 'residential', contacts: ['bob@home.example'] });
  await r.directory.assign({ subscriber: 'sub-1', prefix: '198.51.100.7', portLo: null, portHi: null, start: r.clock.now(), end: null, source: 'api', session: null });
  await r.bot('198.51.100.7', 40);
  await page.goto(`${r.url}/cases`);
  await page.getByRole('cell', { name: 'notify, quarantine' }).waitFor();
  await screenshot(page, 'console-cases');
  await page.getByRole('link', { name: 'c1' }).click();
  await page.getByRole('textbox', { name: 'Note' }).fill('phoned the customer; the laptop is being cleaned');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByRole('cell', { name: 'phoned the customer; the laptop is being cleaned' }).waitFor();
  await page.getByRole('textbox', { name: /^Reason/ }).fill('customer cleaned the laptop');
  await page.getByRole('button', { name: 'Release the subscriber' }).click();
  assert.equal(await page.getByRole('status').textContent(), 'Case released.');
  assert.equal((await r.app.policy!.listQuarantines()).length, 0, 'the quarantine reached the policy store and left it');
  await page.getByRole('cell', { name: 'staff:dora' }).first().waitFor();
  await screenshot(page, 'console-case');

  // Policy: an exemption granted by a netops person; the audit log filtered to the desk.
  r.gate.who = { name: 'nina', role: 'netops' };
  const why = { actor: 'staff:nina', reason: 'roll-out' };
  await r.app.policy!.addPool('198.51.100.0/24', 'dynamic', 'DSL pool', why);
  await r.app.policy!.addPool('203.0.113.0/24', 'business', 'fibre business', why);
  await r.app.policy!.addRelay('192.0.2.25', 'provider', '', 'outbound MX', why);
  await r.app.policy!.addGarden('192.0.2.80', 'tcp', '80,443', 'help pages', why);
  await page.goto(`${r.url}/policy`);
  await page.getByText('Grant exemption').first().click();
  await page.locator('#add-exemptions-prefix').fill('198.51.100.25');
  await page.locator('#add-exemptions-customer').fill('sub-1');
  await page.locator('#add-exemptions-reason').fill('runs its own mail server');
  await page.getByRole('button', { name: 'Grant exemption' }).click();
  await page.getByRole('cell', { name: '198.51.100.25' }).waitFor();
  await screenshot(page, 'console-policy');
  await page.goto(`${r.url}/audit`);
  await page.getByLabel('Actor').fill('dora');
  await page.getByLabel('Outcome').fill('forbidden');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('cell', { name: 'forbidden' }).waitFor();
  assert.equal(await page.locator('tbody tr').count(), 1, "the desk's refused delete alone");
  await page.goto(`${r.url}/audit`);
  await screenshot(page, 'console-audit');
  assert.deepEqual(scripts, [], 'no script ran');
});
