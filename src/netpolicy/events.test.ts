// PolicyStore's PolicyEvents hook: told of every change after it commits, never of one refused.
// (Written with await throughout, so it reads the same over the sync and the async store.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { PolicyStore } from './index.ts';

test('policy changes: the hook hears each committed change with who and why, not a refused one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-netpolicy-ev-'));
  const store = await openStore(join(dir, 'state.db'));
  try {
    const heard: string[] = [];
    let policy: PolicyStore | null = null;
    const revisions: Array<number | Promise<number>> = [];
    policy = new PolicyStore(store, new ManualClock(), { changed: (e) => { heard.push(`${e.action} ${e.object} ${e.actor} ${e.reason}`); revisions.push(policy!.revision()); } });
    const r0 = await policy.revision();
    assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', 'dhcp', { actor: 'alice', reason: 'ticket 7' })).ok);
    assert.equal((await policy.addPool('198.51.100.1/24', 'dynamic', '', { actor: 'alice', reason: 'x' })).ok, false);
    assert.equal((await policy.addPool('203.0.113.0/24', 'dynamic', '', { actor: 'alice', reason: '' })).ok, false);
    assert.ok((await policy.quarantine('198.51.100.66', 's-66', 'case-1', { actor: 'abuse', reason: 'bot' })).ok);
    assert.deepEqual(heard, ['pool.add 198.51.100.0/24 alice ticket 7', 'quarantine.add 198.51.100.66 abuse bot'], 'once per committed change');
    assert.deepEqual(await Promise.all(revisions), [r0 + 1, r0 + 2], 'told after the commit: the revision is already bumped');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
