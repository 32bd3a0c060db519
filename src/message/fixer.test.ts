// Fixtures for REQUIREMENTS J1-J4, D1, D2, D9, D11, F3, F6, F7 through the
// whole transform; every accepted output is read back with parseStrict.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { formatRfc5322Date, parseRfc5322Date } from './fields.ts';
import { MessageFixer, type FixResult } from './fixer.ts';
import { parseMailboxList } from './address.ts';
import { HOST, RECEIVED, parseStrict, run } from './testkit.ts';

/** addr-specs of the strictly read `label` fields (From, Sender), in order; a refused field lists none. */
const listed = (r: FixResult, label: string): string[] =>
  r.originators.flatMap((o) => (o.field === label && o.result.ok ? o.result.mailboxes.map((m) => m.address) : []));

const BASE = 'From: Alice <alice@isp.example>\r\nTo: bob@example.org\r\nSubject: hi\r\n' +
  'Message-ID: <abc.123@laptop.example>\r\nDate: Thu, 01 Jan 2026 10:00:00 +0100\r\n';

describe('J1: header section ends at a line that is not a field', () => {
  const msg = 'From: a@b.example\r\nSubject: s\r\n%%garbage\r\nx\r\n\r\nbody\r\n';
  it('fix_quietly inserts the empty line and adds no marker', async () => {
    const { out, result } = await run(msg, { malformedHeaderAction: 'fix_quietly' });
    const p = parseStrict(out);
    assert.equal(p.body, '%%garbage\r\nx\r\n\r\nbody\r\n');
    assert.deepEqual(p.get('subject'), ['s']);
    assert.deepEqual(p.get('x-portwarden-repair'), []);
    assert.ok(result.repairs.includes('header section ended early; empty line inserted'));
    assert.equal(result.reject, undefined);
  });
  it('add_header (default) also flags the message', async () => {
    const { out } = await run(msg);
    const p = parseStrict(out);
    assert.equal(p.body, '%%garbage\r\nx\r\n\r\nbody\r\n');
    assert.equal(p.get('x-portwarden-repair').length, 1);
  });
  it('reject answers 554 5.6.0 and writes nothing', async () => {
    const { out, result, rejects } = await run(msg, { malformedHeaderAction: 'reject' });
    assert.equal(out.length, 0);
    assert.deepEqual(result.reject, { code: 554, enhanced: '5.6.0', text: 'Malformed message header' });
    assert.equal(rejects, 1);
  });
  it('a message that starts with body text gets an empty header section of ours', async () => {
    const { out } = await run('just text\r\nmore\r\n', { malformedHeaderAction: 'fix_quietly' });
    const p = parseStrict(out);
    assert.deepEqual(p.fields.map((f) => f.name), ['received', 'message-id', 'date']);
    assert.equal(p.body, 'just text\r\nmore\r\n');
  });
  it('a leading continuation line is not a field', async () => {
    const { out } = await run(' folded\r\nSubject: s\r\n\r\nb\r\n', { malformedHeaderAction: 'fix_quietly' });
    assert.equal(parseStrict(out).body, ' folded\r\nSubject: s\r\n\r\nb\r\n');
  });
  it('obsolete WSP before the colon is a field, not garbage', async () => {
    const { out, result } = await run('Subject : s\r\n\r\nb\r\n');
    assert.deepEqual(parseStrict(out).get('subject'), ['s']);
    assert.equal(result.subject, 's');
  });
});

describe('J2: whitespace-only header lines', () => {
  it('are dropped and do not end the header', async () => {
    const { out, result } = await run('X-A: 1\r\n \t\r\nSubject: s\r\n\r\nbody\r\n');
    const p = parseStrict(out);
    assert.deepEqual(p.get('subject'), ['s']);
    assert.deepEqual(p.get('x-a'), ['1']);
    assert.equal(p.body, 'body\r\n');
    assert.ok(result.repairs.includes('dropped whitespace-only header line'));
  });
});

describe('J3: stray CR or LF in a header', () => {
  it('Subject: a<CR>Content-Type stays one Subject', async () => {
    const { out, result } = await run('Subject: a\rContent-Type: text/html\r\n\r\nb\r\n');
    const p = parseStrict(out);
    assert.deepEqual(p.get('subject'), ['a Content-Type: text/html']);
    assert.deepEqual(p.get('content-type'), []);
    assert.ok(result.repairs.includes('replaced stray CR/LF in header with space'));
  });
  it('a bare LF is a space too', async () => {
    const { out } = await run('Subject: a\nBcc: x@y\r\n\r\nb\r\n');
    const p = parseStrict(out);
    assert.deepEqual(p.get('subject'), ['a Bcc: x@y']);
  });
});

