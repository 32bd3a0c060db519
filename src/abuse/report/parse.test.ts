import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReport } from './parse.ts';

const own = (a: string): boolean => a.startsWith('100.64.') || a.startsWith('198.51.100.');
const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/gu, '\r\n'));

const ARF = crlf(`From: fbl@isp.example
To: abuse@provider.example
Date: Wed, 02 Dec 2026 10:00:00 +0000
Subject: report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b1"

--b1
Content-Type: text/plain

This is an abuse report.
--b1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeFBL/1.0
Version: 1
Source-IP: 198.51.100.7
Arrival-Date: Wed, 02 Dec 2026 08:30:00 +0000

--b1
Content-Type: message/rfc822

Received: from x ([203.0.113.9]) by mx.isp.example; Wed, 02 Dec 2026 08:29:00 +0000
Message-ID: <spam1@zombie>
Date: Wed, 02 Dec 2026 08:28:00 +0000
Subject: buy

spam
--b1--
`);

const SPARSE = crlf(`From: fbl@hotmail.example
Date: Wed, 02 Dec 2026 11:00:00 +0000
Content-Type: multipart/report; report-type=feedback-report; boundary="b2"

--b2
Content-Type: text/plain

report
--b2
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1

--b2
Content-Type: text/rfc822-headers

Received: from mx.isp.example (mx.isp.example [192.0.2.1]) by in.hotmail.example; Wed, 02 Dec 2026 09:01:00 +0000
Received: from pc (host [198.51.100.20]) by mx.isp.example; Wed, 02 Dec 2026 09:00:00 +0000
Message-ID: <spam2@zombie>
Date: Wed, 02 Dec 2026 08:59:00 +0000
--b2--
`);

const PLAIN = crlf(`From: someone@else.example
Date: Wed, 02 Dec 2026 12:00:00 +0000
Subject: spam from your network
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b3"

--b3
Content-Type: text/plain

See attached.
--b3
Content-Type: message/rfc822

Received: from relay.else.example ([203.0.113.50]) by mx.else.example; Wed, 02 Dec 2026 07:01:00 +0000
Received: from pc ([100.64.1.2]) by cgn.provider.example; Wed, 02 Dec 2026 07:00:00 +0000
Message-ID: <spam3@zombie>
Date: Wed, 02 Dec 2026 06:59:00 +0000

spam
--b3--
`);

test('full ARF: Source-IP and Arrival-Date', async () => {
  const r = await parseReport(ARF, { isOwn: own });
  assert.deepEqual(r, { kind: 'arf', feedbackType: 'abuse', userAgent: 'SomeFBL/1.0', reportedMessageId: '<spam1@zombie>',
    source: '198.51.100.7', sourceFrom: 'Source-IP', at: Date.parse('2026-12-02T08:30:00Z'), atFrom: 'Arrival-Date' });
});

test('sparse ARF: the first own Received hop and its date', async () => {
  const r = await parseReport(SPARSE, { isOwn: own });
  assert.equal(r.kind, 'arf');
  assert.equal(r.source, '198.51.100.20');
  assert.equal(r.sourceFrom, 'Received');
  assert.equal(r.at, Date.parse('2026-12-02T09:00:00Z'));
  assert.equal(r.atFrom, 'Received');
  assert.equal(r.reportedMessageId, '<spam2@zombie>');
});

test('plain complaint with the original attached: CGNAT hop 100.64.1.2', async () => {
  const r = await parseReport(PLAIN, { isOwn: own });
  assert.equal(r.kind, 'plain');
  assert.equal(r.source, '100.64.1.2');
  assert.equal(r.sourceFrom, 'Received');
  assert.equal(r.at, Date.parse('2026-12-02T07:00:00Z'));
  assert.equal(r.atFrom, 'Received');
});

test('garbage: plain, no source, no throw', async () => {
  const r = await parseReport(Buffer.from([0, 1, 2, 0xff, 13, 10, 0x3a, 0x3a]), { isOwn: own });
  assert.equal(r.kind, 'plain');
  assert.equal(r.source, null);
  assert.equal(r.sourceFrom, 'none');
});
