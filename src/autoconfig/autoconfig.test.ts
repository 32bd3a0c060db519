// The answers and the POX scanner, without HTTP (test/e2e/autoconfig.test.ts runs them through curl).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Autoconfig, checkAddress, parsePoxRequest, xmlEscape, zoneLines } from './index.ts';

const ac = new Autoconfig({ domains: ['isp.example'], server: 'msa.isp.example', starttlsPort: 587, tlsPort: 465, displayName: 'ISP <Mail> & "Co"' });

test('Thunderbird: placeholders without an address, the address with one, 465 SSL before 587 STARTTLS', () => {
  const a = ac.thunderbird(undefined, 'autoconfig.ISP.example:80');
  assert.equal(a.status, 200);
  assert.match(a.body, /<username>%EMAILADDRESS%<\/username>/);
  assert.match(a.body, /<displayName>ISP &lt;Mail&gt; &amp; &quot;Co&quot;<\/displayName>/);
  assert.ok(a.body.indexOf('<port>465</port>') < a.body.indexOf('<port>587</port>'));
  const b = ac.thunderbird('Alice@ISP.example', 'whatever');
  assert.match(b.body, /<username>Alice@isp\.example<\/username>/);
  assert.equal(ac.thunderbird(undefined, 'autoconfig.other.example').status, 404);
  assert.equal(ac.thunderbird('a@other.example', 'autoconfig.isp.example').status, 404);
});

test('hostile addresses are refused, never echoed', () => {
  for (const bad of ['a<b>@isp.example', 'a&b@isp.example', '"a"@isp.example', "a'b@isp.example", 'a@isp.example<x>', 'a@b@', '@isp.example', 'a..b@isp.example']) {
    assert.equal(checkAddress(bad).ok, false, bad);
    const r = ac.thunderbird(bad, undefined);
    assert.equal(r.status, 400, bad);
    assert.ok(!r.body.includes(bad), bad);
  }
  assert.equal(xmlEscape(`<&"'>`), '&lt;&amp;&quot;&apos;&gt;');
});

const POX = (email: string) => `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>${email}</EMailAddress>
  <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>
</Autodiscover>`;

test('POX: the address is read and answered as LoginName', () => {
  assert.deepEqual(parsePoxRequest(POX('bob@isp.example')), { ok: true, email: 'bob@isp.example' });
  const a = ac.pox(POX('bob@isp.example'));
  assert.equal(a.status, 200);
  assert.match(a.body, /<LoginName>bob@isp\.example<\/LoginName>/);
  assert.match(a.body, /<Port>465<\/Port>\n\s*<LoginName>[^<]*<\/LoginName>[\s\S]*<Encryption>SSL<\/Encryption>/);
  assert.match(a.body, /<Encryption>TLS<\/Encryption>/);
  assert.equal(ac.pox(POX('bob@other.example')).status, 404);
  // An escaped hostile address is decoded, then refused by the address check.
  assert.equal(ac.pox(POX('a&lt;b&gt;@isp.example')).status, 400);
});

