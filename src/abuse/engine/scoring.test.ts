import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addPoints, decayed, Series } from './scoring.ts';

test('a series answers every window sum exactly, with late buckets inserted and old ones evicted', () => {
  let seed = 7;
  const rnd = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 4_294_967_296; };
  const s = new Series();
  const all: Array<[number, number]> = [];
  let now = 1000, evicted = -Infinity;
  for (let i = 0; i < 3000; i++) {
    now += Math.floor(rnd() * 3);
    const late = rnd() < 0.1;
    const sec = late ? now - 1 - Math.floor(rnd() * 50) : now;
    const amount = 1 + Math.floor(rnd() * 5);
    if (i % 100 === 99) { evicted = now - 120; s.evict(evicted); }
    if (sec <= evicted) continue; // a bucket older than what is kept is not asked about
    s.add(sec, amount);
    all.push([sec, amount]);
    for (const w of [1, 7, 60, 100]) {
      const end = now - Math.floor(rnd() * 10);
      if (end - w < evicted) continue;
      const want = all.filter(([t]) => t > end - w && t <= end).reduce((a, [, x]) => a + x, 0);
      assert.equal(s.sum(end, w), want, `sum(${end}, ${w}) at step ${i}`);
    }
  }
  assert.ok(s.buckets > 0 && s.buckets <= 200);
});

test('the score halves every half-life; a late signal counts decayed to the score\'s time', () => {
  const H = 60_000;
  assert.equal(decayed(100, 0, H, H), 50);
  assert.equal(decayed(100, 0, 2 * H, H), 25);
  assert.deepEqual(addPoints(100, 0, 10, H, H), { score: 60, scoreAt: H });
  assert.deepEqual(addPoints(100, H, 10, 0, H), { score: 105, scoreAt: H });
});
