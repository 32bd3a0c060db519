// Issue 10 items 1, 2, 3, 9 and 16 through the real `portwarden` process: a
// real client (Python smtplib, sending UTF-8 EHLO names and SMTPUTF8 RCPTs)
// submits, a capture sink receives, and Python's email package (policy.default)
// reads the relayed bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureSink } from '../lib/sink.ts';
import { Portwarden, run } from '../lib/portwarden.ts';
import { pyReadMessages } from '../lib/pyemail.ts';
import { needTools, until } from '../lib/tools.ts';
import { CLASSES, INJECTIONS } from '../lib/codepoints.ts';

const skip = needTools('python3');
const PW = 'correct horse battery staple';

// One python3 process submits every case, each in its own session; prints one reply per case.
const SUBMIT = String.raw`
import smtplib, ssl, sys, json
cases = json.load(sys.stdin)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = []
for c in cases:
    try:
        with smtplib.SMTP('127.0.0.1', c['port'], timeout=15) as s:
            s.command_encoding = 'utf-8'  # the EHLO name and RCPT may be any UTF-8
            s.ehlo('start.example'); s.starttls(context=ctx); s.ehlo(c['helo'])
            if c.get('login'): s.login(c['login'], c['password'])
            opts = ['SMTPUTF8'] if c.get('utf8') else []
            s.sendmail(c['from'], c['to'], c['data'].encode('utf-8'), mail_options=opts)
            out.append({'code': 250})
    except smtplib.SMTPRecipientsRefused as e:
        r = list(e.recipients.values())[0]
        out.append({'code': r[0], 'text': r[1].decode('utf-8', 'replace'), 'at': 'rcpt'})
    except smtplib.SMTPResponseException as e:
        out.append({'code': e.smtp_code, 'text': e.smtp_error.decode('utf-8', 'replace')})
json.dump(out, sys.stdout)
`;

interface Case { helo?: string; from?: string; to?: string[]; data: string; utf8?: boolean; login?: boolean }
interface Outcome { code: number; text?: string; at?: string }

