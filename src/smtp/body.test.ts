// The body scanner against a plain reference implementation, over random
// inputs split at random points (state must survive every chunk boundary).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodySink } from './body.ts';
import type { BareLfPolicy } from './types.ts';

/** Straightforward RFC 5321 reading of DATA: whole input in memory. */
function reference(input: string, policy: BareLfPolicy): { body: string | null; rest: string } | null {
  const i = `\r\n${input}`.indexOf('\r\n.\r\n');
  if (i < 0) return null;
  const content = input.slice(0, i);
  const rest = input.slice(i + 3);
  if (/(^|[^\r])\n/.test(content) && policy === 'reject') return { body: null, rest };
  const unstuffed = content
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? l.slice(1) : l))
    .join('\r\n');
  return { body: unstuffed.replace(/(^|[^\r])\n/g, '$1\r\n').replace(/(^|[^\r])\n/g, '$1\r\n'), rest };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function drain(sink: BodySink): string {
  let out = '';
  for (let b = sink.stream.read() as Buffer | null; b; b = sink.stream.read() as Buffer | null) out += b.toString('latin1');
  return out;
}

const ALPHABET = ['a', 'b', '.', '.', '\r', '\n', '\r\n', '\0'];

test('feedDot matches the reference for random inputs and random chunking', () => {
  const rand = rng(42);
  let ended = 0;
  for (let n = 0; n < 4000; n++) {
    let input = '';
    const len = 1 + Math.floor(rand() * 30);
    for (let k = 0; k < len; k++) input += ALPHABET[Math.floor(rand() * ALPHABET.length)];
    if (rand() < 0.5) input += '\r\n.\r\nNEXT';
    for (const policy of ['reject', 'normalize'] as BareLfPolicy[]) {
      const want = reference(input, policy);
      const sink = new BodySink(1e9, policy, () => {});
      const buf = Buffer.from(input, 'latin1');
      let pos = 0;
      let end = -1;
      let out = '';
      while (pos < buf.length && end < 0) {
        const step = 1 + Math.floor(rand() * 5);
        const piece = buf.subarray(pos, Math.min(buf.length, pos + step));
        const e = sink.feedDot(piece);
        out += drain(sink);
        if (e >= 0) end = pos + e;
        pos += piece.length;
      }
      const label = JSON.stringify(input) + ' ' + policy;
      if (!want) {
        assert.equal(end, -1, label);
        continue;
      }
      ended++;
      assert.equal(buf.subarray(end).toString('latin1'), want.rest, label);
      if (want.body === null) assert.ok(sink.fault && sink.fault.code === 550, label);
      else {
        assert.equal(sink.fault, null, label);
        assert.equal(out, want.body, label);
      }
    }
  }
  assert.ok(ended > 2000);
});

test('feedRaw: verbatim except bare LF policy, across chunk boundaries; size limit', () => {
  const rand = rng(7);
  for (let n = 0; n < 2000; n++) {
    let input = '';
    const len = 1 + Math.floor(rand() * 30);
    for (let k = 0; k < len; k++) input += ALPHABET[Math.floor(rand() * ALPHABET.length)];
    const buf = Buffer.from(input, 'latin1');
    const sink = new BodySink(1e9, 'normalize', () => {});
    let out = '';
    for (let pos = 0; pos < buf.length; ) {
      const step = 1 + Math.floor(rand() * 4);
      sink.feedRaw(buf.subarray(pos, pos + step));
      out += drain(sink);
      pos += step;
    }
    assert.equal(out, input.replace(/(^|[^\r])\n/g, '$1\r\n').replace(/(^|[^\r])\n/g, '$1\r\n'), JSON.stringify(input));
  }
  const small = new BodySink(10, 'reject', () => {});
  small.feedRaw(Buffer.from('0123456789'));
  assert.equal(small.fault, null);
  small.feedRaw(Buffer.from('x'));
  const faultCode = (b: BodySink): number | undefined => b.fault?.code;
  assert.equal(faultCode(small), 552);
});
