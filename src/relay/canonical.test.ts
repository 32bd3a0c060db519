// CanonicalLines against a one-line reference, over random inputs split at random
// points (a CRLF may straddle chunks), and the pass-through of canonical text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanonicalLines } from './index.ts';

const reference = (s: string): string => s.replace(/\r\n|\r|\n/g, '\r\n');

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
  const alphabet = ['a', '\r', '\n', 'b', '.'];
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let k = 0; k < 3000; k++) {
    const len = rnd(24);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[rnd(alphabet.length)];
    const buf = Buffer.from(s, 'latin1');
    const cuts = [0, rnd(len + 1), rnd(len + 1), len].sort((a, b) => a - b);
    const chunks = cuts.slice(1).map((c, i) => buf.subarray(cuts[i], c)).filter((c) => c.length);
    assert.equal(Buffer.concat(await run(chunks)).toString('latin1'), reference(s), JSON.stringify({ s, cuts }));
  }
});

test('canonical text passes through as the same buffer (no copy)', async () => {
  const chunk = Buffer.from('Subject: x\r\n\r\n' + 'line\r\n'.repeat(1000), 'latin1');
  const [out] = await run([chunk]);
  assert.equal(out, chunk);
});