describe('J4: line and size limits in the header', () => {
  it('a 10 000-octet Subject with spaces is folded, content kept', async () => {
    const words = Array.from({ length: 1000 }, (_, i) => `w${String(i).padStart(7, '0')}`).join(' ');
    const { out, result } = await run(`Subject: ${words}\r\n\r\nb\r\n`);
    const p = parseStrict(out);
    const subj = p.fields.find((f) => f.name === 'subject');
    assert.ok(subj && subj.raw.split('\r\n').length > 100);
    assert.equal(subj.value, words);
    assert.ok(result.repairs.includes('folded over-long header line'));
  });
  it('a 10 000-octet Date is invalid, so it is replaced, never passed on', async () => {
    const { out, result } = await run(`Date: ${'1'.repeat(10000)}\r\n\r\nb\r\n`);
    assert.doesNotMatch(parseStrict(out).get('date')[0], /1111/);
    assert.ok(result.repairs.includes('removed invalid Date'));
  });
  it('a 10 000-octet word cannot be folded: 554 5.6.0', async () => {
    const { out, result } = await run(`Subject: ${'x'.repeat(10000)}\r\n\r\nb\r\n`);
    assert.equal(out.length, 0);
    assert.deepEqual(result.reject, { code: 554, enhanced: '5.6.0', text: 'Message header line too long' });
  });
  it('a header section over maxHeaderBytes: 552 5.3.4, nothing written, input consumed', async () => {
    const line = `X-Filler: ${'y'.repeat(70)}\r\n`;
    const chunks = Array.from({ length: 1400 }, () => Buffer.from(line));
    chunks.push(Buffer.from('\r\nbody\r\n'));
    const { out, result, rejects } = await run(chunks);
    assert.equal(out.length, 0);
    assert.deepEqual(result.reject, { code: 552, enhanced: '5.3.4', text: 'Message header size exceeds limit' });
    assert.equal(rejects, 1);
    assert.ok(result.headerBytes <= 102400 + line.length);
  });
  it('exactly at the limit passes, one octet more does not, however it is chunked', async () => {
    const line = `X-Filler: ${'y'.repeat(70)}\r\n`;
    const n = Math.floor(1000 / line.length);
    const header = line.repeat(n) + `X-Last: ${'z'.repeat(1000 - n * line.length - 10)}\r\n`;
    assert.equal(header.length, 1000);
    const msg = Buffer.from(`${header}\r\nb\r\n`);
    for (const at of [0, 1000, 1001, 1002]) {
      const ok = await run(at ? [msg.subarray(0, at), msg.subarray(at)] : msg, { maxHeaderBytes: 1000 });
      parseStrict(ok.out);
      assert.equal(ok.result.headerBytes, 1000);
      const over = await run(at ? [msg.subarray(0, at), msg.subarray(at)] : msg, { maxHeaderBytes: 999 });
      assert.equal(over.result.reject?.code, 552, `split at ${at}`);
    }
  });
  it('too many To/Cc addresses: 554 5.5.3', async () => {
    const to = Array.from({ length: 600 }, (_, i) => `u${i}@example.org`).join(',\r\n ');
    const { result } = await run(`To: ${to}\r\nCc: ${to}\r\n\r\nb\r\n`);
    assert.equal(result.reject?.code, 554);
    assert.equal(result.reject?.enhanced, '5.5.3');
    const ok = await run(`To: ${to}\r\n\r\nb\r\n`);
    assert.equal(ok.result.toCount, 600);
    parseStrict(ok.out);
  });
});

