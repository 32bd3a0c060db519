import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeXtext, parsePath, splitParams } from './address.ts';

test('parsePath accepts RFC 5321 paths and returns the mailbox', () => {
  const ok: Array<[string, 'mail' | 'rcpt', string, string]> = [
    ['<a@example.org>', 'mail', 'a@example.org', ''],
    ['<>', 'mail', '', ''],
    ['<Postmaster>', 'rcpt', 'Postmaster', ''],
    ['<"a b\\"c"@example.org> X=1', 'mail', '"a b\\"c"@example.org', 'X=1'],
    ['<"x>y"@example.org>', 'mail', '"x>y"@example.org', ''],
    ['<@a.example,@b.example:u@c.example>', 'rcpt', 'u@c.example', ''],
    ['<u@[192.0.2.1]>', 'rcpt', 'u@[192.0.2.1]', ''],
    ['<u@[IPv6:2001:db8::1]>', 'rcpt', 'u@[IPv6:2001:db8::1]', ''],
    ['<ü@bücher.example>', 'rcpt', 'ü@bücher.example', ''],
  ];
  for (const [arg, kind, address, params] of ok) {
    const r = parsePath(arg, kind);
    assert.ok(r.ok, arg);
    assert.equal(r.address.address, address, arg);
    assert.equal(r.params, params, arg);
  }
  const r = parsePath('<ü@bücher.example>', 'rcpt');
  assert.ok(r.ok && r.address.utf8 && r.address.domain === 'bücher.example');
});

test('parsePath rejects bad syntax and over-long parts', () => {
  const bad: Array<[string, 'mail' | 'rcpt']> = [
    ['<>', 'rcpt'],
    ['a@example.org', 'mail'],
    ['<a@example.org>x', 'mail'],
    ['<a@@b>', 'mail'],
    ['<x y@z>', 'rcpt'],
    ['<a..b@example.org>', 'mail'],
    ['<a@example..org>', 'mail'],
    ['<a@example.org.>', 'mail'],
    ['<a@[300.1.1.1]>', 'mail'],
    ['<a@[IPv6:zz]>', 'mail'],
    ['<@a.example:>', 'mail'],
    ['<a@b_c.example>', 'mail'],
    ['<postmaster>', 'mail'],
    [`<${'x'.repeat(65)}@example.org>`, 'mail'],
    [`<a@${'b'.repeat(64)}.example>`, 'mail'],
    [`<${'x'.repeat(64)}@${Array(4).fill('d'.repeat(60)).join('.')}>`, 'mail'],
  ];
  for (const [arg, kind] of bad) assert.equal(parsePath(arg, kind).ok, false, arg);
});

test('xtext and parameter splitting', () => {
  assert.equal(decodeXtext('a+2Bb+3Dc'), 'a+b=c');
  assert.equal(decodeXtext('a+2b'), null);
  assert.equal(decodeXtext('a=b'), null);
  assert.deepEqual(splitParams('SIZE=10  body=8bitmime SMTPUTF8'), {
    params: [
      { key: 'SIZE', value: '10', raw: 'SIZE=10' },
      { key: 'BODY', value: '8bitmime', raw: 'body=8bitmime' },
      { key: 'SMTPUTF8', value: null, raw: 'SMTPUTF8' },
    ],
  });
  assert.deepEqual(splitParams('-X=1'), { bad: '-X=1' });
});
