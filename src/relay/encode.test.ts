// CanonicalLines and DataEncoder against one-line references, over random
// inputs split at random points (a CRLF or a line-start dot may straddle
// chunks), and the pass-through of canonical text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanonicalLines, DataEncoder } from './index.ts';

const reference = (s: string): string => s.replace(/\r\n|\r|\n/g, '\r\n');

/**
 * `count` random texts of up to `maxTokens` tokens drawn from `alphabet`, each cut at
 * `innerCuts` random places into chunks (some may be empty). Seeded: the same cases every run.
 */
function* randomCases(seed: number, alphabet: string[], maxTokens: number, count: number, innerCuts: number): Generator<{ s: string; cuts: number[]; chunks: Buffer[] }> {
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let k = 0; k < count; k++) {
    const len = rnd(maxTokens);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[rnd(alphabet.length)];
    const buf = Buffer.from(s, 'latin1');
    const cuts = [0, ...Array.from({ length: innerCuts }, () => rnd(buf.length + 1)), buf.length].sort((a, b) => a - b);
    yield { s, cuts, chunks: cuts.slice(1).map((c, i) => buf.subarray(cuts[i], c)) };
  }
}

async function run(chunks: Buffer[]): Promise<Buffer[]> {
  const t = new CanonicalLines();
  const out: Buffer[] = [];
  t.on('data', (d: Buffer) => out.push(d));
  for (const c of chunks) t.write(c);
  t.end();
  await new Promise((r) => t.on('end', r));
  return out;
}

test('bare CR and LF become CRLF wherever the chunks are cut (3000 random cases)', async () => {
  for (const { s, cuts, chunks } of randomCases(12345, ['a', '\r', '\n', 'b', '.'], 24, 3000, 2)) {
    assert.equal(Buffer.concat(await run(chunks.filter((c) => c.length))).toString('latin1'), reference(s), JSON.stringify({ s, cuts }));
  }
});

test('canonical text passes through as the same buffer (no copy)', async () => {
  const chunk = Buffer.from('Subject: x\r\n\r\n' + 'line\r\n'.repeat(1000), 'latin1');
  const [out] = await run([chunk]);
  assert.equal(out, chunk);
});

/** RFC 5321 §4.5.2 as a regular expression: canonical ends, a dot doubled at each line start, then the terminator. */
const dataReference = (s: string): string => {
  const c = reference(s);
  return c.replace(/(^|\n)\./g, '$1..') + (c === '' || c.endsWith('\r\n') ? '.\r\n' : '\r\n.\r\n');
};

function encode(chunks: Buffer[], canonical = false): Buffer {
  const enc = new DataEncoder(canonical);
  const out: Buffer[] = [];
  for (const c of chunks) enc.push(c, out);
  enc.end(out);
  return Buffer.concat(out);
}

test('DataEncoder: canonical, dot-stuffed and terminated wherever the chunks are cut (5000 random cases)', () => {
  for (const { s, cuts, chunks } of randomCases(777, ['a', '\r', '\n', '.', '.', '\r\n'], 20, 5000, 3)) {
    assert.equal(encode(chunks).toString('latin1'), dataReference(s), JSON.stringify({ s, cuts }));
  }
});

test('DataEncoder: the cases by name', () => {
  const e = (...parts: string[]): string => encode(parts.map((p) => Buffer.from(p, 'latin1'))).toString('latin1');
  assert.equal(e(''), '.\r\n', 'an empty message is just the terminator');
  assert.equal(e('.\r\n'), '..\r\n.\r\n', 'a body that is a lone dot line cannot end the data early');
  assert.equal(e('a\r\n', '.b\r\n'), 'a\r\n..b\r\n.\r\n', 'a dot at the start of a chunk after a line end');
  assert.equal(e('a\r', '\n.'), 'a\r\n..\r\n.\r\n', 'CRLF split across chunks, then an unterminated dot line');
  assert.equal(e('a\n.\n'), 'a\r\n..\r\n.\r\n', 'bare LFs become CRLF before stuffing');
  assert.equal(e('no end'), 'no end\r\n.\r\n', 'a missing final line end is added');
});

test('DataEncoder: canonical text without leading dots is sent as the same buffer', () => {
  const chunk = Buffer.from('Subject: x\r\n\r\n' + 'line\r\n'.repeat(1000), 'latin1');
  const out: Buffer[] = [];
  new DataEncoder().push(chunk, out);
  assert.equal(out.length, 1);
  assert.equal(out[0], chunk);
});

test('DataEncoder for a body vouched canonical (Envelope.canonical): only stuffing and the terminator, same result', () => {
  for (const { s, cuts, chunks } of randomCases(4242, ['a', '.', '\r\n', '\r\n.', '..'], 16, 3000, 2)) {
    assert.equal(encode(chunks, true).toString('latin1'), dataReference(s), JSON.stringify({ s, cuts }));
  }
});
