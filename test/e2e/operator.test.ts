// The operator's surface, black box: config errors with file and line, account
// import from a Dovecot passwd-file (hashes made by real tools), aliases,
// SIGHUP certificate reload, SIGTERM drain, and the edge agents' policy endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { CaptureSink } from '../lib/sink.ts';
import { MAIN, NODE, Portwarden, run, startWithSink } from '../lib/portwarden.ts';
import { RawClient } from '../lib/smtpclient.ts';
import { needTools, tempDir } from '../lib/tools.ts';

const skip = needTools('swaks', 'openssl', 'curl');

async function fingerprint(port: number): Promise<string> {
  return new Promise((res, rej) => {
    const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      res(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', rej);
  });
}

describe('operator surface', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    const dir = tempDir('pw-tokens-');
    writeFileSync(join(dir.path, 'tokens'), 'edge1 edge-token-1-0123456789\n');
    ({ sink, pw } = await startWithSink({
      accounts: [{ login: 'admin@isp.example', password: 'admin-pass-1' }],
      extraYaml: `netpolicy: {listen: "127.0.0.1:0", tokenFile: "${join(dir.path, 'tokens')}"}\napi: {listen: "127.0.0.1:0"}\n`,
    }));
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  test('config check names file, line and key', async () => {
    const bad = join(pw.dir, 'bad.yaml');
    writeFileSync(bad, 'hostname: ok.example\nrelay:\n  smarthost: 127.0.0.1:25\n  tls: sometimes\n');
    const r = await run(NODE, [MAIN, 'config', 'check', '--config', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:4:\\d+: relay\\.tls: expected one of none, opportunistic, required`));
    const ok = await pw.cli(['config', 'check']);
    assert.match(ok.stdout, /: ok$/m);
  });

  test('account import reads a Dovecot passwd-file; an imported SHA512-CRYPT account submits', async () => {
    const sha512 = execFileSync('openssl', ['passwd', '-6', '-salt', 'pwsalt12', 'imported-pass-1'], { encoding: 'utf8' }).trim();
    const file = join(pw.dir, 'passwd');
    writeFileSync(file, [
      '# exported from the old Dovecot',
      `carol@isp.example:{SHA512-CRYPT}${sha512}:1001:1001::/home/carol::`,
      'broken-line-without-fields',
      `dave@isp.example:${sha512}:1002:1002::/home/dave::`,
    ].join('\n') + '\n');
    const r = await run(NODE, [MAIN, 'account', 'import', file, '--subscriber-from', 'uid', '--config', pw.config]);
    assert.equal(r.code, 1, 'a skipped line makes the exit code 1');
    assert.match(r.stdout, /imported 2 account/);
    assert.match(r.stderr, new RegExp(`${file}:3: skipped: `));
    const list = JSON.parse((await pw.cli(['account', 'list', '--json'])).stdout) as Array<{ login: string; subscriber: string; scheme: string }>;
    const carol = list.find((a) => a.login === 'carol@isp.example')!;
    assert.equal(carol.subscriber, '1001');
    assert.match(carol.scheme, /sha512/i);
    await pw.cli(['account', 'alias', 'carol@isp.example', 'c.jones@isp.example']);
    const s = await run('swaks', ['--server', '127.0.0.1', '--port', String(pw.port('submission')), '--tls', '--auth', 'LOGIN',
      '--auth-user', 'carol@isp.example', '--auth-password', 'imported-pass-1', '--from', 'c.jones@isp.example', '--to', 'x@example.net']);
    assert.match(s.stdout, /<~ {2}250 2\.0\.0 Ok: queued/, s.stdout);
  });

  test('the edge agents pull the compiled policy over HTTPS with a bearer token; a wrong token gets 401', async () => {
    await pw.cli(['policy', 'pool', 'add', '203.0.113.0/24', '--class', 'dynamic', '--reason', 'residential pool', '--by', 'test']);
    await pw.cli(['policy', 'exempt', 'add', '203.0.113.9', '--customer', 'cust-9', '--reason', 'premium tier', '--expires', '30d', '--by', 'test']);
    const url = `https://127.0.0.1:${pw.port('netpolicy')}/v1/netpolicy/compiled`;
    const ca = ['--cacert', join(pw.dir, 'data', 'tls', 'cert.pem')];
    const ok = await run('curl', ['-sS', ...ca, '-w', '\n%{http_code}', '-H', 'Authorization: Bearer edge-token-1-0123456789', url]);
    assert.match(ok.stdout, /\n200$/);
    assert.match(ok.stdout, /203\.0\.113\.9/);
    const denied = await run('curl', ['-sS', ...ca, '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Authorization: Bearer wrong', url]);
    assert.equal(denied.stdout, '401');
  });

  test('SIGHUP reloads the certificate for new sessions', async () => {
    const port = pw.port('submissions');
    const beforeFp = await fingerprint(port);
    const tls = join(pw.dir, 'data', 'tls');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=renewed.isp.example', '-keyout', join(tls, 'key.pem'), '-out', join(tls, 'cert.pem')], { stdio: 'ignore' });
    process.kill(pw.pid, 'SIGHUP');
    const deadline = Date.now() + 5000;
    let afterFp = beforeFp;
    while (afterFp === beforeFp && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      afterFp = await fingerprint(port);
    }
    assert.notEqual(afterFp, beforeFp);
    assert.equal(await fingerprint(pw.port('netpolicy')), afterFp, 'the edge endpoint serves the renewed certificate too');
    assert.equal(await fingerprint(pw.port('api')), afterFp, 'the admin API serves the renewed certificate too');
    assert.ok(pw.logsOf('reload').some((l) => /renewed\.isp\.example/.test(String(l.subject))));
  });

  test('SIGTERM drains: an idle session gets 421 and the process exits 0', async () => {
    const c = await RawClient.connect(pw.port('submission'));
    await c.read();
    await c.cmd('EHLO c.example');
    const exit = pw.stop('SIGTERM');
    const r = await c.read(5000);
    assert.match(r.lines[0], /^421 4\.3\.2 /);
    assert.equal(await exit, 0);
    assert.ok(pw.logsOf('stopped').length === 1);
  });
});
