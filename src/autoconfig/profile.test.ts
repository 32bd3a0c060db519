// The Apple mail profile: the plist's keys, escaping, stable UUIDs, no password key; the CMS signature (openssl verifies it in test/e2e/autoconfig.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Autoconfig, nameUuid, reverseDns, profileFileName } from './index.ts';

const incoming = [{ type: 'imap' as const, hostname: 'imap.isp.example', port: 993, socketType: 'SSL' as const }];
const ac = new Autoconfig({ domains: ['isp.example', 'second.example'], server: 'msa.isp.example', starttlsPort: 587, tlsPort: 465, displayName: 'ISP <Mail> & "Co"', incoming });

const profile = (addr: string) => {
  const p = ac.profile(addr);
  assert.ok(p.ok, JSON.stringify(p));
  return p;
};
const keyValue = (plist: string, key: string) => new RegExp(`<key>${key}</key>\\n\\s*<(?:string|integer)>([^<]*)</`).exec(plist)?.[1];

test('profile: com.apple.mail.managed, outgoing = submission on 465 with SSL and password auth, incoming from autoconfig.incoming', () => {
  const { plist, fileName } = profile('Alice@ISP.example');
  assert.equal(keyValue(plist, 'PayloadType'), 'Configuration');
  assert.match(plist, /<key>PayloadType<\/key>\n\s*<string>com\.apple\.mail\.managed<\/string>/);
  assert.equal(keyValue(plist, 'OutgoingMailServerHostName'), 'msa.isp.example');
  assert.equal(keyValue(plist, 'OutgoingMailServerPortNumber'), '465');
  assert.match(plist, /<key>OutgoingMailServerUseSSL<\/key>\n\s*<true\/>/);
  assert.equal(keyValue(plist, 'OutgoingMailServerAuthentication'), 'EmailAuthPassword');
  assert.equal(keyValue(plist, 'OutgoingMailServerUsername'), 'Alice@isp.example');
  assert.equal(keyValue(plist, 'EmailAccountType'), 'EmailTypeIMAP');
  assert.equal(keyValue(plist, 'IncomingMailServerHostName'), 'imap.isp.example');
  assert.equal(keyValue(plist, 'IncomingMailServerPortNumber'), '993');
  assert.equal(keyValue(plist, 'IncomingMailServerUsername'), 'Alice@isp.example');
  assert.match(keyValue(plist, 'PayloadIdentifier') ?? '', /^example\.isp\.mobileconfig\./);
  assert.equal(fileName, 'Alice_isp.example.mobileconfig');
});

test('profile: never a password key (the device asks)', () => {
  const { plist } = profile('bob@isp.example');
  assert.doesNotMatch(plist, /<key>[^<]*Password[^<]*<\/key>/i);
  assert.doesNotMatch(plist, /IncomingPassword|OutgoingPassword/);
});

test('profile: every configured text is escaped', () => {
  const { plist } = profile('bob@isp.example');
  assert.match(plist, /<string>ISP &lt;Mail&gt; &amp; &quot;Co&quot; mail<\/string>/);
  assert.doesNotMatch(plist, /<Mail>|& "/);
});

test('profile: UUIDs stable per address (re-install replaces), different between addresses and domains, v5-shaped', () => {
  const a1 = profile('carol@isp.example').plist, a2 = profile('carol@ISP.example').plist;
  assert.equal(a1, a2);
  const uuids = (p: string) => [...p.matchAll(/<key>PayloadUUID<\/key>\n\s*<string>([^<]+)</g)].map((m) => m[1]);
  const u = uuids(a1);
  assert.equal(u.length, 2);
  assert.notEqual(u[0], u[1]);
  for (const x of u) assert.match(x, /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  assert.notDeepEqual(uuids(profile('dave@isp.example').plist), u);
  assert.notDeepEqual(uuids(profile('carol@second.example').plist), u);
  assert.equal(nameUuid('x'), nameUuid('x'));
  assert.equal(reverseDns('Mail.ISP.example'), 'example.isp.mail');
});

test('profile: hostile address 400 (not echoed), unknown domain 404, none 400, no incoming server 409', () => {
  for (const bad of ['a<b>@isp.example', 'a&b@isp.example', '"a"@isp.example', 'a@isp.example</string>']) {
    const r = ac.profile(bad);
    assert.ok(!r.ok && r.answer.status === 400, bad);
    assert.ok(!r.answer.body.includes(bad));
  }
  const u = ac.profile('a@other.example');
  assert.ok(!u.ok && u.answer.status === 404);
  const n = ac.profile(undefined);
  assert.ok(!n.ok && n.answer.status === 400);
  const none = new Autoconfig({ ...ac.o, incoming: [] }).profile('a@isp.example');
  assert.ok(!none.ok && none.answer.status === 409 && /autoconfig\.incoming/.test(none.answer.body));
  assert.equal(profileFileName('a/../b"c@isp.example'), 'a_.._b_c_isp.example.mobileconfig');
});

test('signer: a key that is not the certificate\'s, or no certificate, is refused (start stops with the reason)', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { pemSigner } = await import('./index.ts');
  const dir = mkdtempSync(join(tmpdir(), 'pw-signer-'));
  try {
    const gen = (n: string) => execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=t', '-keyout', join(dir, `${n}.key`), '-out', join(dir, `${n}.pem`)], { stdio: 'ignore' });
    gen('a'); gen('b');
    const pem = (f: string) => readFileSync(join(dir, f), 'utf8');
    await assert.rejects(pemSigner(pem('a.pem'), pem('b.key')), /does not belong to the certificate/);
    await assert.rejects(pemSigner('', pem('a.key')), /no certificate/);
    const s = await pemSigner(pem('a.pem'), pem('a.key'));
    assert.equal((await s.sign(Buffer.from('x')))[0], 0x30);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
