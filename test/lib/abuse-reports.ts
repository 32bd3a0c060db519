// The report fixtures the parse tests and the mailbox tests share: a full ARF
// report, a sparse one (Microsoft JMRP style: no Source-IP, headers only), a
// plain complaint with the original attached, and garbage. `own` is the
// provider's space they are read against (100.64/10 CGNAT and 198.51.100/24).
export const own = (a: string): boolean => a.startsWith('100.64.') || a.startsWith('198.51.100.');
const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/gu, '\r\n'));

export const ARF = crlf(`From: fbl@isp.example
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
Source-Port: 40123
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

export const SPARSE = crlf(`From: fbl@hotmail.example
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

export const PLAIN = crlf(`From: someone@else.example
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

export const GARBAGE = Buffer.from([0, 1, 2, 0xff, 13, 10, 0x3a, 0x3a]);
