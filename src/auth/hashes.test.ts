import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseOptions } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { needTools } from '../../test/lib/tools.ts';
import { checkPassword, hashPassword, identifyHash, needsRehash, verifyPassword } from './hashes.ts';
import { deriveScramCredentials, parseDovecotScram, saslprep } from './scram-keys.ts';

// Made by real tools on Debian 13 (commands beside each); password "pencil" unless noted.
const VECTORS: Array<{ origin: string; hash: string; password: string }> = [
  { origin: 'openssl passwd -6 -salt xyz pw', password: 'pw', hash: '$6$xyz$m/EAasXKOiw7Kn4MJD.ojrYD8gcuglP7NXfztPlCnnqp4yt4FwXQlo5GSPXN.lDaK4yLlzGIkOBDDieJfkvG0/' },
  { origin: "openssl passwd -6 -salt 'rounds=1000$abc'", password: 'pencil', hash: '$6$rounds=1000$abc$jFKCbdKeBKuQWVQJewJb6a9rRnUC9Ne02oQ7fc6fZLsEOCpWz4Rl3Ds.Ota0X0gtYkxoulMm6R8bd4eUMb3sb0' },
  { origin: 'openssl passwd -5 -salt xyz pw', password: 'pw', hash: '$5$xyz$GThsFlf.6Kgn9GfWZZb/r.S/cgrKqSXg9VH2k3/DMV7' },
  { origin: 'doveadm pw -s SHA512-CRYPT', password: 'pencil', hash: '{SHA512-CRYPT}$6$.kSZILn7BSuyWtak$li81Vr7BON4sq9oBanQ5og8qXyDhwrvvrI.tlt9zh7HuQQoBAP3eqlidQ9UAJwbFKUM91lkTD052mgPTjc54h0' },
  { origin: 'doveadm pw -s SHA512-CRYPT -r 10000', password: 'pencil', hash: '{SHA512-CRYPT}$6$rounds=10000$XieS2bwfM/GouQZq$y9LkHnywZE2sy4bntI5EFM203XsaJALq38hkKLsPb7B5/cp55a7l4ja0dio8bqL.ERYPfvipwZfSXG8iI/tt3/' },
  { origin: 'doveadm pw -s SHA256-CRYPT', password: 'Pässwörd ü', hash: '{SHA256-CRYPT}$5$sssak/I9HLAHKVN3$TpNRxDSKpZn8yvwkQdf4Flq3mBqB86wv4UTqQdrkb9C' },
  { origin: 'doveadm pw -s BLF-CRYPT', password: 'pencil', hash: '{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda' },
  { origin: 'doveadm pw -s CRYPT (bcrypt)', password: 'pencil', hash: '{CRYPT}$2y$05$Nv5953qJQd8A6Iiz7Qa0fOlGP03.IK4S0hg4p.8RDGmylIg/48gie' },
  { origin: 'doveadm BLF-CRYPT, prefix removed', password: 'pencil', hash: '$2y$05$DLEDxwAkFKinFOScP6zaYet4TwiNHwhoTocp0m0vHWk/Naie5AKp2' },
  { origin: 'crypt_blowfish test vector (Openwall)', password: 'U*U', hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' },
  { origin: 'doveadm pw -s ARGON2ID', password: 'pencil', hash: '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$DipnQfC/mz6XHfFtmjb40w$ve27egLwyq04dX924CGxuQIGQhi2yKotIZqQORgSTx8' },
  { origin: 'doveadm ARGON2ID, prefix removed', password: 'pencil', hash: '$argon2id$v=19$m=65536,t=3,p=1$tADlz8mv7XqlUOTj/r0hhQ$2GM40KAVYQIL2CBsS4vPEp+Fo8UZgfrXF+m9N3kZkUc' },
  { origin: 'doveadm pw -s SCRAM-SHA-256', password: 'pencil', hash: '{SCRAM-SHA-256}4096,dfS24R4W1a9BQFeLGzXU7Q==,mFSL0twNczzP5Y8ejhf3WWjKr6OZlA2f9/rGY2X2jrc=,JFLNg0lF0BIQ9dBaWsxvkn1lf1gGbQCNwMOlN5EiN1o=' },
];

test('hashes made by real tools verify, and wrong passwords do not', async () => {
  for (const v of VECTORS) {
    assert.equal(await verifyPassword(v.hash, v.password), true, v.origin);
    assert.equal(await verifyPassword(v.hash, `${v.password}x`), false, v.origin);
    assert.equal(await verifyPassword(v.hash, ''), false, v.origin);
  }
});

test('the scheme is recognised with and without the Dovecot prefix', async () => {
  const schemes = VECTORS.map((v) => { const r = identifyHash(v.hash); return 'error' in r ? r.error : r.scheme; });
  assert.deepEqual(schemes, [
    'sha512-crypt', 'sha512-crypt', 'sha256-crypt', 'sha512-crypt', 'sha512-crypt', 'sha256-crypt',
    'bcrypt', 'bcrypt', 'bcrypt', 'bcrypt', 'argon2id', 'argon2id', 'scram-sha-256',
  ]);
});

test('unknown and unreadable hashes fail with a reason instead of throwing', async () => {
  const cases: Array<[string, RegExp]> = [
    ['{SSHA512}fSd8N795ZsRVvKV4VigRg2j+V54Qey8+UAeTWEe+QjZHSF+bys3fj8VsRLEEmgRQ23e6s6bhriIGWh9uGPl7qTp9D0g=', /unsupported scheme \{SSHA512\}/],
    ['$1$abc$abcdefghijklmnopqrstuv', /unsupported crypt variant \$1\$/],
    ['', /empty hash/],
    ['not a hash', /unrecognised/],
    ['$argon2id$v=19$m=19456,t=2,p=1$bad', /unreadable argon2id/],
    ['{SCRAM-SHA-256}4096,abc', /malformed \{SCRAM-SHA-256\}/],
  ];
  for (const [hash, reason] of cases) {
    const r = await checkPassword(hash, 'pencil');
    assert.equal(r.ok, false, hash);
    assert.match(r.ok ? '' : r.reason, reason, hash);
  }
});

test('{PLAIN} only verifies when allowed', async () => {
  const r = await checkPassword('{PLAIN}pencil', 'pencil');
  assert.deepEqual(r, { ok: false, scheme: 'plain', reason: 'cleartext {PLAIN} hashes are not allowed', ms: 0 });
  assert.equal(await verifyPassword('{PLAIN}pencil', 'pencil', { allowPlain: true }), true);
  assert.equal(await verifyPassword('{PLAIN}pencil', 'pencil2', { allowPlain: true }), false);
  assert.equal(await verifyPassword('{CLEAR}pencil', 'pencil', { allowPlain: true }), true);
});

test('hashPassword makes argon2id with OWASP parameters (m=7168, t=5: the low-memory end)', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
  const o = parseOptions(h);
  assert.deepEqual([o.memoryCost, o.timeCost, o.parallelism], [7168, 5, 1]);
  assert.equal(await verifyPassword(h, 'correct horse'), true);
  assert.equal(await verifyPassword(h, 'correct horsE'), false);
  assert.equal(needsRehash(h), false);
  // The older OWASP default is as strong (more memory, fewer passes): not rehashed.
  assert.equal(needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$UN4OPfEM7R5c6xRtZu0DyaWRG8u5kU2bCjDbyKdM7OE'), false);
  assert.equal(needsRehash(VECTORS[0].hash), true);
  assert.equal(needsRehash(`{ARGON2ID}${h}`), true, 'store the bare PHC string after a rehash');
  assert.equal(needsRehash('$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$UN4OPfEM7R5c6xRtZu0DyaWRG8u5kU2bCjDbyKdM7OE'), true);
});

test('bcrypt hashes from bcryptjs itself ($2b$) verify', async () => {
  const h = bcrypt.hashSync('pencil', 4);
  assert.match(h, /^\$2b\$04\$/);
  assert.equal(await verifyPassword(h, 'pencil'), true);
});

test('SCRAM keys we derive match the ones Dovecot derives', async () => {
  const dove = parseDovecotScram(VECTORS.at(-1)!.hash.slice('{SCRAM-SHA-256}'.length))!;
  const ours = await deriveScramCredentials('pencil', { salt: Buffer.from(dove.salt, 'base64'), iterations: dove.iterations });
  assert.deepEqual(ours, dove);
});

test('SASLprep maps spaces and soft hyphens, and refuses control characters (RFC 4013 §3)', async () => {
  assert.equal(saslprep('I\u00ADX'), 'IX');
  assert.equal(saslprep('user'), 'user');
  assert.equal(saslprep('USER'), 'USER');
  assert.equal(saslprep('\u00AA'), 'a');
  assert.equal(saslprep('\u2168'), 'IX');
  assert.equal(saslprep('a\u00A0b'), 'a b');
  assert.equal(saslprep('\u0007'), null);
});

test('hashes made now by doveadm verify', { skip: needTools('doveadm') }, async () => {
  const pw = `pw-${process.pid}-ü`;
  // -r is the scheme's own cost: bcrypt log2 rounds, argon2 passes, crypt rounds, SCRAM iterations.
  const rounds: Record<string, string> = { 'ARGON2ID': '2', 'BLF-CRYPT': '5', 'SHA512-CRYPT': '5000', 'SHA256-CRYPT': '5000', 'SCRAM-SHA-256': '4096' };
  for (const [scheme, r] of Object.entries(rounds)) {
    const h = execFileSync('doveadm', ['-c', '/dev/null', 'pw', '-s', scheme, '-r', r, '-p', pw], { encoding: 'utf8', timeout: 10_000 }).trim();
    assert.equal(await verifyPassword(h, pw), true, h);
    assert.equal(await verifyPassword(h, pw.toUpperCase()), false, h);
  }
});

test('hashes made now by openssl passwd verify', { skip: needTools('openssl') }, async () => {
  for (const flag of ['-5', '-6']) {
    const h = execFileSync('openssl', ['passwd', flag, '-salt', `s${process.pid}`, 'pencil'], { encoding: 'utf8', timeout: 10_000 }).trim();
    assert.equal(await verifyPassword(h, 'pencil'), true, h);
    assert.equal(await verifyPassword(h, 'Pencil'), false, h);
  }
});
