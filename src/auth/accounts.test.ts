import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountError } from './accounts.ts';
import { verifyPassword } from './hashes.ts';
import { kit } from './testkit.ts';

const code = (c: string) => (e: unknown) => e instanceof AccountError && e.code === c;

test('add, get, list, setPassword, disable/enable, remove', async () => {
  const k = await kit();
  try {
    const a = await k.accounts.add({ login: 'Alice@ISP.Example', password: 'hunter2', subscriber: 'cust-1', addresses: ['Alice.Smith@isp.example'] });
    assert.equal(a.login, 'alice@isp.example');
    assert.equal(a.subscriber, 'cust-1');
    assert.equal(a.tier, 'residential');
    assert.equal(a.status, 'active');
    assert.equal(a.scheme, 'argon2id');
    assert.equal(a.scram, true);
    assert.deepEqual(a.addresses, ['alice.smith@isp.example']);
    assert.equal(a.createdAt, k.clock.now());

    await k.accounts.add({ login: 'bob@isp.example', hash: '{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda', subscriber: 'cust-1', tier: 'business' });
    await k.accounts.add({ login: 'carol', password: 'x', subscriber: 'cust-2' });
    await assert.rejects(k.accounts.add({ login: 'ALICE@isp.example', password: 'y' }), code('exists'));
    await assert.rejects(k.accounts.add({ login: 'has space', password: 'y' }), code('invalid-login'));
    await assert.rejects(k.accounts.add({ login: 'dave', hash: '{PLAIN}pw' }), code('invalid-hash'));
    await assert.rejects(k.accounts.add({ login: 'dave', hash: '$1$x$y' }), code('invalid-hash'));
    await assert.rejects(k.accounts.add({ login: 'dave', password: 'a', hash: '$2y$x' }), code('invalid-password'));
    await assert.rejects(k.accounts.add({ login: 'dave', password: 'a', addresses: ['not an address'] }), code('invalid-address'));
    assert.equal((await k.accounts.get('dave')), null, 'nothing half-added');

    const bob = (await k.accounts.get('BOB@isp.example'))!;
    assert.deepEqual([bob.scheme, bob.scram, bob.tier], ['bcrypt', false, 'business']);
    assert.deepEqual((await k.accounts.list({ subscriber: 'cust-1' })).map((x) => x.login), ['alice@isp.example', 'bob@isp.example']);
    assert.deepEqual((await k.accounts.list({ limit: 1, after: 'alice@isp.example' })).map((x) => x.login), ['bob@isp.example']);

    k.clock.advance(1000);
    await k.accounts.setPassword('bob@isp.example', 'new-pass');
    const rec = (await k.accounts.authRecord('bob@isp.example'))!;
    assert.equal(await verifyPassword(rec.hash, 'new-pass'), true);
    assert.notEqual(rec.scram, null);
    assert.equal((await k.accounts.get('bob@isp.example'))!.updatedAt, k.clock.now());
    await assert.rejects(k.accounts.setPassword('nobody', 'x'), code('not-found'));

    await k.accounts.disable('carol', 'spam outbreak, case 42');
    assert.deepEqual([(await k.accounts.get('carol'))!.status, (await k.accounts.get('carol'))!.disabledReason], ['disabled', 'spam outbreak, case 42']);
    assert.deepEqual((await k.accounts.list({ status: 'disabled' })).map((x) => x.login), ['carol']);
    await k.accounts.enable('carol');
    assert.deepEqual([(await k.accounts.get('carol'))!.status, (await k.accounts.get('carol'))!.disabledReason], ['active', null]);
    await assert.rejects(k.accounts.disable('nobody', 'x'), code('not-found'));

    assert.equal((await k.accounts.remove('alice@isp.example')), true);
    assert.equal((await k.accounts.remove('alice@isp.example')), false);
    assert.equal((await k.store.db.get<{ n: number }>('SELECT count(*) AS n FROM account_addresses'))!.n, 0, 'addresses go with the account');
  } finally {
    k.done();
  }
});

