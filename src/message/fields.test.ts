import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldLine, formatRfc5322Date, isValidMessageId, makeMessageId, parseRfc5322Date } from './fields.ts';

describe('isValidMessageId (RFC 5322 §3.6.4)', () => {
  for (const v of ['<a@b>', '<1.2.3@mail.example.org>', ' <x+y=z@[192.0.2.1]> ', '<"q s"@host>', '(c) <a@b> (d)', '<\u00c3\u00a9@h>']) {
    it(`accepts ${JSON.stringify(v)}`, () => assert.equal(isValidMessageId(v), true));
  }
  for (const v of ['', 'a@b', '<a>', '<@b>', '<a@>', '<a b@c>', '<a@b> <c@d>', '<a..b@c>', '<a@b', 'not an id']) {
    it(`rejects ${JSON.stringify(v)}`, () => assert.equal(isValidMessageId(v), false));
  }
  it('a generated id is valid, carries the queue id and our host, and differs each time', () => {
    const a = makeMessageId('mail.isp.example', 'Q-1/x', 0);
    assert.equal(isValidMessageId(a), true);
    assert.match(a, /^<0\.Q1x\.[0-9a-f]{16}@mail\.isp\.example>$/);
    assert.notEqual(a, makeMessageId('mail.isp.example', 'Q-1/x', 0));
  });
});

describe('parseRfc5322Date (RFC 5322 §3.3, §4.3)', () => {
  const at = Date.UTC(2026, 0, 1, 9, 0, 0);
  const same: string[] = [
    'Thu, 01 Jan 2026 10:00:00 +0100',
    'Thu, 1 Jan 2026 09:00:00 +0000',
    '1 Jan 2026 09:00 GMT',
    'thu,1 jan 2026 04:00:00 EST',
    'Thu, 01 Jan 26 09:00:00 UT (Coordinated Universal Time)',
    'Thu, 01\r\n Jan 2026 09:00:00 -0000',
    'Thu , 01 Jan 2026 09 : 00 : 00 Z',
  ];
  for (const v of same) it(`parses ${JSON.stringify(v)}`, () => assert.equal(parseRfc5322Date(v), at));
  it('two-digit years follow §4.3', () => {
    assert.equal(new Date(parseRfc5322Date('1 Jan 99 00:00 +0000') as number).getUTCFullYear(), 1999);
    assert.equal(new Date(parseRfc5322Date('1 Jan 049 00:00 +0000') as number).getUTCFullYear(), 1949);
  });
  for (const v of ['yesterday', '', '2026-01-01T00:00:00Z', '32 Jan 2026 00:00 +0000', '29 Feb 2025 00:00 +0000',
    '1 Jan 2026 24:00 +0000', '1 Jan 2026 00:60 +0000', '1 Jan 2026 00:00', '1 Foo 2026 00:00 +0000',
    '1 Jan 2026 00:00 +01', '1 Jan 2026 00:00 J', '1 Jan 1800 00:00 +0000']) {
    it(`rejects ${JSON.stringify(v)}`, () => assert.equal(parseRfc5322Date(v), null));
  }
  it('29 Feb in a leap year is a date', () => assert.notEqual(parseRfc5322Date('29 Feb 2028 00:00 +0000'), null));
  it('formatRfc5322Date round-trips and is in UTC', () => {
    for (const t of [0, at, Date.UTC(2031, 11, 31, 23, 59, 59)]) {
      const s = formatRfc5322Date(t);
      assert.match(s, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/);
      assert.equal(parseRfc5322Date(s), t);
    }
    assert.equal(formatRfc5322Date(at), 'Thu, 01 Jan 2026 09:00:00 +0000');
  });
});

describe('foldLine (RFC 5322 §2.2.3)', () => {
  it('leaves a short line alone', () => assert.deepEqual(foldLine('Subject: hi'), ['Subject: hi']));
  it('folds at whitespace to <= 78 where it can; unfolding restores the line', () => {
    const line = `Subject: ${Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')}`;
    const pieces = foldLine(line);
    assert.ok(pieces && pieces.length > 3);
    for (const p of pieces) assert.ok(p.length <= 78, p);
    for (const p of pieces.slice(1)) assert.match(p, /^[ \t]\S/);
    assert.equal(pieces.join(''), line);
  });
  it('uses a longer piece (<= hard) when a word is longer than soft', () => {
    const long = 'x'.repeat(200);
    const pieces = foldLine(`Subject: a ${long} b`, 78, 998, 8);
    assert.deepEqual(pieces, ['Subject: a', ` ${long}`, ' b']);
  });
  it('never folds before the colon position given', () => {
    const pieces = foldLine(`X: ${'y'.repeat(100)}`, 78, 998, 2);
    assert.deepEqual(pieces, [`X: ${'y'.repeat(100)}`]);
  });
  it('returns null when a word exceeds hard', () => {
    assert.equal(foldLine(`Subject: ${'z'.repeat(1000)}`, 78, 998, 8), null);
  });
  it('never makes a whitespace-only piece', () => {
    const line = `Subject: a${' '.repeat(100)}b${' '.repeat(100)}c`;
    const pieces = foldLine(line, 78, 998, 8);
    assert.ok(pieces);
    for (const p of pieces) assert.doesNotMatch(p, /^[ \t]*$/);
    assert.equal(pieces.join(''), line);
  });
});
