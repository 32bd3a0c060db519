import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Follower, PositionFiles } from './follow.ts';
import { tempDir } from '../../test/lib/tools.ts';

test('a record appended while a poll is under way is handed over with a modification time no earlier than its write', async (t) => {
  const d = tempDir('pw-follow-');
  t.after(() => d.remove());
  const path = join(d.path, 'leases.csv');
  const early = new Date('2026-12-01T10:00:00Z'), late = new Date('2026-12-01T10:05:00Z');
  writeFileSync(path, 'first\n');
  utimesSync(path, early, early);
  const seen: Array<[string, number]> = [];
  const f = new Follower({
    path, delimiter: '\n', positions: new PositionFiles(join(d.path, 'pos')), maxRecord: 64,
    handle: async (records, { mtimeMs }) => {
      for (const r of records) seen.push([r, mtimeMs]);
      // The writer goes on while the first batch is being stored (a Kea release row after a renewal).
      if (records.includes('first')) { appendFileSync(path, 'second\n'); utimesSync(path, late, late); }
    },
  });
  assert.equal(await f.poll(), 2);
  assert.deepEqual(seen, [['first', early.getTime()], ['second', late.getTime()]]);
  await f.close();
});
