// PolicyStore's PolicyEvents hook: told of every change after it commits, never of one refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { PolicyStore } from './index.ts';

test('policy changes: the hook hears each committed change with who and why, not a refused one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-netpolicy-ev-'));
  const store = openStore(join(dir, 'state.db'));
  try {
    const heard: string[] = [];
    const policy = new PolicyStore(store, new ManualClock(), { changed: (e) => heard.push(`${e.action} ${e.object} ${e.actor} ${e.reason} rev=${policy.revision()}`) });
    const r0 = policy.revision();
    assert.ok(policy.addPool('198.51.100.0/24', 'dynamic', 'dhcp', { actor: 'alice', reason: 'ticket 7' }).ok);
    assert.equal(policy.addPool('198.51.100.1/24', 'dynamic', '', { actor: 'alice', reason: 'x' }).ok, false);
    assert.equal(policy.addPool('203.0.113.0/24', 'dynamic', '', { actor: 'alice', reason: '' }).ok, false);
    assert.ok(policy.quarantine('198.51.100.66', 's-66', 'case-1', { actor: 'abuse', reason: 'bot' }).ok);
    assert.deepEqual(heard, [
      `pool.add 198.51.100.0/24 alice ticket 7 rev=${r0 + 1}`,
      `quarantine.add 198.51.100.66 abuse bot rev=${r0 + 2}`,
    ], 'after the commit (the revision is already bumped), once per change');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