test('mayUseAddress: login, listed addresses, @domain wildcards, case-insensitive', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'pw', addresses: ['sales@alice-shop.example'] });
    await k.accounts.add({ login: 'owner@isp.example', password: 'pw', addresses: ['@owner.example', '@Bücher.example'] });
    await k.accounts.add({ login: 'jsmith', password: 'pw' });
    const may = (l: string, a: string) => k.accounts.mayUseAddress(l, a);
    assert.equal(await may('alice@isp.example', 'alice@isp.example'), true);
    assert.equal(await may('ALICE@isp.example', 'Alice@ISP.EXAMPLE'), true, 'local part compared case-insensitively by policy');
    assert.equal(await may('alice@isp.example', 'SALES@alice-shop.example'), true);
    assert.equal(await may('alice@isp.example', 'bob@isp.example'), false);
    assert.equal(await may('alice@isp.example', 'other@alice-shop.example'), false);
    assert.equal(await may('owner@isp.example', 'anyone@owner.example'), true);
    assert.equal(await may('owner@isp.example', 'anyone@sub.owner.example'), false, 'a wildcard covers one domain, not its subdomains');
    assert.equal(await may('owner@isp.example', 'x@xn--bcher-kva.example'), true, 'IDN compared as A-labels');
    assert.equal(await may('owner@isp.example', 'x@BÜCHER.example'), true);
    assert.equal(await may('alice@isp.example', '@owner.example'), false, 'a wildcard is not an address');
    assert.equal(await may('alice@isp.example', ''), false, 'the null sender is the caller’s decision');
    assert.equal(await may('jsmith', 'jsmith'), false, 'a login that is not an address gives no address');
    assert.equal(await may('nobody@isp.example', 'nobody@other.example'), false);
    await k.accounts.addAddress('jsmith', 'John.Smith@isp.example');
    assert.equal(await may('jsmith', 'john.smith@isp.example'), true);
    assert.equal((await k.accounts.removeAddress('jsmith', 'JOHN.SMITH@isp.example')), true);
    assert.equal(await may('jsmith', 'john.smith@isp.example'), false);
    await assert.rejects(k.accounts.addAddress('nobody', 'a@b.example'), code('not-found'));
  } finally {
    k.done();
  }
});

const PASSWD = `# exported from the old shell server
alice@isp.example:{SHA512-CRYPT}$6$.kSZILn7BSuyWtak$li81Vr7BON4sq9oBanQ5og8qXyDhwrvvrI.tlt9zh7HuQQoBAP3eqlidQ9UAJwbFKUM91lkTD052mgPTjc54h0:1001:1001:cust-1::

bob@isp.example:{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda:1002:1002:cust-1:/home/bob::userdb_quota_rule=*:storage=1G
carol@isp.example:{SCRAM-SHA-256}4096,dfS24R4W1a9BQFeLGzXU7Q==,mFSL0twNczzP5Y8ejhf3WWjKr6OZlA2f9/rGY2X2jrc=,JFLNg0lF0BIQ9dBaWsxvkn1lf1gGbQCNwMOlN5EiN1o=:1003:1003:cust-2
dave@isp.example:{SSHA512}fSd8N795ZsRVvKV4VigRg2j+V54Qey8+UAeTWEe+QjZHSF+bys3fj8VsRLEEmgRQ23e6s6bhriIGWh9uGPl7qTp9D0g=
erin@isp.example:{PLAIN}pencil:1005:1005:cust-3
justaname
bob@isp.example:$2y$05$DLEDxwAkFKinFOScP6zaYet4TwiNHwhoTocp0m0vHWk/Naie5AKp2
frank@isp.example:::
existing@isp.example:$argon2id$v=19$m=65536,t=3,p=1$tADlz8mv7XqlUOTj/r0hhQ$2GM40KAVYQIL2CBsS4vPEp+Fo8UZgfrXF+m9N3kZkUc:1:1:x
`;

test('importDovecotPasswdFile imports good lines and reports bad ones by line number', async () => {
  const k = await kit();
  try {
    await k.accounts.add({ login: 'existing@isp.example', password: 'keep-me' });
    const r = await k.accounts.importDovecotPasswdFile(PASSWD, { subscriberFrom: 'gecos' });
    assert.equal(r.imported, 3);
    assert.deepEqual(r.skipped, [
      { line: 6, reason: 'unsupported scheme {SSHA512}' },
      { line: 7, reason: 'cleartext {PLAIN} password (import with allowPlain to hash it)' },
      { line: 8, reason: 'no password field' },
      { line: 9, reason: 'duplicate login bob@isp.example' },
      { line: 10, reason: 'empty password field' },
      { line: 11, reason: 'account existing@isp.example exists' },
    ]);
    assert.deepEqual((await k.accounts.list()).map((a) => [a.login, a.subscriber, a.scheme, a.scram]), [
      ['alice@isp.example', 'cust-1', 'sha512-crypt', false],
      ['bob@isp.example', 'cust-1', 'bcrypt', false],
      ['carol@isp.example', 'cust-2', 'scram-sha-256', true],
      ['existing@isp.example', 'existing@isp.example', 'argon2id', true],
    ]);
    assert.equal(await verifyPassword((await k.accounts.authRecord('carol@isp.example'))!.hash, 'pencil'), true);
    assert.equal(await verifyPassword((await k.accounts.authRecord('existing@isp.example'))!.hash, 'keep-me'), true, 'not overwritten');
  } finally {
    k.done();
  }
});

