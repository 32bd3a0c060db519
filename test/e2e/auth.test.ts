// Issue 10 items 4–6 through the real `portwarden` process: brute force keyed on
// the login as auth normalises it, the lock consulted before the password and
// answered the same whatever the password, known source prefixes kept apart from
// unknown ones, imported hashes capped and rehashed to argon2id, and SCRAM fake
// salts that look like real accounts' and survive a restart. Clients: Python's
// smtplib (bound to chosen loopback source addresses) and a raw SCRAM client-first.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, startWithSink, run } from '../lib/portwarden.ts';
import { RawClient, b64 } from '../lib/smtpclient.ts';
import { needTools } from '../lib/tools.ts';

const skip = needTools('python3');

// One connection per attempt, from a chosen source address; AUTH PLAIN sent as UTF-8
// (smtplib's own login() encodes ASCII only), the reply line reported as it came.
const PY = `
import json, smtplib, ssl, sys, base64
port, attempts = int(sys.argv[1]), json.loads(sys.argv[2])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = []
for a in attempts:
    try:
        s = smtplib.SMTP_SSL('127.0.0.1', port, source_address=(a['src'], 0), context=ctx, timeout=20)
        s.ehlo('client.example')
        tok = base64.b64encode(('\\0' + a['user'] + '\\0' + a['pw']).encode('utf-8')).decode()
        code, msg = s.docmd('AUTH', 'PLAIN ' + tok)
        out.append('%d %s' % (code, msg.decode('utf-8', 'replace')))
        try: s.quit()
        except Exception: pass
    except smtplib.SMTPServerDisconnected as e:
        out.append('closed')
print(json.dumps(out))
`;

