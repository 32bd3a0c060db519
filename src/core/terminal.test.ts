import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalJson, visible } from './terminal.ts';

test('visible: every C0, DEL, C1 and Unicode control/separator is shown escaped; the rest is untouched', () => {
  const unsafe = [
    ...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
    0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
  ];
  for (const cp of unsafe) {
    const out = visible(`a${String.fromCharCode(cp)}b`);
    assert.match(out, /^a\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[nrt])b$/, `U+${cp.toString(16)}: ${JSON.stringify(out)}`);
  }
  assert.equal(visible('\x1b[2J\r\n\t'), '\\x1b[2J\\r\\n\\t');
  assert.equal(visible('\u202egnp.exe'), '\\u202egnp.exe');
  assert.equal(visible('a\tb', { keepTabs: true }), 'a\tb');
  assert.equal(visible('Grüße, 日本, back\\slash, ~'), 'Grüße, 日本, back\\slash, ~');
});

test('terminalJson: the same values, with DEL, C1 and Unicode controls as \\u escapes', () => {
  const v = { s: 'x\x1b\x7f\x85\u202e\u2028y', k: ['é'] };
  const text = terminalJson(v);
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u202e]/);
  assert.deepEqual(JSON.parse(text), v);
});