describe('D1: Message-ID', () => {
  it('missing: one is added with our hostname', async () => {
    const { out, result } = await run('Subject: s\r\n\r\nb\r\n');
    const p = parseStrict(out);
    assert.match(p.get('message-id')[0], new RegExp(`^<[^@>]+@${HOST.replace(/\./g, '\\.')}>$`));
    assert.equal(result.messageId, p.get('message-id')[0]);
    assert.equal(result.hadMessageId, false);
  });
  it('invalid: replaced', async () => {
    const { out, result } = await run('Message-ID: not an id\r\n\r\nb\r\n');
    const p = parseStrict(out);
    assert.ok(p.get('message-id')[0].endsWith(`@${HOST}>`));
    assert.ok(result.repairs.includes('removed invalid Message-ID'));
  });
  it('valid: kept as is; a duplicate is dropped', async () => {
    const { out, result } = await run(BASE + 'Message-Id: <other@x.example>\r\n\r\nb\r\n');
    const p = parseStrict(out);
    assert.deepEqual(p.get('message-id'), ['<abc.123@laptop.example>']);
    assert.equal(result.messageId, '<abc.123@laptop.example>');
    assert.equal(result.hadMessageId, true);
  });
  it('addMessageId: false leaves a message without one', async () => {
    const { out, result } = await run('Subject: s\r\n\r\nb\r\n', { addMessageId: false });
    assert.doesNotMatch(out.toString(), /Message-ID/i);
    assert.equal(result.messageId, '');
    const kept = await run('Message-ID: not an id\r\nDate: yesterday\r\n\r\nb\r\n', { addMessageId: false, addDate: false });
    assert.match(kept.out.toString(), /\r\nMessage-ID: not an id\r\nDate: yesterday\r\n\r\n/);
    assert.equal(kept.result.hadMessageId, false);
    assert.equal(kept.result.hasDate, false);
  });
});

describe('D2: Date', () => {
  it('missing: added from the clock, +0000', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 4, 5, 6, 7));
    const { out, result } = await run('Subject: s\r\n\r\nb\r\n', { clock });
    const p = parseStrict(out);
    assert.deepEqual(p.get('date'), [formatRfc5322Date(clock.now())]);
    assert.equal(parseRfc5322Date(p.get('date')[0]), clock.now());
    assert.equal(result.hasDate, false);
  });
  it('"Date: yesterday" is replaced', async () => {
    const { out, result } = await run('Date: yesterday\r\n\r\nb\r\n');
    assert.notEqual(parseRfc5322Date(parseStrict(out).get('date')[0]), null);
    assert.ok(result.repairs.includes('removed invalid Date'));
  });
  it('a valid obsolete date is kept', async () => {
    const { out, result } = await run('Date: 4 Mar 26 05:06 GMT (UTC)\r\n\r\nb\r\n');
    assert.deepEqual(parseStrict(out).get('date'), ['4 Mar 26 05:06 GMT (UTC)']);
    assert.equal(result.hasDate, true);
  });
});

describe('D9: Received', () => {
  it('ours is first, folded, and existing Received fields are untouched', async () => {
    const old = 'Received: from x by y with SMTP id 1;\r\n\tWed, 31 Dec 2025 23:00:00 +0000\r\n';
    const { out } = await run(old + BASE + '\r\nb\r\n');
    const p = parseStrict(out);
    const rec = p.fields.filter((f) => f.name === 'received');
    assert.equal(rec.length, 2);
    assert.ok(rec[0].raw.split('\r\n').every((l) => l.length <= 78));
    assert.equal(rec[0].value.replace(/\s+/g, ' '), RECEIVED.replace(/\s+/g, ' '));
    assert.equal(`${rec[1].raw}\r\n`, old);
  });
  it('a Received value with CR or LF cannot inject a field', async () => {
    const f = new MessageFixer({ hostname: HOST }, { received: 'from x\r\nBcc: evil@x by y; Thu, 1 Jan 2026 00:00:00 +0000', queueId: 'q' });
    const parts: Buffer[] = [];
    f.on('data', (b: Buffer) => parts.push(b));
    f.end('Subject: s\r\n\r\nb\r\n');
    await new Promise((resolve) => f.on('end', resolve));
    const p = parseStrict(Buffer.concat(parts));
    assert.deepEqual(p.get('bcc'), []);
    assert.equal(p.get('received').length, 1);
  });
  it('a Received value that cannot be folded is a caller bug and throws', () => {
    assert.throws(() => new MessageFixer({ hostname: HOST }, { received: `from ${'x'.repeat(1200)}`, queueId: 'q' }), RangeError);
  });
});

