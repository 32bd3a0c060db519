// Golden files: policy in → ruleset out, byte-exact. Regenerate after an
// intended change with PW_UPDATE_GOLDEN=1 and review the diff.
// (nft -c on every golden nft output runs in test/netpolicy/zone.test.ts: it needs root.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileIos, compileIptables, compileJunos, compileNft, compilePolicy, compileRbldnsd } from './index.ts';
import { edgePolicy, plainPolicy } from './golden/fixture.ts';

const dir = join(import.meta.dirname, 'golden');

function goldenOutputs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, snap] of Object.entries({ edge: edgePolicy, plain: plainPolicy })) {
    const p = compilePolicy(snap);
    out[`${name}.nft`] = compileNft(p);
    const ipt = compileIptables(p);
    out[`${name}.ipset`] = ipt.ipset;
    out[`${name}.iptables`] = ipt.iptables;
    out[`${name}.ip6tables`] = ipt.ip6tables;
    out[`${name}.ios`] = compileIos(p);
    out[`${name}.junos`] = compileJunos(p);
    const z = compileRbldnsd(p);
    out[`${name}.ip4trie`] = z.ip4trie;
    out[`${name}.ip6trie`] = z.ip6trie;
  }
  return out;
}

for (const [file, text] of Object.entries(goldenOutputs())) {
  test(`golden ${file}`, () => {
    if (process.env.PW_UPDATE_GOLDEN === '1') writeFileSync(join(dir, file), text);
    assert.equal(text, readFileSync(join(dir, file), 'utf8'));
  });
}

test('compiling is independent of input order and of overlapping entries', () => {
  const a = compilePolicy(edgePolicy);
  const shuffled = {
    ...edgePolicy,
    pools: [...edgePolicy.pools].reverse(),
    exemptions: [...edgePolicy.exemptions, { ...edgePolicy.exemptions[0], id: 9 }].reverse(),
    garden: [...edgePolicy.garden].reverse(),
    settings: { ...edgePolicy.settings, subscriberIfaces: [...edgePolicy.settings.subscriberIfaces].reverse() },
  };
  const b = compilePolicy(shuffled);
  assert.equal(b.version, a.version);
  assert.equal(compileNft(b), compileNft(a));
});

test('set-only changes keep the shape, rule changes do not', () => {
  const a = compilePolicy(edgePolicy);
  const more = compilePolicy({ ...edgePolicy, quarantines: [...edgePolicy.quarantines, { ...edgePolicy.quarantines[0], prefix: '198.51.100.99' }] });
  assert.equal(more.shape, a.shape);
  assert.notEqual(more.version, a.version);
  const drop = compilePolicy({ ...edgePolicy, settings: { ...edgePolicy.settings, action: 'drop' } });
  assert.notEqual(drop.shape, a.shape);
});
