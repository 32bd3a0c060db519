import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, sign, verify } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../core/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { authorDomain, dkimKeygen, dnsRecord, DkimSigner, runDkimCommand } from './index.ts';

test('rsa keygen: 2048 bits, SPKI in p=, TXT cut into ≤255-octet strings', () => {
  const k = dkimKeygen({ domain: 'Example.COM', selector: 'sel1', algorithm: 'rsa' });
  assert.equal(k.dnsName, 'sel1._domainkey.example.com');
  assert.equal(createPublicKey(k.privateKeyPem).asymmetricKeyDetails?.modulusLength, 2048);
  assert.match(k.txt, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
  assert.ok(k.txtStrings.length >= 2, 'a 2048-bit key does not fit one character-string');
  assert.ok(k.txtStrings.every((s) => s.length <= 255));
  assert.equal(k.txtStrings.join(''), k.txt);
  assert.equal(k.zoneLine, `sel1._domainkey.example.com. IN TXT ( ${k.txtStrings.map((s) => `"${s}"`).join(' ')} )`);
  const p = k.txt.split('p=')[1];
  const pub = createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' });
  assert.deepEqual(pub.export({ format: 'jwk' }), createPublicKey(k.privateKeyPem).export({ format: 'jwk' }));
  assert.equal(k.key.algorithm, 'rsa-sha256');
});

test('ed25519 keygen: p= is the bare 32-byte key (RFC 8463) and checks a signature', () => {
  const k = dkimKeygen({ domain: 'example.net', selector: 'ed', algorithm: 'ed25519' });
  const p = Buffer.from(k.txt.match(/p=(.*)$/)![1], 'base64');
  assert.equal(p.length, 32);
  assert.equal(k.txtStrings.length, 1);
  const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: p.toString('base64url') }, format: 'jwk' });
  const signer = new DkimSigner({ keys: [k.key] });
  assert.equal(signer.signingDomainFor('x@example.net')?.selector, 'ed');
  // the published key verifies what the private key signs
  const data = Buffer.from('data');
  assert.ok(verify(null, data, pub, sign(null, data, k.privateKeyPem)));
  assert.throws(() => dkimKeygen({ domain: 'nodots', selector: 'x', algorithm: 'ed25519' }), /fully qualified/);
  assert.equal(dnsRecord('example.net', 'ed', k.privateKeyPem).txt, k.txt);
});

test('authorDomain reads the author domain of a From value', () => {
  const cases: Array<[string, string | null]> = [
    [' alice@Example.COM', 'example.com'],
    [' "Doe, Alice" <alice@example.com>', 'example.com'],
    [' "a@evil.example" <alice@example.com>', 'example.com'],
    [' "odd@local"@example.com', 'example.com'],
    [' alice@example.com (Alice <alice@evil.example>)', 'example.com'],
    [' Alice <alice@example.com.>', 'example.com'],
    [' =?utf-8?q?Al=C3=AFce?= <alice@bücher.example>', 'xn--bcher-kva.example'],
    [' team: a@example.com, b@example.com;', 'example.com'],
    [' a@example.com, b@other.example', null],
    [' alice@[192.0.2.1]', null],
    [' undisclosed', null],
    ['', null],
  ];
  for (const [v, want] of cases) assert.equal(authorDomain(v), want, v);
});

test('portwarden dkim keygen writes a 0600 key under dataDir and prints the record', async () => {
  const dir = tempDir();
  try {
    const out: string[] = [];
    const err: string[] = [];
    const ctx = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), dataDir: dir.path, clock: new ManualClock(Date.UTC(2026, 2, 5)) };
    assert.equal(await runDkimCommand(['keygen', 'Example.com', '--algorithm', 'ed25519'], ctx), 0, err.join('\n'));
    const file = join(dir.path, 'dkim', 'example.com', 'pw202603.pem');
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir.path, 'dkim', 'example.com')).mode & 0o077, 0);
    const rec = dnsRecord('example.com', 'pw202603', readFileSync(file, 'utf8'));
    assert.ok(out.includes(rec.zoneLine), out.join('\n'));
    assert.ok(out.some((l) => l.includes('pw202603._domainkey.example.com')));

    // the same selector again would replace a published key: refused
    err.length = 0;
    assert.equal(await runDkimCommand(['keygen', 'example.com', '--algorithm', 'ed25519'], ctx), 1);
    assert.match(err.join('\n'), /exists/);

    out.length = 0;
    assert.equal(await runDkimCommand(['record', 'example.com', '--selector', 'pw202603'], ctx), 0);
    assert.ok(out.includes(rec.zoneLine));

    const other = join(dir.path, 'elsewhere');
    assert.equal(await runDkimCommand(['keygen', 'example.org', '--selector', 's2026', '--out', other], ctx), 0);
    const pem = readFileSync(join(other, 's2026.pem'), 'utf8');
    assert.equal(createPublicKey(pem).asymmetricKeyType, 'rsa');

    assert.equal(await runDkimCommand(['keygen', 'example.org', '--algorithm', 'dsa'], ctx), 2);
    assert.equal(await runDkimCommand(['keygen'], ctx), 2);
    assert.equal(await runDkimCommand(['frobnicate'], ctx), 2);
    assert.equal(await runDkimCommand(['record', 'example.com', '--selector', 'none'], ctx), 1);
    assert.equal(await runDkimCommand(['--help'], ctx), 0);
  } finally {
    dir.remove();
  }
});
