// Element changes reach the kernel without nft reading the ruleset first
// (issue 12, decision-to-edge): nft 1.0.6 fetches every element of every set
// before an `add element` or `delete element` command, which with 100 k
// elements loaded costs seconds per decision; the applier's element batch is
// written in table syntax instead. Real nft in a network namespace: after each
// batch (additions, a removal, both in two sets, everything released) the
// kernel's sets hold exactly the compiled ones, IPv4 and IPv6.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ManualClock, silentLogger } from '../../src/core/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { NftApplier, PolicyStore, SET_NAMES, compilePolicy, diffSets, nftDeltaScript, nftRunner } from '../../src/netpolicy/index.ts';
import { canUseNetns, needTools, tempDir } from '../lib/tools.ts';

const skip = needTools('nft', 'ip') || (canUseNetns() ? false : 'needs root for network namespaces');
const ns = `pw-delta-${randomBytes(3).toString('hex')}`;
const by = { actor: 'test', reason: 'delta' };
let dir: ReturnType<typeof tempDir>, store: Store, policy: PolicyStore, applier: NftApplier;
const ok = (r: { ok: boolean }): void => assert.ok(r.ok, JSON.stringify(r));

before(async () => {
  if (skip) return;
  execFileSync('ip', ['netns', 'add', ns]);
  dir = tempDir('pw-delta-');
  store = await openStore(join(dir.path, 'state.db'));
  policy = await PolicyStore.open(store, new ManualClock(Date.now()));
  ok(await policy.addPool('198.51.100.0/24', 'dynamic', '', by));
  ok(await policy.addPool('2001:db8:1::/48', 'dynamic', '', by));
  ok(await policy.addExemption('198.51.100.7', 'c7', null, by));
  applier = new NftApplier({ runner: nftRunner({ netns: ns }), logger: silentLogger });
});

after(async () => {
  if (skip) return;
  await store?.close();
  dir?.remove();
  try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
});

/** The kernel's elements of one set, as nft prints them (prefixes; a single host bare). */
function kernelSet(name: string): string[] {
  const j = JSON.parse(execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'set', 'inet', 'portwarden', name], { encoding: 'utf8' })) as { nftables: Array<{ set?: { elem?: unknown[] } }> };
  const elems = j.nftables.find((x) => x.set)?.set?.elem ?? [];
  return elems.map((e) => (typeof e === 'string' ? e : `${(e as { prefix: { addr: string; len: number } }).prefix.addr}/${(e as { prefix: { len: number } }).prefix.len}`)).sort();
}

async function applyAndCheck(what: string): Promise<void> {
  const before = applier.current!;
  const next = compilePolicy(await policy.snapshot());
  const script = nftDeltaScript(diffSets(before.sets, next.sets), next.sets);
  assert.doesNotMatch(script, /^(add|delete) element /m, `${what}: no element command (nft would read every set first)`);
  const r = await applier.apply(next);
  assert.ok(r.ok && r.mode === 'delta', `${what}: ${JSON.stringify(r)}`);
  for (const name of SET_NAMES) {
    const want = next.sets[name].map((e) => (e.includes('/') ? e : e)).slice().sort();
    assert.deepEqual(kernelSet(name), want, `${what}: set ${name}`);
  }
}

test('element batches in table syntax: additions, removals and both leave exactly the compiled sets in the kernel', { skip }, async () => {
  const full = await applier.apply(compilePolicy(await policy.snapshot()));
  assert.ok(full.ok && full.mode === 'full', JSON.stringify(full));
  ok(await policy.quarantine('198.51.100.30', 's30', 'c1', by));
  ok(await policy.quarantine('2001:db8:1:3000::/56', 's30', 'c1', by));
  await applyAndCheck('two quarantines added');
  ok(await policy.quarantine('198.51.100.31', 's31', 'c2', by));
  await applyAndCheck('one more');
  ok(await policy.release('198.51.100.30', by));
  await applyAndCheck('one released (the set is flushed and refilled)');
  ok(await policy.release('198.51.100.31', by));
  ok(await policy.removeExemption('198.51.100.7', by));
  ok(await policy.quarantine('198.51.100.32', 's32', 'c3', by));
  await applyAndCheck('a release, an exemption revoked and a quarantine in one batch');
  ok(await policy.release('198.51.100.32', by));
  ok(await policy.release('2001:db8:1:3000::/56', by));
  await applyAndCheck('everything released: the sets are empty');
});
