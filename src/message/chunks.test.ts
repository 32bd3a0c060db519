// The same input split at every byte offset (and byte by byte) must give the
// same output and the same result: a CRLF split across chunks is not a stray
// CR plus a stray LF, and an empty line split in two still ends the header.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { masked, parseStrict, run, split } from './testkit.ts';

const FIXTURES: Record<string, string> = {
  plain: 'From: a@b.example\r\nSubject: s\r\nMessage-ID: <1@x>\r\n\r\nline 1\r\nline 2\r\n',
  j1: 'From: a@b\r\nSubject: s\r\n%%garbage\r\nx\r\n\r\nbody\r\n',
  j2: 'X-A: 1\r\n \t\r\nSubject: s\r\n\r\nbody\r\n',
  j3: 'Subject: a\rContent-Type: text/html\r\nTo: x@y\n z@w\r\n\r\nb\r\n',
  d11: 'Bcc: c@x,\r\n d@x\r\nReturn-Path: <r@x>\r\nDate: yesterday\r\n\r\nb\r\n',
  f3: 'Subject: s\r\n\r\nx\n.\r\nMAIL FROM:<a@b>\r\ny\r.\r\n\r\r\n\n\r\rend\r',
  noSeparator: 'Subject: s\r\nX-Last: 1\r',
  empty: '',
  onlyBody: '\r\nbody\r\n',
  crlfcrlf: '\r\n\r\n\r\n',
};

const REJECTING: Record<string, string> = {
  nulHeader: 'Subject: a\0\r\n\r\nb\r\n',
  nulBody: 'Subject: s\r\n\r\nok\r\nx\0\r\n',
  longBody: `Subject: s\r\n\r\n${'a'.repeat(40)}\r\n`,
  bigHeader: `X-A: ${'y'.repeat(60)}\r\n\r\nb\r\n`,
  malformed: 'Subject: s\r\n%%\r\n\r\n',
};
const REJECT_OPTS = { maxLineLength: 30, maxHeaderBytes: 50, malformedHeaderAction: 'reject' as const };

describe('chunk boundaries', () => {
  for (const [name, text] of Object.entries(FIXTURES)) {
    it(`${name}: every two-way split and byte-by-byte give the same output`, async () => {
      const input = Buffer.from(text, 'latin1');
      const whole = await run(input);
      parseStrict(whole.out);
      const want = masked(whole.out);
      for (let i = 1; i < input.length; i++) {
        const r = await run(split(input, i));
        assert.equal(masked(r.out), want, `split at ${i}`);
        assert.deepEqual({ ...r.result, messageId: '' }, { ...whole.result, messageId: '' }, `result, split at ${i}`);
      }
      const bytes = await run(Array.from(input, (b) => Buffer.from([b])));
      assert.equal(masked(bytes.out), want, 'byte by byte');
      assert.deepEqual(bytes.result.repairs, whole.result.repairs);
    });
  }
  for (const [name, text] of Object.entries(REJECTING)) {
    it(`${name}: the reject does not depend on chunking`, async () => {
      const input = Buffer.from(text, 'latin1');
      const whole = await run(input, REJECT_OPTS);
      assert.ok(whole.result.reject, 'whole input is rejected');
      for (let i = 1; i < input.length; i++) {
        const r = await run(split(input, i), REJECT_OPTS);
        assert.deepEqual(r.result.reject, whole.result.reject, `split at ${i}`);
        assert.equal(r.rejects, 1);
      }
      const bytes = await run(Array.from(input, (b) => Buffer.from([b])), REJECT_OPTS);
      assert.deepEqual(bytes.result.reject, whole.result.reject);
    });
  }
  it('three-way splits around the header/body boundary', async () => {
    const input = Buffer.from(FIXTURES.f3, 'latin1');
    const want = masked((await run(input)).out);
    for (let i = 1; i < 20; i++) {
      for (let j = i + 1; j < input.length; j++) {
        assert.equal(masked((await run(split(input, i, j))).out), want, `split at ${i},${j}`);
      }
    }
  });
});
