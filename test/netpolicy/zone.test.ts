// `nft -c` on every golden nftables output, and a real rbldnsd serving the
// compiled DNSBL zone, queried with dig. Both run inside a namespace of their own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePolicy, compileRbldnsd } from '../../src/netpolicy/index.ts';
import { edgePolicy } from '../../src/netpolicy/golden/fixture.ts';
import { canUseNetns, needTools, tempDir } from '../lib/tools.ts';

const skip = needTools('nft', 'ip', 'rbldnsd', 'dig') || (canUseNetns() ? false : 'needs root for network namespaces');
const ns = `pw-${randomBytes(3).toString('hex')}-dnsbl`;
const golden = join(import.meta.dirname, '../../src/netpolicy/golden');
let rbl: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

before(() => {
  if (skip) return;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
});
after(() => {
  if (skip) return;
  rbl?.kill('SIGKILL');
  try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
  tmp?.remove();
});

for (const file of readdirSync(golden).filter((f) => f.endsWith('.nft'))) {
  test(`nft -c accepts golden ${file}`, { skip }, () => {
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', join(golden, file)], { stdio: 'pipe' });
  });
}

test('rbldnsd serves the dynamic space, minus exemptions, for IPv4 and IPv6', { skip }, async () => {
  tmp = tempDir('pw-dnsbl-');
  chmodSync(tmp.path, 0o755); // rbldnsd refuses to run as root and reads the zone as "nobody"
  const z = compileRbldnsd(compilePolicy(edgePolicy));
  writeFileSync(join(tmp.path, 'pbl4'), z.ip4trie);
  writeFileSync(join(tmp.path, 'pbl6'), z.ip6trie);
  // Port 53 is free inside the namespace, which nothing else shares.
  rbl = spawn('ip', ['netns', 'exec', ns, 'rbldnsd', '-n', '-q', '-u', 'nobody', '-b', '127.0.0.1/53', '-w', tmp.path,
    'pbl.test:ip4trie:pbl4', 'pbl.test:ip6trie:pbl6'], { stdio: 'ignore' });
  const dig = (name: string, type = 'A'): string =>
    execFileSync('ip', ['netns', 'exec', ns, 'dig', '@127.0.0.1', '+short', '+tries=1', '+time=1', name, type], { encoding: 'utf8' }).trim();
  const rev6 = (hex32: string): string => [...hex32].reverse().join('.');
  let first = '';
  for (let i = 0; i < 50 && first === ''; i++) {
    try { first = dig('10.100.51.198.pbl.test'); } catch { /* not up yet */ }
    if (!first) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(first, '127.0.0.10', 'dynamic address is listed');
  assert.match(dig('10.100.51.198.pbl.test', 'TXT'), /198\.51\.100\.10/);
  assert.equal(dig('7.100.51.198.pbl.test'), '', 'exempt address is excluded');
  assert.equal(dig('100.100.51.198.pbl.test'), '', 'customer server is excluded');
  assert.equal(dig('130.100.51.198.pbl.test'), '127.0.0.10', 'CGNAT space is listed');
  assert.equal(dig('10.113.0.203.pbl.test'), '', 'static space is not listed');
  assert.equal(dig(`${rev6('20010db8100003000000000000000001')}.pbl.test`), '127.0.0.10', 'IPv6 dynamic is listed');
  assert.equal(dig(`${rev6('20010db8100001000000000000000001')}.pbl.test`), '', 'exempt IPv6 /56 is excluded');
  assert.equal(dig(`${rev6('20010db8200000000000000000000001')}.pbl.test`), '', 'business IPv6 is not listed');
  assert.ok(readFileSync(join(tmp.path, 'pbl4'), 'utf8').includes('!198.51.100.7/32'));
});
