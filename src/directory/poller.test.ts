// The follower's timer: one call at a time, a lasting failure reported once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Poller } from './poller.ts';

test('a failure repeated at every poll is reported once, again after a success', async () => {
  const reported: string[] = [];
  const results = ['EACCES', 'EACCES', 'EACCES', 'ok', 'EACCES', 'ENOENT'];
  let calls = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  const p = new Poller(async () => {
    const r = results[calls++];
    if (calls === results.length) done();
    if (r !== 'ok') throw new Error(r);
  }, 1, (err) => reported.push((err as Error).message));
  p.start();
  await finished;
  await p.stop();
  assert.deepEqual(reported, ['EACCES', 'EACCES', 'ENOENT']);
});
