// DKIM end to end: a key from `portwarden dkim keygen`, its TXT record from
// `dkim record`, a message submitted with swaks, the copy at the capture sink
// verified by an independent verifier (dkimpy, Debian python3-dkim) — and shown
// to fail when the relayed copy is altered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink } from '../lib/sink.ts';
import { MAIN, NODE, Portwarden, startWithSink, run } from '../lib/portwarden.ts';
import { needTools, tempDir } from '../lib/tools.ts';

function dkimpy(): string | false {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import dkim'], { stdio: 'ignore' });
    return false;
  } catch {
    const msg = 'dkimpy (Debian python3-dkim) is not installed';
    if (process.env.CI === 'true') throw new Error(msg);
    return msg;
  }
}

const skip = needTools('swaks') || dkimpy();

const VERIFY = `
import dkim, sys
txt = sys.argv[1].encode()
msg = sys.stdin.buffer.read()
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: txt if name == b's2026._domainkey.isp.example.' else None)
print('PASS' if ok else 'FAIL')
`;

describe('DKIM signing of relayed mail', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  let keys: { path: string; remove(): void };
  let txt = '';
  before(async () => {
    keys = tempDir('pw-dkim-');
    // keygen needs a config only for its data directory
    const cfg = join(keys.path, 'keygen.yaml');
    writeFileSync(cfg, `dataDir: ${keys.path}\nrelay: {smarthost: "127.0.0.1:9"}\n`);
    mkdirSync(join(keys.path, 'out'));
    const gen = await run(NODE, [MAIN, 'dkim', 'keygen', 'isp.example', '--selector', 's2026', '--out', join(keys.path, 'out'), '--config', cfg]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /s2026\._domainkey\.isp\.example\.?\s.*TXT/);
    ({ sink, pw } = await startWithSink({
      accounts: [{ login: 'alice@isp.example', password: 'alice-pass-1' }, { login: 'bob@other.example', password: 'bob-pass-123' }],
      extraYaml: `dkim:\n  - {domain: isp.example, selector: s2026, keyFile: "${join(keys.path, 'out', 's2026.pem')}"}\n`,
    }));
    const rec = await run(NODE, [MAIN, 'dkim', 'record', 'isp.example', '--selector', 's2026', '--out', join(keys.path, 'out'), '--config', cfg]);
    // the TXT value, joined from its quoted strings
    txt = [...rec.stdout.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
    assert.match(txt, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
    keys?.remove();
  });

  const submit = (user: string, pass: string) => run('swaks', ['--server', '127.0.0.1', '--port', String(pw.port('submission')), '--tls',
    '--auth', 'PLAIN', '--auth-user', user, '--auth-password', pass, '--from', user, '--to', 'dest@example.net',
    '--header', 'Subject: signed?', '--body', 'line one\n.\nline three']);

  test('a message from a hosted domain arrives signed and verifies with dkimpy; altered, it fails', async () => {
    const n = sink.messages.length;
    assert.equal((await submit('alice@isp.example', 'alice-pass-1')).code, 0);
    const [m] = (await sink.waitFor(n + 1)).slice(n);
    // the wire form is dot-stuffed and ends with CRLF.CRLF: undo that to get the message
    const msg = m.raw.subarray(0, m.raw.length - 3).toString('latin1').replace(/\r\n\.\./g, '\r\n.');
    assert.match(msg, /^DKIM-Signature: v=1; a=rsa-sha256; .*d=isp\.example;/s);
    const ok = await run('/usr/bin/python3', ['-c', VERIFY, txt], { input: msg });
    assert.equal(ok.stdout.trim(), 'PASS', ok.stderr);
    const tampered = await run('/usr/bin/python3', ['-c', VERIFY, txt], { input: msg.replace('line three', 'line 3') });
    assert.equal(tampered.stdout.trim(), 'FAIL');
  });

  test('a domain without a key is relayed unsigned', async () => {
    const n = sink.messages.length;
    assert.equal((await submit('bob@other.example', 'bob-pass-123')).code, 0);
    const [m] = (await sink.waitFor(n + 1)).slice(n);
    assert.doesNotMatch(m.raw.toString('latin1'), /^DKIM-Signature:/m);
  });
});