describe('D11: fields the originator must not pass on', () => {
  it('Bcc, Resent-Bcc, Return-Path, Content-Length are removed, folded lines included', async () => {
    const { out, result } = await run(BASE + 'BCC: c@x.example,\r\n d@x.example\r\nResent-Bcc: e@x\r\n' +
      'Return-Path: <bounce@x>\r\ncontent-length: 5\r\n\r\nb\r\n');
    const p = parseStrict(out);
    for (const n of ['bcc', 'resent-bcc', 'return-path', 'content-length']) assert.deepEqual(p.get(n), [], n);
    assert.doesNotMatch(out.toString(), /d@x\.example/);
    for (const r of ['removed Bcc', 'removed Resent-Bcc', 'removed Return-Path', 'removed Content-Length']) {
      assert.ok(result.repairs.includes(r), r);
    }
  });
});

describe('F3: canonical line endings in the body', () => {
  it('smuggling payloads lose their bare CR and LF', async () => {
    const body = 'x\n.\r\nMAIL FROM:<a@b>\r\ny\r.\r\nz\r\n';
    const { out, result } = await run(BASE + '\r\n' + body);
    const p = parseStrict(out);
    assert.equal(p.body, 'x .\r\nMAIL FROM:<a@b>\r\ny .\r\nz\r\n');
    assert.ok(result.repairs.includes('replaced stray CR/LF in body with space (x2)'));
  });
  it('a missing final CRLF is added; a trailing bare CR becomes a space', async () => {
    assert.equal(parseStrict((await run(BASE + '\r\nend')).out).body, 'end\r\n');
    assert.equal(parseStrict((await run(BASE + '\r\nend\r')).out).body, 'end \r\n');
  });
  it('a message of headers only, without the empty line, gets one', async () => {
    const { out, result } = await run(BASE + 'X-Last: 1');
    const p = parseStrict(out);
    assert.deepEqual(p.get('x-last'), ['1']);
    assert.equal(p.body, '');
    assert.equal(result.bodyBytes, 0);
  });
  it('an empty message gets our fields only', async () => {
    const { out } = await run('');
    assert.equal(parseStrict(out).fields.length, 3);
  });
});

describe('F6: NUL', () => {
  const nul = { code: 554, enhanced: '5.6.0', text: 'Message contains NUL characters' };
  it('in a header: 554 5.6.0, nothing written', async () => {
    const { out, result } = await run('Subject: a\0b\r\n\r\nbody\r\n');
    assert.equal(out.length, 0);
    assert.deepEqual(result.reject, nul);
  });
  it('in the body: 554 5.6.0, output stops, input is consumed', async () => {
    const chunks = [Buffer.from(BASE + '\r\nok\r\n'), Buffer.from('a\0b\r\n'), Buffer.from('more\r\n'.repeat(1000))];
    const { out, result, rejects } = await run(chunks);
    assert.deepEqual(result.reject, nul);
    assert.equal(rejects, 1);
    assert.equal(out.indexOf(0), -1);
    assert.doesNotMatch(out.toString(), /more/);
  });
});

describe('F7: body line limit', () => {
  it('998 octets pass, 999 are rejected (no truncation)', async () => {
    const ok = await run(BASE + '\r\n' + 'a'.repeat(998) + '\r\n');
    assert.equal(parseStrict(ok.out).body.length, 1000);
    const bad = await run([Buffer.from(BASE + '\r\n'), Buffer.from('a'.repeat(500)), Buffer.from('a'.repeat(499) + '\r\n')]);
    assert.deepEqual(bad.result.reject, { code: 554, enhanced: '5.6.0', text: 'Message content line too long (RFC 5322 2.1.1)' });
  });
  it('maxLineLength is configurable', async () => {
    const { result } = await run(BASE + '\r\n' + 'a'.repeat(80) + '\r\n', { maxLineLength: 78 });
    assert.equal(result.reject?.code, 554);
  });
});

