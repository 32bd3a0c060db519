// Crash points: a child process commits messages and SIGKILLs itself at one
// step of one commit. After recovery every acknowledged message must be in
// active/ and intact, incoming/ empty, and nothing damaged left deliverable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { smallTmpfs, tempDir } from '../../test/lib/tools.ts';
import { Spool } from './index.ts';
import type { CommitPoint } from './index.ts';

const child = join(import.meta.dirname, 'testdata', 'crash-child.ts');

function runChild(dir: string, point: CommitPoint, nth: number): Promise<{ acked: string[]; done: boolean; signal: string | null }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [child, dir, point, String(nth)], { timeout: 20_000 }, (err, stdout) => {
      const lines = stdout.split('\n');
      resolve({
        acked: lines.filter((l) => l.startsWith('ACK ')).map((l) => l.slice(4)),
        done: lines.includes('DONE'),
        signal: (err as { signal?: string } | null)?.signal ?? null,
      });
    });
  });
}

for (const point of ['written', 'file-synced', 'renamed', 'dir-synced'] as const) {
  test(`crash at '${point}' of message 10: every acknowledged message survives`, async (t) => {
    const tmp = tempDir();
    t.after(() => tmp.remove());
    const r = await runChild(tmp.path, point, 10);
    assert.equal(r.done, false, 'the child must have died');
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(r.acked.length >= 8 && r.acked.length < 24, `acked ${r.acked.length}`);

    const spool = await Spool.open(tmp.path);
    const active = new Set(spool.list('active'));
    for (const id of r.acked) assert.ok(active.has(id), `acknowledged ${id} lost`);
    assert.deepEqual(readdirSync(join(tmp.path, 'incoming')), []);
    assert.deepEqual(spool.list('corrupt'), []);
    // Everything deliverable is whole; unacknowledged extras are allowed (at-least-once).
    for (const id of active) {
      const body = (await buffer(spool.body(id))).toString();
      assert.ok(body.startsWith(`Subject: ${id}\r\n`) && body.endsWith(`body of ${id}\r\n`), `body of ${id}`);
    }
    t.diagnostic(`acked ${r.acked.length}, in active ${active.size}`);
    await spool.close();
  });
}

test('power-loss leftovers: empty and half files never become messages', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.remove());
  for (const d of ['incoming', 'active']) mkdirSync(join(tmp.path, d), { recursive: true });
  // What a lost page cache can leave: a zero-length file and a file cut mid-record.
  writeFileSync(join(tmp.path, 'active', '01KDZZZZZZ00000000'), '');
  writeFileSync(join(tmp.path, 'active', '01KDZZZZZZ00000001'), Buffer.from('V\0\0\0\x12portwarden-queue 1E\0\0\x10\0{"id":'));
  writeFileSync(join(tmp.path, 'incoming', '01KDZZZZZZ00000002'), 'V');
  const spool = await Spool.open(tmp.path);
  assert.deepEqual(spool.list('active'), []);
  assert.deepEqual(spool.list('corrupt'), ['01KDZZZZZZ00000000', '01KDZZZZZZ00000001']);
  assert.deepEqual(readdirSync(join(tmp.path, 'incoming')), []);
  await spool.close();
});

test('disk full: commit rejects with 452 4.3.1, earlier messages intact', async (t) => {
  const fs = smallTmpfs('size=1m');
  if ('skip' in fs) return t.skip(fs.skip);
  const mnt = fs.path;
  const spool = await Spool.open(mnt);
  t.after(async () => { await spool.close(); fs.remove(); });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const w = spool.create({ mailFrom: { address: 'a@example.org' }, recipients: [{ address: 'b@example.net' }] });
    w.stream.write(`Subject: ${i}\r\n\r\n${'k'.repeat(100_000)}\r\n`);
    await w.commit();
    ids.push(w.id);
  }
  const big = spool.create({ mailFrom: { address: 'a@example.org' }, recipients: [{ address: 'b@example.net' }] });
  for (let i = 0; i < 40; i++) big.stream.write(Buffer.alloc(64 * 1024, 'm'));
  await assert.rejects(big.commit(), (e: { name: string; kind: string; reply: { code: number; enhanced: string } }) => {
    assert.equal(e.name, 'SpoolError');
    assert.equal(e.kind, 'storage');
    assert.deepEqual([e.reply.code, e.reply.enhanced], [452, '4.3.1']);
    return true;
  });
  assert.deepEqual(readdirSync(join(mnt, 'incoming')), []);
  assert.deepEqual(spool.list('active'), ids.sort());
  for (const id of ids) assert.equal((await spool.read(id))?.bodyLength, 'Subject: 0\r\n\r\n'.length + 100_000 + 2);
  // Space came back when the failed file went; the next small message is fine.
  const w = spool.create({ mailFrom: { address: 'a@example.org' }, recipients: [{ address: 'b@example.net' }] });
  w.stream.write('Subject: after\r\n\r\nok\r\n');
  await w.commit();
  assert.equal(spool.stats().active, 4);
});
