// The strict originator reader and the J4 counter, case by case; the
// differential corpus against Python is src/submission/binding.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEncodedWords, parseMailboxList } from './address.ts';
import { countAddresses, readOriginator } from './originators.ts';

describe('parseMailboxList', () => {
  it('returns addresses and decoded display names', () => {
    assert.deepEqual(parseMailboxList('=?iso-8859-1?q?J=F6rg?= <j@x.example>, "A, B" <a@x.example>, c@x.example'), {
      ok: true,
      mailboxes: [{ address: 'j@x.example', display: 'J\u00f6rg' }, { address: 'a@x.example', display: 'A, B' }, { address: 'c@x.example', display: '' }],
    });
  });
  it('single: exactly one mailbox', () => {
    assert.equal(parseMailboxList('a@x.example, b@x.example', { single: true }).ok, false);
    assert.equal(parseMailboxList('a@x.example', { single: true }).ok, true);
  });
  it('names the reason of a refusal', () => {
    assert.deepEqual(parseMailboxList('a@x.example:b@y.example'), { ok: false, why: 'group or route syntax' });
    assert.deepEqual(parseMailboxList('"a <a@x.example>'), { ok: false, why: 'unbalanced quote' });
    assert.deepEqual(parseMailboxList('<a@x.example> b'), { ok: false, why: 'text after angle address' });
  });
  it('an encoded-word in an unknown charset or broken is refused, not guessed', () => {
    assert.equal(decodeEncodedWords('=?x-no-such?q?a?='), null);
    assert.equal(parseMailboxList('=?utf-8?b?/w==?= <a@x.example>').ok, false, 'invalid UTF-8 inside the word');
  });
});

describe('readOriginator', () => {
  it('refuses a field that is not valid UTF-8 (a reader would guess a charset)', () => {
    assert.deepEqual(readOriginator('from', 'J\xf6rg <j@x.example>').result, { ok: false, why: 'invalid UTF-8' });
    assert.equal(readOriginator('from', Buffer.from('J\u00f6rg <j@x.example>', 'utf8').toString('latin1')).result.ok, true);
  });
});

describe('countAddresses (J4 only: tolerant, linear)', () => {
  const cases: Array<[string, number]> = [
    ['a@x.example', 1],
    ['"Smith, A" <a@x.example>, b@x.example', 2],
    ['undisclosed-recipients:;', 0],
    ['team: a@x.example, b@x.example;, c@x.example', 3],
    ['(x, y@z) a@x.example', 1],
    ['<@r1,@r2:a@x.example>', 1],
    ['', 0],
  ];
  for (const [v, n] of cases) it(`${JSON.stringify(v)} → ${n}`, () => assert.equal(countAddresses(v), n));
});
