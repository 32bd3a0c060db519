// Item 1 of issue 10: no client byte can start a header line. Every code point
// class goes into the EHLO name and a single recipient's `for <…>` clause; the
// fixer's output is read back with Python's email package (policy.default), an
// RFC 5322 reader that shares no code with ours.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { needTools } from '../../test/lib/tools.ts';
import { pyReadMessages } from '../../test/lib/pyemail.ts';
import { CLASSES, INJECTIONS } from '../../test/lib/codepoints.ts';
import { MessageFixer } from './fixer.ts';
import { buildReceived } from './received.ts';

const skip = needTools('python3');

const HOST = 'mail.isp.example';

async function fix(received: string, smtputf8: boolean): Promise<Buffer> {
  const f = new MessageFixer({ hostname: HOST, clock: new ManualClock() }, { received, queueId: 'Q7K2', smtputf8 });
  const parts: Buffer[] = [];
  f.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise((resolve) => f.on('end', resolve));
  f.end('From: alice@isp.example\r\nSubject: s\r\n\r\nbody\r\n');
  await done;
  return Buffer.concat(parts);
}

const receivedFor = (helo: string, rcpt: string, utf8: boolean): string => buildReceived({
  heloName: helo, clientIp: '192.0.2.7', hostname: HOST, protocol: utf8 ? 'UTF8SMTPSA' : 'ESMTPSA',
  authId: 'alice@isp.example', queueId: 'Q7K2', forRcpt: rcpt, date: 0, utf8,
});

describe('generated header text: no client code point can start a field (Python email reads it back)', { skip }, () => {
  it('EHLO name and single-recipient for <…> over every code point class, with and without SMTPUTF8', async () => {
    const cases: Array<{ label: string; helo: string; rcpt: string; utf8: boolean }> = [];
    for (const [label, s] of [...CLASSES, ...INJECTIONS]) {
      for (const utf8 of [false, true]) {
        // Without SMTPUTF8 the engine admits only ASCII addresses, but the EHLO name may be anything.
        const rcpt = utf8 ? `a${s}b@example.org` : 'bob@example.org';
        cases.push({ label: `${label} (${utf8 ? 'SMTPUTF8' : 'ASCII'})`, helo: `h${s}h.example`, rcpt, utf8 });
      }
    }
    const outs = await Promise.all(cases.map((c) => fix(receivedFor(c.helo, c.rcpt, c.utf8), c.utf8)));
    const read = pyReadMessages(outs);
    cases.forEach((c, i) => {
      const out = outs[i];
      const head = out.subarray(0, out.indexOf('\r\n\r\n'));
      const m = read[i];
      assert.deepEqual(m.fields.map(([n]) => n.toLowerCase()), ['received', 'from', 'subject', 'message-id', 'date'], `${c.label}: ${JSON.stringify(m.fields)}`);
      assert.deepEqual(m.defects, [], c.label);
      // Bytes: only CRLF line ends, every line a field or a fold; ASCII unless the message is SMTPUTF8.
      for (const line of head.toString('latin1').split('\r\n')) {
        assert.match(line, /^(?:[\x21-\x39\x3b-\x7e]+:|[ \t]+\S)/, `${c.label}: ${JSON.stringify(line)}`);
        assert.doesNotMatch(line, /[\r\n\x00-\x08\x0b-\x1f\x7f]/, c.label);
      }
      if (!c.utf8) assert.ok(!/[^\x00-\x7f]/.test(head.toString('latin1')), `${c.label}: non-ASCII in a non-SMTPUTF8 header`);
      else assert.ok(Buffer.from(head.toString('utf8'), 'utf8').equals(head), `${c.label}: header is not valid UTF-8`);
      const received = m.fields[0][1];
      assert.doesNotMatch(received, /[\r\n\u0085\u2028\u2029]/, c.label);
      const forClause = / for <([^<>]*)>;/.exec(received);
      assert.ok(forClause, `${c.label}: no for clause in ${JSON.stringify(received)}`);
      assert.match(forClause[1], /^a.*b@example\.org$|^bob@example\.org$/u, c.label);
      const from = /^from (\S+) \(/.exec(received);
      assert.ok(from, `${c.label}: ${JSON.stringify(received)}`);
      assert.match(from[1], /^[\x21-\x7e]+$/, `${c.label}: EHLO token not printable ASCII`);
    });
  });

  it('an internationalised EHLO name is written as its A-label, kept readable', async () => {
    const out = await fix(receivedFor('b\u00fccher.example', 'bob@example.org', false), false);
    const [m] = pyReadMessages([out]);
    assert.match(m.fields[0][1], /^from xn--bcher-kva\.example \(/);
  });

  it('the longest EHLO name a command line can carry still makes a field within the line limit', async () => {
    for (const helo of ['\u{1F600}'.repeat(125), '\u00e9'.repeat(250), 'x'.repeat(505)]) {
      const out = await fix(receivedFor(helo, 'bob@example.org', false), false);
      for (const line of out.toString('latin1').split('\r\n')) assert.ok(line.length <= 998, `${line.length} octets`);
    }
  });

  it('SMTPUTF8 keeps a letter of the recipient as UTF-8 (RFC 6532), never a control', async () => {
    const out = await fix(receivedFor('h.example', 'j\u00f6rg\u2028x@example.org', true), true);
    const [m] = pyReadMessages([out]);
    assert.match(m.fields[0][1], / for <j\u00f6rg_x@example\.org>;/);
  });

  it('a non-ASCII AUTH identity in a non-SMTPUTF8 message becomes an RFC 2047 encoded-word in the comment', async () => {
    const r = buildReceived({ heloName: 'h.example', clientIp: '192.0.2.7', hostname: HOST, protocol: 'ESMTPSA',
      authId: 'j\u00f6rg\u010d\u010aBcc:x@isp.example', queueId: 'Q7K2', date: 0, utf8: false });
    const out = await fix(r, false);
    const [m] = pyReadMessages([out]);
    assert.deepEqual(m.fields.map(([n]) => n.toLowerCase()), ['received', 'from', 'subject', 'message-id', 'date']);
    assert.ok(!/[^\x00-\x7f]/.test(out.toString('latin1')), 'ASCII only');
    assert.match(out.toString('latin1'), /\(Authenticated sender:\s+=\?utf-8\?b\?[A-Za-z0-9+/=]+\?=\)/);
    // Python decodes the encoded-word back: the identity survives, as text inside the comment.
    assert.ok(m.fields[0][1].includes('(Authenticated sender: j\u00f6rg\u010d\u010aBcc:x@isp.example)'), m.fields[0][1]);
  });
});
