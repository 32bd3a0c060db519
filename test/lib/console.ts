// The console's first sign-in as the e2e tests do it: a staff user made with
// `portwarden staff add` (its generated password and TOTP secret read from the
// output), then /signin, the code, and the forced change of the password.
import assert from 'node:assert/strict';
import { TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import type { Portwarden } from './portwarden.ts';

export interface MadeStaff { name: string; role: string; password: string; secret: string }

export async function addStaff(pw: Portwarden, name: string, role: string): Promise<MadeStaff> {
  const out = (await pw.cli(['staff', 'add', name, '--role', role])).stdout;
  return { name, role, password: /^password:\s+(\S+)/m.exec(out)![1], secret: /^TOTP secret:\s+([A-Z2-7]+)/m.exec(out)![1] };
}

/** Signs `s` in on the console at `base` (the page may start anywhere), choosing `newPassword`. */
export async function firstSignIn(page: Page, base: string, s: MadeStaff, newPassword: string): Promise<void> {
  if (new URL(page.url()).pathname !== '/signin') await page.goto(`${base}/signin`);
  await page.getByLabel('Staff name').fill(s.name);
  await page.getByLabel('Password').fill(s.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Code').fill(TOTP.generate({ secret: new TOTP({ secret: s.secret }).secret, algorithm: 'SHA1', digits: 6, period: 30 }));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('New password').fill(newPassword);
  await page.getByLabel('The same password again').fill(newPassword);
  await page.getByRole('button', { name: 'Save and go on' }).click();
  assert.match(await page.locator('header').innerText(), new RegExp(`Signed in as ${s.name} \\(${s.role}\\)`));
}
