import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStrict, run } from './testkit.ts';
import { MessageFixer } from './fixer.ts';
import { buildReceived, protocolName } from './received.ts';

// REQUIREMENTS D9: from <EHLO> (<rDNS> [<ip>]) … by <host> … with <proto> id <qid> [for <rcpt>]; <date>
const D9 = /^from (\S+) \((\S+) \[(?:IPv6:)?([0-9a-fA-F:.]+)\]\)(?: \([^)]*\))* by (\S+) \(portwarden\) with (\S+) id (\S+)(?: for <([^>]*)>)?; (.+)$/;

const base = {
  heloName: 'laptop.example',
  clientIp: '192.0.2.7',
  clientRdns: 'dyn-7.pool.isp.example',
  hostname: 'mail.isp.example',
  protocol: 'ESMTPSA',
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  authId: 'alice@isp.example',
  queueId: '4Q7K2',
  forRcpt: 'bob@example.org',
  date: Date.UTC(2026, 0, 1),
};

describe('protocolName (RFC 3848, RFC 6531)', () => {
  const cases: Array<[Parameters<typeof protocolName>[0], string]> = [
    [{ esmtp: false, tls: false, auth: false }, 'SMTP'],
    [{ esmtp: false, tls: true, auth: true }, 'SMTP'],
    [{ esmtp: true, tls: false, auth: false }, 'ESMTP'],
    [{ esmtp: true, tls: true, auth: false }, 'ESMTPS'],
    [{ esmtp: true, tls: false, auth: true }, 'ESMTPA'],
    [{ esmtp: true, tls: true, auth: true }, 'ESMTPSA'],
    [{ esmtp: true, tls: false, auth: false, utf8: true }, 'UTF8SMTP'],
    [{ esmtp: true, tls: true, auth: true, utf8: true }, 'UTF8SMTPSA'],
  ];
  for (const [flags, name] of cases) it(`${JSON.stringify(flags)} → ${name}`, () => assert.equal(protocolName(flags), name));
});

describe('buildReceived (RFC 5321 §4.4, RFC 8314 §4.3)', () => {
  it('has the documented layout', () => {
    assert.equal(buildReceived(base),
      'from laptop.example (dyn-7.pool.isp.example [192.0.2.7]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384) ' +
      '(Authenticated sender: alice@isp.example) by mail.isp.example (portwarden) with ESMTPSA id 4Q7K2 ' +
      'for <bob@example.org>; Thu, 01 Jan 2026 00:00:00 +0000');
  });
  it('IPv6 is an IPv6 address literal; mapped IPv4 is shown as IPv4; no rDNS is "unknown"', () => {
    assert.match(buildReceived({ ...base, clientIp: '2001:db8::7', clientRdns: null }), /^from laptop\.example \(unknown \[IPv6:2001:db8::7\]\)/);
    assert.match(buildReceived({ ...base, clientIp: '::ffff:192.0.2.9' }), /\[192\.0\.2\.9\]\)/);
  });
  it('optional parts are left out', () => {
    const r = buildReceived({ ...base, tls: null, authId: null, forRcpt: null, protocol: 'ESMTP', date: new Date(base.date) });
    assert.equal(r, 'from laptop.example (dyn-7.pool.isp.example [192.0.2.7]) by mail.isp.example (portwarden) with ESMTP id 4Q7K2; Thu, 01 Jan 2026 00:00:00 +0000');
  });
  it('client-chosen text cannot break out of its token or comment', () => {
    const r = buildReceived({ ...base, heloName: 'a b)\r\nBcc: x', authId: 'me) (x', forRcpt: 'v@x>\r\nX: y' });
    assert.doesNotMatch(r, /[\r\n]/);
    const m = D9.exec(r);
    assert.ok(m, r);
    assert.equal(m[1], 'a_b___Bcc:_x');
    assert.ok(r.includes('(Authenticated sender: me___x)'), r);
  });
  it('D9: the first Received of the fixer output matches, with ESMTPSA', async () => {
    const received = buildReceived(base);
    const f = new MessageFixer({ hostname: base.hostname }, { received, queueId: base.queueId });
    const parts: Buffer[] = [];
    f.on('data', (b: Buffer) => parts.push(b));
    f.end('Received: from old by relay; Wed, 31 Dec 2025 00:00:00 +0000\r\nSubject: s\r\n\r\nb\r\n');
    await new Promise((resolve) => f.on('end', resolve));
    const p = parseStrict(Buffer.concat(parts));
    const first = p.fields[0];
    for (const l of first.raw.split('\r\n')) assert.ok(l.length <= 78, l);
    const m = D9.exec(first.value);
    assert.ok(m, first.value);
    assert.deepEqual([m[1], m[2], m[3], m[4], m[5], m[6], m[7]],
      ['laptop.example', 'dyn-7.pool.isp.example', '192.0.2.7', 'mail.isp.example', 'ESMTPSA', '4Q7K2', 'bob@example.org']);
    assert.equal(p.get('received')[1], 'from old by relay; Wed, 31 Dec 2025 00:00:00 +0000');
  });
  it('the testkit Received also passes through unchanged apart from folding', async () => {
    const { out } = await run('Subject: s\r\n\r\nb\r\n');
    assert.ok(D9.test(parseStrict(out).fields[0].value.replace(/ ;/, ';')));
  });
});