test('POX: DOCTYPE, entities, CDATA and malformed bodies are refused', () => {
  const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${POX('&x;').replace(/<\?xml[^>]*>/, '')}`;
  assert.deepEqual(parsePoxRequest(xxe), { ok: false, why: 'DOCTYPE, ENTITY and CDATA are refused' });
  assert.equal(parsePoxRequest(POX('&x;@isp.example')).ok, false);
  assert.equal(parsePoxRequest(POX('<![CDATA[a@isp.example]]>')).ok, false);
  assert.equal(parsePoxRequest('<a><b></a>').ok, false);
  assert.equal(parsePoxRequest('not xml').ok, false);
  assert.equal(parsePoxRequest('<a>'.repeat(20) + '</a>'.repeat(20)).ok, false);
  assert.deepEqual(parsePoxRequest('<Autodiscover><Request/></Autodiscover>'), { ok: true, email: null });
});

test('Autodiscover v2: AutodiscoverV1 points at the POX URL; other protocols are InvalidProtocol', () => {
  const a = ac.v2('bob@isp.example', 'AutodiscoverV1');
  assert.deepEqual(JSON.parse(a.body), { Protocol: 'AutodiscoverV1', Url: 'https://autodiscover.isp.example/autodiscover/autodiscover.xml' });
  const b = ac.v2('bob@isp.example', 'ActiveSync');
  assert.equal(b.status, 400);
  assert.equal(JSON.parse(b.body).ErrorCode, 'InvalidProtocol');
  assert.equal(ac.v2('bob@other.example', 'AutodiscoverV1').status, 404);
});

test('zone lines: SRV with implicit TLS preferred, "." for IMAP/POP only when asked', () => {
  const lines = zoneLines({ domain: 'isp.example', server: 'msa.isp.example', starttlsPort: 587, tlsPort: 465, autoconfigHost: 'msa.isp.example', noMailboxes: true });
  assert.ok(lines.includes('_submissions._tcp.isp.example. 3600 IN SRV 0 1 465 msa.isp.example.'));
  assert.ok(lines.includes('_submission._tcp.isp.example. 3600 IN SRV 10 1 587 msa.isp.example.'));
  assert.ok(lines.includes('_imap._tcp.isp.example. 3600 IN SRV 0 0 0 .'));
  assert.ok(lines.includes('autoconfig.isp.example. 3600 IN CNAME msa.isp.example.'));
  const kept = zoneLines({ domain: 'isp.example', server: 'msa.isp.example', starttlsPort: 587, tlsPort: 465, noMailboxes: false });
  assert.ok(!kept.some((l) => l.includes('_imap._tcp') && !l.startsWith(';')));
  assert.ok(!kept.some((l) => l.includes('CNAME')));
});

test('autoconfig.incoming: the mailbox servers are listed first (Thunderbird needs one), in POX too, and get SRV records', () => {
  const incoming = [{ type: 'imap' as const, hostname: 'imap.isp.example', port: 993, socketType: 'SSL' as const }, { type: 'pop3' as const, hostname: 'pop.isp.example', port: 110, socketType: 'STARTTLS' as const }];
  const withIn = new Autoconfig({ ...ac.o, incoming });
  const t = withIn.thunderbird(undefined, 'autoconfig.isp.example').body;
  assert.match(t, /<incomingServer type="imap">\n\s*<hostname>imap\.isp\.example<\/hostname>\n\s*<port>993<\/port>\n\s*<socketType>SSL<\/socketType>\n\s*<authentication>password-cleartext<\/authentication>\n\s*<username>%EMAILADDRESS%<\/username>/);
  assert.ok(t.indexOf('<incomingServer type="pop3">') < t.indexOf('<outgoingServer'));
  const p = withIn.pox(POX('bob@isp.example')).body;
  assert.match(p, /<Type>IMAP<\/Type>\n\s*<Server>imap\.isp\.example<\/Server>\n\s*<Port>993<\/Port>[\s\S]*?<Encryption>SSL<\/Encryption>/);
  assert.match(p, /<Type>POP3<\/Type>\n\s*<Server>pop\.isp\.example<\/Server>\n\s*<Port>110<\/Port>[\s\S]*?<Encryption>TLS<\/Encryption>/);
  const lines = zoneLines({ domain: 'isp.example', server: 'msa.isp.example', starttlsPort: 587, tlsPort: 465, noMailboxes: false, incoming });
  assert.ok(lines.includes('_imaps._tcp.isp.example. 3600 IN SRV 0 1 993 imap.isp.example.'), lines.join('\n'));
  assert.ok(lines.includes('_pop3._tcp.isp.example. 3600 IN SRV 1 1 110 pop.isp.example.'), lines.join('\n'));
});