async function auth(pw: Portwarden, attempts: Array<{ src: string; user: string; pw: string }>): Promise<string[]> {
  const r = await run('python3', ['-c', PY, String(pw.port('submissions')), JSON.stringify(attempts)], { timeout: 60000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const LIMITS = `limits:
  authFailureDelaysMs: [0]
  bruteForce:
    ip: {failures: 50, per: 600}
    prefix: {failures: 100, per: 600}
    account: {failures: 4, per: 900}
`;

describe('brute force keyed on the normalised login, known prefixes kept apart', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({
      accounts: [{ login: 'victim@bücher.example', password: 'victim-pass-1' }],
      extraYaml: LIMITS,
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  test('variants are one account; the locked reply is the same for the right and a wrong password; a known prefix still gets in', async () => {
    // The owner logs in from 127.0.1.0/24 once: that prefix becomes known for the account.
    assert.match((await auth(pw, [{ src: '127.0.1.5', user: 'victim@bücher.example', pw: 'victim-pass-1' }]))[0], /^235 /);
    // It is remembered in the data directory, across a restart.
    await pw.stop();
    await pw.restart();
    // Four wrong guesses from 127.0.0.0/24, each spelling the login differently.
    const variants = ['VICTIM@BÜCHER.EXAMPLE', 'victim@xn--bcher-kva.example.', 'victim@ｂüｃｈｅｒ.example', 'Victim@Bu\u0308cher.Example'];
    const guesses = await auth(pw, variants.map((user, i) => ({ src: '127.0.0.2', user, pw: `guess-${i}` })));
    assert.deepEqual(guesses.map((g) => g.slice(0, 3)).slice(0, 3), ['535', '535', '535']);
    // Locked now for unknown prefixes: the right and a wrong password read the same.
    const locked = await auth(pw, [
      { src: '127.0.0.3', user: 'victim@bücher.example', pw: 'victim-pass-1' },
      { src: '127.0.0.3', user: 'victim@bücher.example', pw: 'wrong' },
      { src: '127.0.2.9', user: 'VICTIM@xn--bcher-kva.example', pw: 'victim-pass-1' },
    ]);
    assert.match(locked[0], /^454 4\.7\.0 /);
    assert.deepEqual(locked, [locked[0], locked[0], locked[0]]);
    // The owner, from the prefix that logged in before, is not locked out by the attacker.
    assert.match((await auth(pw, [{ src: '127.0.1.5', user: 'victim@bücher.example', pw: 'victim-pass-1' }]))[0], /^235 /);
    const rules = pw.logsOf('bruteforce').at(-1)!;
    assert.deepEqual([rules.account, rules.ip, rules.prefix56, rules.knownPrefixDays], ['4 per 900 s', '50 per 600 s', '60 per 600 s', 30], 'the rules in effect are logged at start');
    const lockouts = pw.logsOf('lockout');
    assert.ok(lockouts.some((l) => l.scope === 'account' && l.subject === 'victim@xn--bcher-kva.example'), JSON.stringify(lockouts));
  });
});

// A Dovecot BLF-CRYPT hash of "pencil" (cost 5) and what SCRAM answers before/after.
const BCRYPT = '{BLF-CRYPT}$2y$05$xQ46SyWI9nkyMfcFyhFYOek7iWXMe1AwPqnoG2m.GoytyxuULkIda';

async function scramFirst(pw: Portwarden, user: string): Promise<{ first: string; final: string }> {
  const c = await RawClient.connect(pw.port('submissions'), { tls: true });
  try {
    await c.read();
    await c.cmd('EHLO client.example');
    const r = await c.cmd(`AUTH SCRAM-SHA-256 ${b64(`n,,n=${user},r=clientnonce`)}`);
    assert.equal(r.code, 334, r.lines[0]);
    const first = Buffer.from(r.text, 'base64').toString();
    const nonce = first.split(',')[0].slice(2);
    const fin = await c.cmd(b64(`c=biws,r=${nonce},p=${Buffer.alloc(32, 7).toString('base64')}`), 20000);
    return { first, final: fin.lines[0] };
  } finally { c.close(); }
}

describe('imported hashes and SCRAM through the real process', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    ({ sink, pw } = await startWithSink({ extraYaml: 'auth: {scramIterations: 50000}\n' }));
    await pw.cli(['account', 'add', 'old@isp.example', '--hash', BCRYPT]);
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  test('SCRAM: an account without keys answers exactly like an unknown one, with the configured count', async () => {
    const shape = (x: { first: string; final: string }) => ({ first: x.first.replace(/^r=[^,]*/, 'r=').replace(/s=[^,]*/, (s) => `s=${s.length}`), final: x.final });
    const noKeys = shape(await scramFirst(pw, 'old@isp.example'));
    const unknown = shape(await scramFirst(pw, 'ghost@isp.example'));
    assert.deepEqual(noKeys, unknown);
    assert.equal(noKeys.first, 'r=,s=26,i=50000');
    assert.match(noKeys.final, /^535 5\.7\.8 /);
  });

  test('import caps: a bcrypt cost or SHA-crypt rounds above the limit is refused, naming the line', async () => {
    const file = join(pw.dir, 'passwd');
    writeFileSync(file, [
      `ok@isp.example:${BCRYPT}`,
      `slow@isp.example:{BLF-CRYPT}$2y$15$${'a'.repeat(53)}`,
      `slower@isp.example:{SHA512-CRYPT}$6$rounds=900000$saltsalt$${'b'.repeat(86)}`,
    ].join('\n') + '\n');
    const r = await run(process.execPath, [join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), 'account', 'import', file, '--config', pw.config]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /imported 1 account/);
    assert.match(r.stderr, new RegExp(`${file}:2: skipped: bcrypt cost 15 is above the limit of 13`));
    assert.match(r.stderr, new RegExp(`${file}:3: skipped: sha512-crypt rounds=900000 is above the limit of 200000`));
  });

  test('a successful PLAIN login rehashes an imported bcrypt hash to argon2id (and derives SCRAM keys); audit-logged', async () => {
    assert.match((await auth(pw, [{ src: '127.0.0.1', user: 'old@isp.example', pw: 'pencil' }]))[0], /^235 /);
    const list = JSON.parse((await pw.cli(['account', 'list', '--json'])).stdout) as Array<{ login: string; scheme: string; scram: boolean }>;
    const old = list.find((a) => a.login === 'old@isp.example')!;
    assert.deepEqual([old.scheme, old.scram], ['argon2id', true]);
    assert.ok(pw.logsOf('auth-rehash').some((l) => l.login === 'old@isp.example' && l.from === 'bcrypt'));
    assert.match((await auth(pw, [{ src: '127.0.0.1', user: 'old@isp.example', pw: 'pencil' }]))[0], /^235 /, 'the new hash works');
  });

  test('SCRAM fake salts survive a restart (the secret is in the data directory)', async () => {
    const before = (await scramFirst(pw, 'ghost@isp.example')).first.split(',')[1];
    await pw.stop();
    await pw.restart();
    const after = (await scramFirst(pw, 'ghost@isp.example')).first.split(',')[1];
    assert.equal(after, before);
  });
});
