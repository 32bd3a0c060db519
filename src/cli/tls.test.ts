// The TLS the real server offers (bin/portwarden's own generated certificate and
// context), probed with openssl s_client on 465 and on 587 after STARTTLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Portwarden } from '../../test/lib/portwarden.ts';
import { sClientScript } from '../../test/lib/openssl.ts';
import { needTools, tempDir } from '../../test/lib/tools.ts';
import { ensureCertificate } from './tls.ts';

const skip = needTools('openssl');
const DAY = 86_400_000;
const lifetimeDays = (pem: Buffer): number => {
  const x = new X509Certificate(pem);
  return (Date.parse(x.validTo) - Date.parse(x.validFrom)) / DAY;
};

describe('TLS policy of the running server', { skip }, () => {
  let pw: Portwarden;
  const ports = (): Array<[string, number, boolean]> => [['465', pw.port('submissions'), false], ['587', pw.port('submission'), true]];
  /** The suite s_client settled on, or null when the handshake failed. */
  const negotiated = async (port: number, starttls: boolean, args: string[]): Promise<string | null> => {
    const r = await sClientScript(port, { starttls, args, lines: ['QUIT'] });
    const m = /^New, TLSv1\.[23], Cipher is (\S+)$/m.exec(r.out);
    return m ? m[1] : null;
  };

  before(async () => {
    pw = await Portwarden.start({ smarthost: '127.0.0.1:9' });
  });
  after(async () => {
    await pw?.stop();
  });

  test('the generated certificate is valid for at most 398 days', () => {
    const pem = readFileSync(join(pw.dir, 'data', 'tls', 'cert.pem'));
    const days = lifetimeDays(pem);
    assert.ok(days > 0 && days <= 398, `generated certificate valid for ${days} days`);
  });

  test('TLS 1.2: CBC and non-ECDHE suites are refused, AEAD accepted, TLS 1.3 still offered', async () => {
    for (const [name, port, st] of ports()) {
      for (const cbc of ['AES128-SHA', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA256']) {
        assert.equal(await negotiated(port, st, ['-tls1_2', '-cipher', cbc]), null, `${name}: ${cbc} was accepted`);
      }
      for (const aead of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
        assert.equal(await negotiated(port, st, ['-tls1_2', '-cipher', aead]), aead, `${name}: ${aead}`);
      }
      assert.match(await negotiated(port, st, ['-tls1_3']) ?? 'none', /^TLS_/, `${name}: TLS 1.3`);
    }
  });

  test("the server's cipher order wins over the client's", async () => {
    for (const [name, port, st] of ports()) {
      // The client prefers ChaCha20; the server's list puts AES-128-GCM first.
      const got = await negotiated(port, st, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256']);
      assert.equal(got, 'ECDHE-ECDSA-AES128-GCM-SHA256', name);
    }
  });

  test('client-initiated renegotiation: none accepted', async () => {
    for (const [name, port, st] of ports()) {
      const r = await sClientScript(port, { starttls: st, args: ['-tls1_2'], lines: ['R', 'R', 'R', 'QUIT'] });
      assert.match(r.out, /RENEGOTIATING/, name);
      assert.equal(r.handshakes, 1, `${name}: renegotiations accepted: ${r.handshakes - 1}`);
    }
  });
});

test('a generated certificate from an older release (825 days) or near its end is replaced on start', { skip }, () => {
  const dir = tempDir('pw-cert-');
  try {
    const tlsDir = join(dir.path, 'tls');
    const first = ensureCertificate(dir.path, 'msa.test', {});
    assert.equal(first.generated, true);
    assert.equal(ensureCertificate(dir.path, 'msa.test', {}).generated, false, 'a fresh one is kept');
    for (const days of ['825', '10']) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', days,
        '-subj', '/CN=msa.test', '-keyout', join(tlsDir, 'key.pem'), '-out', join(tlsDir, 'cert.pem')], { stdio: 'ignore' });
      const again = ensureCertificate(dir.path, 'msa.test', {});
      assert.equal(again.generated, true, `${days}-day certificate replaced`);
      assert.ok(lifetimeDays(readFileSync(again.cert)) <= 398);
    }
    // A configured certificate is the operator's: never touched, whatever its lifetime.
    const own = { cert: join(tlsDir, 'cert.pem'), key: join(tlsDir, 'key.pem') };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '825',
      '-subj', '/CN=msa.test', '-keyout', own.key, '-out', own.cert], { stdio: 'ignore' });
    const before = readFileSync(own.cert);
    assert.equal(ensureCertificate(dir.path, 'msa.test', own).generated, false);
    assert.deepEqual(readFileSync(own.cert), before);
  } finally {
    dir.remove();
  }
});
