// Mail client autoconfig on the real `portwarden` process, asked with curl as
// the clients ask: Thunderbird's two URLs with and without emailaddress, the
// domain from the Host header, an unknown domain, Outlook's POX POST (both
// spellings) and Autodiscover v2; hostile bodies (DOCTYPE/entities, too large)
// and addresses. Answers are checked well-formed with xmllint. Then
// `portwarden dns records` is checked line by line and with named-checkzone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { needTools, tempDir } from '../lib/tools.ts';

const skip = needTools('curl', 'xmllint', 'named-checkzone', 'openssl');

const POX = (email: string) => `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${email}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`;

describe('autoconfig: Thunderbird, Outlook and the DNS records, on the real server', { skip }, () => {
  const sink = new CaptureSink({});
  const dir = tempDir('pw-autoconfig-');
  const keyFile = join(dir.path, 's1.pem');
  let pw: Portwarden;
  const base = () => `http://127.0.0.1:${pw.port('autoconfig')}`;
  /** curl; returns the status and body. */
  const curl = async (path: string, args: string[] = []): Promise<{ status: number; body: string }> => {
    const r = await run('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args, `${base()}${path}`]);
    assert.equal(r.code, 0, r.stderr);
    const i = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
  };
  const wellFormed = async (xml: string) => {
    const f = join(dir.path, 'answer.xml');
    writeFileSync(f, xml);
    const r = await run('xmllint', ['--noout', '--nonet', f]);
    assert.equal(r.code, 0, `${r.stderr}\n${xml}`);
  };
  const post = (path: string, body: string) => {
    const f = join(dir.path, 'req.xml');
    writeFileSync(f, body);
    return curl(path, ['-H', 'content-type: text/xml', '--data-binary', `@${f}`]);
  };

  before(async () => {
    const k = await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
    assert.equal(k.code, 0, k.stderr);
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${await sink.listen()}`,
      extraYaml: [
        'autoconfig: {listen: "127.0.0.1:0", domains: [isp.example, second.example], displayName: "ISP Mail"}',
        `dkim: [{domain: isp.example, selector: s1, keyFile: ${JSON.stringify(keyFile)}}]`,
        '',
      ].join('\n'),
    });
  });
  after(async () => { await pw?.destroy(); await sink.close(); dir.remove(); });

  test('autoconfig.<domain>/mail/config-v1.1.xml without an address: the placeholders, 465 SSL and 587 STARTTLS', async () => {
    const r = await curl('/mail/config-v1.1.xml', ['-H', 'Host: autoconfig.second.example']);
    assert.equal(r.status, 200);
    await wellFormed(r.body);
    assert.match(r.body, /<emailProvider id="second\.example">\n\s*<domain>second\.example<\/domain>/);
    assert.match(r.body, /<outgoingServer type="smtp">\n\s*<hostname>msa\.isp\.example<\/hostname>\n\s*<port>465<\/port>\n\s*<socketType>SSL<\/socketType>\n\s*<authentication>password-cleartext<\/authentication>\n\s*<username>%EMAILADDRESS%<\/username>/);
    assert.match(r.body, /<port>587<\/port>\n\s*<socketType>STARTTLS<\/socketType>/);
    assert.doesNotMatch(r.body, /incomingServer/);
    // Thunderbird refuses an answer without an incoming server: start said so.
    assert.ok(pw.logs.some((l) => l.event === 'autoconfig' && /autoconfig\.incoming is empty/.test(String(l.msg))), JSON.stringify(pw.logs.filter((l) => l.event === 'autoconfig')));
  });

  test('/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=: that address as the username', async () => {
    const r = await curl('/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40isp.example', ['-H', 'Host: isp.example']);
    assert.equal(r.status, 200);
    await wellFormed(r.body);
    assert.equal([...r.body.matchAll(/<username>alice@isp\.example<\/username>/g)].length, 2);
    const h = await curl('/.well-known/autoconfig/mail/config-v1.1.xml', ['-H', 'Host: isp.example']);
    assert.match(h.body, /<domain>isp\.example<\/domain>/);
  });

  test('an unknown domain is 404, from the Host header or the address', async () => {
    assert.equal((await curl('/mail/config-v1.1.xml', ['-H', 'Host: autoconfig.elsewhere.example'])).status, 404);
    assert.equal((await curl('/mail/config-v1.1.xml?emailaddress=bob%40elsewhere.example', ['-H', 'Host: autoconfig.isp.example'])).status, 404);
  });

  test('a hostile address is refused and not echoed', async () => {
    const r = await curl(`/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(`a<b>&"'@isp.example`)}`, ['-H', 'Host: autoconfig.isp.example']);
    assert.equal(r.status, 400);
    assert.doesNotMatch(r.body, /<b>|&"/);
    const p = await post('/autodiscover/autodiscover.xml', POX('a&lt;script&gt;@isp.example'));
    assert.equal(p.status, 400);
    assert.doesNotMatch(p.body, /script/);
  });

  test('Outlook POX: a real request to both spellings answers SMTP settings with the LoginName', async () => {
    for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml', '/AutoDiscover/AutoDiscover.xml']) {
      const r = await post(path, POX('Carol@ISP.example'));
      assert.equal(r.status, 200, r.body);
      await wellFormed(r.body);
      assert.match(r.body, /<Protocol>\n\s*<Type>SMTP<\/Type>\n\s*<Server>msa\.isp\.example<\/Server>\n\s*<Port>465<\/Port>\n\s*<LoginName>Carol@isp\.example<\/LoginName>[\s\S]*?<SSL>on<\/SSL>\n\s*<Encryption>SSL<\/Encryption>/);
      assert.match(r.body, /<Port>587<\/Port>[\s\S]*?<Encryption>TLS<\/Encryption>/);
    }
    assert.equal((await post('/autodiscover/autodiscover.xml', POX('dave@elsewhere.example'))).status, 404);
  });

  test('POX: a DOCTYPE with an external entity is refused; a body past the limit is 413', async () => {
    const xxe = `<?xml version="1.0"?>\n<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n${POX('&x;').replace(/^<\?xml[^>]*>\n/, '')}`;
    const r = await post('/autodiscover/autodiscover.xml', xxe);
    assert.equal(r.status, 400);
    assert.doesNotMatch(r.body, /root:/);
    const big = await post('/autodiscover/autodiscover.xml', POX('eve@isp.example') + `<!-- ${'x'.repeat(17 * 1024)} -->`);
    assert.equal(big.status, 413);
  });

  test('Autodiscover v2: AutodiscoverV1 names the POX URL; other protocols are InvalidProtocol', async () => {
    const r = await curl('/autodiscover/autodiscover.json?Email=carol%40isp.example&Protocol=AutodiscoverV1');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { Protocol: 'AutodiscoverV1', Url: 'https://autodiscover.isp.example/autodiscover/autodiscover.xml' });
    const p = await curl('/autodiscover/autodiscover.json/v1.0/carol%40isp.example?Protocol=AutodiscoverV1');
    assert.equal(p.status, 200);
    const e = await curl('/autodiscover/autodiscover.json?Email=carol%40isp.example&Protocol=ActiveSync');
    assert.equal(e.status, 400);
    assert.equal(JSON.parse(e.body).ErrorCode, 'InvalidProtocol');
  });

  test('dns records: SRV, CNAMEs and the DKIM TXT (the same line dkim record prints); named-checkzone accepts it', async () => {
    const r = await pw.cli(['dns', 'records', 'isp.example', '--no-mailboxes']);
    const lines = r.stdout.trimEnd().split('\n');
    for (const want of [
      '_submissions._tcp.isp.example. 3600 IN SRV 0 1 465 msa.isp.example.',
      '_submission._tcp.isp.example. 3600 IN SRV 10 1 587 msa.isp.example.',
      '_imap._tcp.isp.example. 3600 IN SRV 0 0 0 .',
      '_pop3s._tcp.isp.example. 3600 IN SRV 0 0 0 .',
      'autoconfig.isp.example. 3600 IN CNAME msa.isp.example.',
      'autodiscover.isp.example. 3600 IN CNAME msa.isp.example.',
    ]) assert.ok(lines.includes(want), `${want}\n${r.stdout}`);
    const dkim = (await pw.cli(['dkim', 'record', 'isp.example', '--selector', 's1', '--out', dir.path])).stdout.trimEnd().split('\n').pop()!;
    assert.match(dkim, /^s1\._domainkey\.isp\.example\. IN TXT \( "v=DKIM1; k=rsa; p=/);
    assert.ok(lines.includes(dkim), r.stdout);
    const zone = join(dir.path, 'isp.example.zone');
    writeFileSync(zone, ['$TTL 3600', '@ IN SOA ns1.isp.example. hostmaster.isp.example. 1 3600 600 86400 300', '@ IN NS ns1.isp.example.', 'ns1 IN A 192.0.2.53', r.stdout].join('\n'));
    const c = await run('named-checkzone', ['isp.example', zone]);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    const plain = (await pw.cli(['dns', 'records', 'isp.example'])).stdout;
    assert.doesNotMatch(plain, /^_imap/m);
    await assert.rejects(pw.cli(['dns', 'records', 'bad;name']), (e: { code: number; stderr: string }) => e.code === 2 && /bad;name is not a domain name/.test(e.stderr));
  });
});