test('import with allowPlain hashes cleartext at once and warns; a store failure imports nothing', async () => {
  const k = await kit();
  try {
    const r = await k.accounts.importDovecotPasswdFile('erin@isp.example:{PLAIN}pencil:1005::x\n', { subscriberFrom: 'uid', allowPlain: true });
    assert.deepEqual(r, { imported: 1, skipped: [] });
    const rec = (await k.accounts.authRecord('erin@isp.example'))!;
    assert.match(rec.hash, /^\$argon2id\$/);
    assert.notEqual(rec.scram, null);
    assert.equal((await k.accounts.get('erin@isp.example'))!.subscriber, '1005');
    assert.ok(k.logger.records.some((x) => x.level === 'warn' && x.login === 'erin@isp.example'));

    // A trigger that fails on the second insert: the first must be rolled back with it.
    await k.store.db.run(`CREATE TRIGGER t_fail BEFORE INSERT ON accounts WHEN NEW.login = 'z2@isp.example' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    await assert.rejects(k.accounts.importDovecotPasswdFile('z1@isp.example:$2y$05$DLEDxwAkFKinFOScP6zaYet4TwiNHwhoTocp0m0vHWk/Naie5AKp2\nz2@isp.example:$2y$05$DLEDxwAkFKinFOScP6zaYet4TwiNHwhoTocp0m0vHWk/Naie5AKp2\n'), /disk says no/);
    assert.equal((await k.accounts.get('z1@isp.example')), null);
  } finally {
    k.done();
  }
});

test('import caps: bcrypt cost, SHA-crypt rounds and argon2 memory above the limits are refused, naming the line', async () => {
  const k = await kit({}, { hashCaps: { bcryptCost: 12, cryptRounds: 100_000 } });
  try {
    const r = await k.accounts.importDovecotPasswdFile([
      'ok@isp.example:{BLF-CRYPT}$2y$12$' + 'a'.repeat(53),
      'slow@isp.example:{BLF-CRYPT}$2y$13$' + 'a'.repeat(53),
      'ok2@isp.example:$6$rounds=100000$salt$' + 'b'.repeat(86),
      'slower@isp.example:{SHA256-CRYPT}$5$rounds=100001$salt$' + 'c'.repeat(43),
      'huge@isp.example:$argon2id$v=19$m=4194304,t=3,p=1$tADlz8mv7XqlUOTj/r0hhQ$2GM40KAVYQIL2CBsS4vPEp+Fo8UZgfrXF+m9N3kZkUc',
    ].join('\n') + '\n');
    assert.equal(r.imported, 2);
    assert.deepEqual(r.skipped, [
      { line: 2, reason: 'bcrypt cost 13 is above the limit of 12 (auth.maxBcryptCost)' },
      { line: 4, reason: 'sha256-crypt rounds=100001 is above the limit of 100000 (auth.maxCryptRounds)' },
      { line: 5, reason: 'argon2 memory 4194304 KiB is above the limit of 65536 KiB' },
    ]);
    await assert.rejects(k.accounts.add({ login: 'x@isp.example', hash: '$2b$13$' + 'a'.repeat(53) }), /bcrypt cost 13 is above the limit of 12/);
  } finally { k.done(); }
  const d = await kit();
  try {
    const r = await d.accounts.importDovecotPasswdFile('a:$2y$13$' + 'a'.repeat(53) + '\nb:$2y$14$' + 'a'.repeat(53) + '\nc:$6$rounds=200000$s$' + 'b'.repeat(86) + '\nd:$6$rounds=200001$s$' + 'b'.repeat(86) + '\n');
    assert.deepEqual(r.skipped.map((s) => s.line), [2, 4], 'defaults: bcrypt ≤ 13, rounds ≤ 200000');
  } finally { d.done(); }
});