describe('generated headers, sender binding, loops, caps and the postmaster exception end to end', { skip }, () => {
  let sink: CaptureSink;
  let pw: Portwarden;
  before(async () => {
    // The next hop takes mail for postmaster in and refuses it after DATA: the place a bounce would come from.
    sink = new CaptureSink({ dataReply: () => (sink.messages.at(-1)?.rcptTo.includes('postmaster@isp.example') ? '554 5.7.1 refused after reading' : '250 2.0.0 Ok') });
    pw = await Portwarden.start({
      smarthost: `127.0.0.1:${await sink.listen()}`,
      accounts: [{ login: 'alice@isp.example', password: PW, addresses: ['a.smith@isp.example'] }],
      extraYaml: 'submission:\n  postmasterDomains: [isp.example]\n  postmasterRate: {limit: 2, per: 3600}\n  maxReceived: 20',
    });
  });
  after(async () => {
    await pw?.destroy();
    await sink?.close();
  });

  async function submit(cases: Case[]): Promise<Outcome[]> {
    const input = cases.map((c) => ({
      port: pw.port('submission'), helo: c.helo ?? 'laptop.example', from: c.from ?? 'alice@isp.example', to: c.to ?? ['bob@example.org'],
      data: c.data, utf8: !!c.utf8, ...(c.login === false ? {} : { login: 'alice@isp.example', password: PW }),
    }));
    const r = await run('python3', ['-c', SUBMIT], { input: JSON.stringify(input), timeout: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Outcome[];
  }

  const body = (extra = ''): string => `From: alice@isp.example\r\nTo: bob@example.org\r\n${extra}Subject: e2e\r\n\r\nhello\r\n`;

  test('item 1: no EHLO name or SMTPUTF8 recipient of any code point class adds a field to the relayed copy', async () => {
    const cases: Array<Case & { label: string }> = [];
    for (const [label, s] of [...CLASSES, ...INJECTIONS]) {
      cases.push({ label: `${label}: EHLO`, helo: `h${s}h.example`, data: body() });
      // RFC 6531 local parts admit any non-ASCII code point; ASCII specials would not pass RCPT syntax.
      const local = s.replace(/[:@. ]/g, '');
      if (/[^\x00-\x7f]/u.test(local) && /^[A-Za-z0-9\-\u0080-\u{10FFFF}]+$/u.test(local)) {
        cases.push({ label: `${label}: SMTPUTF8 for <…>`, helo: `h${s}h.example`, to: [`a${local}b@example.org`], utf8: true, data: body() });
      }
    }
    const before = sink.messages.length;
    const outcomes = await submit(cases);
    outcomes.forEach((o, i) => assert.equal(o.code, 250, `${cases[i].label}: ${JSON.stringify(o)}`));
    await sink.waitFor(before + cases.length);
    // The relay may deliver in any order: match copies to cases by their RCPT.
    const relayed = sink.messages.slice(before);
    const read = pyReadMessages(relayed.map((m) => m.raw));
    let utf8Seen = 0;
    read.forEach((m, i) => {
      const where = `${relayed[i].rcptTo.join(',')} ${JSON.stringify(m.fields.slice(0, 2))}`;
      assert.deepEqual(m.fields.map(([n]) => n.toLowerCase()), ['received', 'from', 'to', 'subject', 'message-id', 'date'], where);
      assert.deepEqual(m.defects, [], where);
      const received = m.fields[0][1];
      assert.match(received, /^from [\x21-\x7e]+ \(unknown \[127\.0\.0\.1\]\) \(using TLSv1\.[23] with cipher [\x21-\x7e]+\) \(Authenticated sender: alice@isp\.example\) by msa\.isp\.example \(portwarden\) with (?:ESMTPSA|UTF8SMTPSA) id \S+ for <[^<>\s]+>; /u, where);
      if (/UTF8SMTPSA/.test(received)) utf8Seen++;
      const head = relayed[i].raw.subarray(0, relayed[i].raw.indexOf('\r\n\r\n')).toString('latin1');
      for (const line of head.split('\r\n')) assert.match(line, /^(?:[\x21-\x39\x3b-\x7e]+:|[ \t]+\S)/, where);
    });
    assert.equal(utf8Seen, cases.filter((c) => c.utf8).length);
    assert.ok(utf8Seen >= 12, `only ${utf8Seen} SMTPUTF8 cases`);
  });

  test('item 2: a display name spelling a foreign address or text after the angle-addr is refused with 550 5.7.1; own forms pass', async () => {
    const outcomes = await submit([
      { data: 'From: bob@evil.example <alice@isp.example>\r\nTo: x@example.org\r\n\r\nb\r\n' },
      { data: 'From: <alice@isp.example> bob@evil.example\r\nTo: x@example.org\r\n\r\nb\r\n' },
      { data: 'From: alice@isp.example\r\nSender: alice@isp.example, a.smith@isp.example\r\n\r\nb\r\n' },
      { data: 'From: alice@isp.example\r\nResent-From: bob@evil.example\r\n\r\nb\r\n' },
      { data: 'From: "Smith, Alice" <alice@isp.example>\r\nResent-Sender: <a.smith@isp.example>\r\nResent-From: alice@isp.example\r\n\r\nb\r\n' },
    ]);
    assert.deepEqual(outcomes.map((o) => o.code), [550, 550, 550, 550, 250], JSON.stringify(outcomes));
    for (const o of outcomes.slice(0, 4)) assert.match(o.text ?? '', /^5\.7\.1 /);
  });

  test('item 3 and 9: a loop (maxReceived 20) is 554 5.4.6; a 40 KB To field is 552 5.3.4', async () => {
    const hops = Array.from({ length: 20 }, (_, i) => `Received: from h${i}.example by h${i + 1}.example; Thu, 01 Jan 2026 00:00:00 +0000\r\n`).join('');
    const to = Array.from({ length: 2500 }, (_, i) => `u${i}@example.org`).join(', ');
    const outcomes = await submit([{ data: `${hops}${body()}` }, { data: `From: alice@isp.example\r\nTo: ${to}\r\n\r\nb\r\n` }, { data: `${hops.split('\r\n').slice(1).join('\r\n')}${body()}` }]);
    assert.deepEqual(outcomes.map((o) => o.code), [554, 552, 250], JSON.stringify(outcomes));
    assert.match(outcomes[0].text ?? '', /^5\.4\.6 Too many hops/);
    assert.match(outcomes[1].text ?? '', /^5\.3\.4 Address header field too long/);
  });

  test('item 16: the postmaster exception is rate limited per client address and never bounces', async () => {
    const before = sink.messages.length;
    const pm = (n: number): Case => ({ login: false, from: 'someone@example.net', to: ['postmaster@isp.example'], data: `From: someone@example.net\r\nTo: postmaster@isp.example\r\nSubject: report ${n}\r\n\r\nb\r\n` });
    const outcomes = await submit([pm(1), pm(2), pm(3)]);
    assert.deepEqual(outcomes.map((o) => o.code), [250, 250, 450], JSON.stringify(outcomes));
    assert.match(outcomes[2].text ?? '', /^4\.7\.1 Too many messages to postmaster/);
    // Both were tried at the next hop, which refused them: no notice may follow.
    await until(() => pw.logs.filter((l) => l.msg === 'delivery' && l.to === 'postmaster@isp.example' && l.status === 'failed').length === 2, 'two refused deliveries', 15_000);
    const w = await pw.cli(['queue', 'wait-empty', '--timeout', '10']);
    assert.equal(w.stderr, '');
    const tried = sink.messages.slice(before);
    assert.deepEqual(tried.map((m) => [m.mailFrom.replace(/ .*$/, ''), m.rcptTo]), [['<>', ['postmaster@isp.example']], ['<>', ['postmaster@isp.example']]], 'queued with the null reverse-path, nothing else sent');
    assert.equal(pw.logs.filter((l) => l.msg === 'notification queued').length, 0, 'no bounce was generated');
  });
});
