// A filesystem that fills up in the middle of a write: writev then writes
// what fits and returns a short count without an error. The commit must fail
// with 452 4.3.1, not acknowledge a truncated file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { smallTmpfs } from '../../test/lib/tools.ts';
import { Spool } from './index.ts';

test('a short write at the end of a commit is a storage error, not a 250', async (t) => {
  const fs = smallTmpfs('size=1m');
  if ('skip' in fs) return t.skip(fs.skip);
  const mnt = fs.path;
  const spool = await Spool.open(join(mnt, 'spool'));
  t.after(async () => { await spool.close(); fs.remove(); });
  // Fill the filesystem, then give back two pages: less than the next message.
  const filler = await open(join(mnt, 'filler'), 'w');
  let size = 0;
  for (;;) {
    try {
      const { bytesWritten } = await filler.write(Buffer.alloc(64 * 1024, 'f'));
      if (!bytesWritten) break;
      size += bytesWritten;
    } catch {
      break;
    }
  }
  await filler.truncate(size - 8192);
  await filler.close();

  const w = spool.create({ mailFrom: { address: 'a@example.org' }, recipients: [{ address: 'b@example.net' }] });
  w.stream.end(`Subject: does not fit\r\n\r\n${'x'.repeat(20_000)}\r\n`); // one writev at commit
  await assert.rejects(w.commit(), (e: { kind?: string; reply?: { code: number; enhanced: string } }) => {
    assert.equal(e.kind, 'storage');
    assert.deepEqual([e.reply?.code, e.reply?.enhanced], [452, '4.3.1']);
    return true;
  });
  assert.deepEqual(spool.list('active'), []);
  assert.deepEqual(readdirSync(join(mnt, 'spool', 'active')), []);
  assert.deepEqual(readdirSync(join(mnt, 'spool', 'incoming')), []);
});