describe('result', () => {
  it('reports From, Sender, Subject (undecoded), counts and sizes', async () => {
    const subject = '=?utf-8?q?caf=C3=A9?= déjà';
    const msg = `From: "A, B" <a@isp.example>, c@isp.example\r\nSender: s@isp.example\r\nTo: x@o, y@o\r\n` +
      `Cc: g: z@o, w@o;\r\nSubject: ${subject}\r\n\r\nbody\r\n`;
    const { out, result } = await run(Buffer.from(msg, 'utf8'));
    assert.deepEqual(listed(result, 'From'), ['a@isp.example', 'c@isp.example']);
    assert.equal(listed(result, 'Sender')[0] ?? null, 's@isp.example');
    assert.equal(result.subject, subject);
    assert.equal(result.toCount, 2);
    assert.equal(result.ccCount, 2);
    assert.equal(result.size, out.length);
    assert.equal(result.bodyBytes, 6);
    assert.equal(result.headerBytes, Buffer.byteLength(msg) - 8);
  });
  it('obsolete From syntax (RFC 5322 §4.4: CFWS around "@" and ".", a source route) is not read as a mailbox: a second spelling the binding refuses (issue 10 item 2)', async () => {
    for (const v of ['alice @ isp . example', 'Bob <@relay.example:bob@isp.example>']) {
      const { result } = await run(`From: ${v}\r\nSubject: s\r\n\r\nb\r\n`);
      assert.deepEqual(listed(result, 'From'), [], v);
      assert.equal(parseMailboxList(v).ok, false, v);
    }
    assert.equal(parseMailboxList('A. Smith <alice@isp.example>').ok, true, 'the obsolete "." in a display name is still read');
  });
  it('a field named like an Object.prototype member (Constructor, __proto__, toString) is not an originator field', async () => {
    for (const name of ['Constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const { result } = await run(`From: alice@isp.example\r\n${name}: hello world\r\nSubject: s\r\n\r\nb\r\n`);
      assert.equal(result.reject, undefined, name);
      assert.deepEqual(result.originators.map((o) => o.field), ['From'], name);
    }
  });
  it('a missing From is reported, not decided', async () => {
    const { out, result } = await run('Subject: s\r\n\r\nb\r\n');
    parseStrict(out);
    assert.deepEqual(listed(result, 'From'), []);
    assert.equal(result.reject, undefined);
  });
});

describe('issue 10 item 3: mail loops (Postfix hopcount_limit)', () => {
  const received = (n: number): string => Array.from({ length: n }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Thu, 01 Jan 2026 00:00:00 +0000\r\n`).join('');
  it('49 Received fields plus ours (50) pass', async () => {
    const { out, result } = await run(`${received(49)}${BASE}\r\nbody\r\n`);
    assert.equal(result.reject, undefined);
    assert.equal(parseStrict(out).get('received').length, 50);
  });
  it('50 Received fields plus ours (51) are a loop: 554 5.4.6, nothing written', async () => {
    const { out, result } = await run(`${BASE}${received(50)}\r\nbody\r\n`);
    assert.equal(result.reject?.code, 554);
    assert.equal(result.reject?.enhanced, '5.4.6');
    assert.equal(out.length, 0);
  });
  it('the limit is an option', async () => {
    const { result } = await run(`${received(3)}${BASE}\r\nbody\r\n`, { maxReceived: 3 });
    assert.equal(result.reject?.enhanced, '5.4.6');
  });
});

describe('issue 10 item 9: address fields are capped in size and count before they are parsed', () => {
  const many = (n: number): string => Array.from({ length: n }, (_, i) => `user${i}@example.org`).join(', ');
  it('a To field over 32 KiB is refused with 552 5.3.4 (one of 99 KB stalled the parser ~0.7 s)', async () => {
    const to = many(3000); // ~66 KB, under the 100 KiB header cap
    const { out, result } = await run(`${BASE}To: ${to}\r\n\r\nbody\r\n`, { maxHeaderAddresses: 100000 });
    assert.equal(result.reject?.code, 552);
    assert.equal(result.reject?.enhanced, '5.3.4');
    assert.match(String(result.reject?.text), /address header field too long/i);
    assert.equal(out.length, 0);
  });
  it('more than 50 address fields are refused with 552 5.3.4', async () => {
    const ccs = Array.from({ length: 50 }, (_, i) => `Cc: c${i}@example.org\r\n`).join('');
    const { result } = await run(`${BASE}${ccs}\r\nbody\r\n`);
    assert.equal(result.reject?.code, 552);
    assert.match(String(result.reject?.text), /too many address header fields/i);
  });
  it('a To field just under the cap is counted, not refused (J4 still applies)', async () => {
    const to = many(1200).slice(0, 30000).replace(/,[^,]*$/, '');
    const { result } = await run(`${BASE}To: ${to}\r\n\r\nbody\r\n`, { maxHeaderAddresses: 100000 });
    assert.equal(result.reject, undefined);
    assert.equal(result.toCount, to.split(',').length + 1);
  });
});
