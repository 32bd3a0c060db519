// The Apple mail profile on the real `portwarden` process, fetched with curl:
// the signature checked by `openssl cms -verify` against the node's own
// (generated) certificate, the content extracted by openssl and checked
// well-formed with xmllint, no password key in it; the headers; an unknown
// domain 404, a hostile address 400; a profile signed by a configured
// certificate (autoconfig.profileCert/profileKey, RSA) verifies against that
// one. (No autoconfig.incoming → 409: src/autoconfig/profile.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { needTools, tempDir } from '../lib/tools.ts';

const skip = needTools('curl', 'xmllint', 'openssl');

describe('mobileconfig: the signed Apple mail profile, on the real server', { skip }, () => {
  const sink = new CaptureSink({});
  const dir = tempDir('pw-mobileconfig-');
  let pw: Portwarden, pw2: Portwarden, sinkPort = 0;
  const incoming = 'incoming: [{type: imap, hostname: imap.isp.example, port: 993, socketType: SSL}]';
  /** curl into a file; the status, the headers and the file. */
  const fetch = async (p: Portwarden, path: string, out: string) => {
    const r = await run('curl', ['-sS', '-D', '-', '-o', out, '-w', '%{http_code}', `http://127.0.0.1:${p.port('autoconfig')}${path}`]);
    assert.equal(r.code, 0, r.stderr);
    return { status: Number(r.stdout.slice(-3)), headers: r.stdout.slice(0, -3).toLowerCase(), body: () => readFileSync(out) };
  };
  const verify = async (der: string, ca: string) => {
    const content = join(dir.path, 'content.plist');
    const v = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', der, '-CAfile', ca, '-out', content]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stderr, /Verification successful/);
    const x = await run('xmllint', ['--noout', '--nonet', content]);
    assert.equal(x.code, 0, x.stderr);
    return readFileSync(content, 'utf8');
  };

  before(async () => {
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${sinkPort = await sink.listen()}`,
      extraYaml: `autoconfig: {listen: "127.0.0.1:0", domains: [isp.example], displayName: "ISP <Mail>", ${incoming}}\n`,
    });
  });
  after(async () => { await pw?.destroy(); await pw2?.destroy(); await sink.close(); dir.remove(); });

  test('GET /mobileconfig?emailaddress=: signed by the node certificate (openssl cms -verify), a well-formed plist with no password key', async () => {
    const out = join(dir.path, 'alice.mobileconfig');
    const r = await fetch(pw, '/mobileconfig?emailaddress=alice%40ISP.example', out);
    assert.equal(r.status, 200, r.body().toString());
    assert.match(r.headers, /content-type: application\/x-apple-aspen-config/);
    assert.match(r.headers, /content-disposition: attachment; filename="alice_isp\.example\.mobileconfig"/);
    assert.equal(r.body()[0], 0x30, 'DER, not text');
    const cert = join(pw.dir, 'data', 'tls', 'cert.pem');
    assert.ok(existsSync(cert), cert);
    const plist = await verify(out, cert);
    assert.match(plist, /<key>PayloadType<\/key>\n\s*<string>com\.apple\.mail\.managed<\/string>/);
    assert.match(plist, /<key>OutgoingMailServerPortNumber<\/key>\n\s*<integer>465<\/integer>/);
    assert.match(plist, /<key>IncomingMailServerHostName<\/key>\n\s*<string>imap\.isp\.example<\/string>/);
    assert.match(plist, /<key>OutgoingMailServerUsername<\/key>\n\s*<string>alice@isp\.example<\/string>/);
    assert.match(plist, /ISP &lt;Mail&gt;/);
    assert.doesNotMatch(plist, /Password<\/key>|<key>[^<]*Password[^<]*<\/key>/);
    // The same address again: the same profile (the UUIDs do not change).
    await fetch(pw, '/mobileconfig?emailaddress=alice%40isp.example', join(dir.path, 'again.mobileconfig'));
    assert.equal(await verify(join(dir.path, 'again.mobileconfig'), cert), plist);
  });

  test('an unknown domain is 404, a hostile address 400 and not echoed, no address 400', async () => {
    const f = join(dir.path, 'err.txt');
    assert.equal((await fetch(pw, '/mobileconfig?emailaddress=bob%40elsewhere.example', f)).status, 404);
    const h = await fetch(pw, `/mobileconfig?emailaddress=${encodeURIComponent('a<string>&"@isp.example')}`, f);
    assert.equal(h.status, 400);
    assert.doesNotMatch(h.body().toString(), /<string>|&"/);
    assert.equal((await fetch(pw, '/mobileconfig', f)).status, 400);
  });

  test('autoconfig.profileCert/profileKey (RSA): the profile verifies against that certificate, not the node one', async () => {
    const cert = join(dir.path, 'profile.pem'), key = join(dir.path, 'profile.key');
    const g = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=profiles.isp.example', '-keyout', key, '-out', cert]);
    assert.equal(g.code, 0, g.stderr);
    pw2 = await Portwarden.start({
      smarthost: `127.0.0.1:${sinkPort}`,
      extraYaml: `autoconfig: {listen: "127.0.0.1:0", domains: [isp.example], ${incoming}, profileCert: ${JSON.stringify(cert)}, profileKey: ${JSON.stringify(key)}}\n`,
    });
    const out = join(dir.path, 'bob.mobileconfig');
    assert.equal((await fetch(pw2, '/mobileconfig?emailaddress=bob%40isp.example', out)).status, 200);
    assert.match(await verify(out, cert), /<string>bob@isp\.example<\/string>/);
    const other = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', out, '-CAfile', join(pw2.dir, 'data', 'tls', 'cert.pem'), '-out', '/dev/null']);
    assert.notEqual(other.code, 0, 'signed by the configured certificate, not the node one');
    assert.ok(pw2.logs.some((l) => /signed by .*CN=profiles\.isp\.example/.test(String(l.msg))), JSON.stringify(pw2.logs.filter((l) => l.event === 'autoconfig')));
  });

  test('start refuses autoconfig.profileCert without profileKey, and a key that is not the certificate\'s', async () => {
    const cert = join(dir.path, 'profile.pem');
    await assert.rejects(Portwarden.start({
      smarthost: `127.0.0.1:${sinkPort}`,
      extraYaml: `autoconfig: {listen: "127.0.0.1:0", domains: [isp.example], profileCert: ${JSON.stringify(cert)}}\n`,
    }), /exited with 1: .*autoconfig\.profileCert is set without autoconfig\.profileKey/s);
    const other = join(dir.path, 'other.key');
    assert.equal((await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', other])).code, 0);
    await assert.rejects(Portwarden.start({
      smarthost: `127.0.0.1:${sinkPort}`,
      extraYaml: `autoconfig: {listen: "127.0.0.1:0", domains: [isp.example], profileCert: ${JSON.stringify(cert)}, profileKey: ${JSON.stringify(other)}}\n`,
    }), /exited with 1: .*the private key does not belong to the certificate/s);
  });
});
