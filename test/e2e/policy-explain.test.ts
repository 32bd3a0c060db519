// `portwarden policy explain` through the real CLI on a state store the CLI
// itself filled: a dynamic pool, an exemption with an expiry, a quarantine, an
// address nobody holds outside our pools; the words, the JSON, and a bad address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, NODE, run } from '../lib/portwarden.ts';
import { tempDir } from '../lib/tools.ts';

let dir: ReturnType<typeof tempDir>, config: string;
const pw = (...args: string[]) => run(NODE, [MAIN, ...args, '--config', config]);

before(async () => {
  dir = tempDir('pw-explain-');
  config = join(dir.path, 'pw.yaml');
  writeFileSync(config, `dataDir: ${JSON.stringify(join(dir.path, 'data'))}\nrelay: {smarthost: "127.0.0.1:9"}\n`);
  for (const args of [
    ['policy', 'pool', 'add', '198.51.100.0/24', '--class', 'dynamic', '--reason', 'residential', '--by', 'test'],
    ['policy', 'pool', 'add', '203.0.113.0/24', '--class', 'static', '--reason', 'static', '--by', 'test'],
    ['policy', 'exempt', 'add', '198.51.100.20', '--customer', 'erin', '--expires', '2099-01-01T00:00:00Z', '--reason', 'premium', '--by', 'test'],
    ['policy', 'quarantine', 'add', '198.51.100.30', '--subscriber', 'gina', '--case', 'case-30', '--reason', 'bot', '--by', 'test'],
    ['address', 'assign', 'alice', '198.51.100.10', '--reason', 'test'],
  ]) {
    const r = await pw(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
});
after(() => dir?.remove());

test('policy explain: class, port 25 and why, the holder, our own zone; cases are the server\'s', async () => {
  const d = await pw('policy', 'explain', '198.51.100.10');
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^class {8}dynamic \(pool 198\.51\.100\.0\/24, dynamic\)$/m);
  assert.match(d.stdout, /^port 25 {6}blocked: its pool class is blocked/m);
  assert.match(d.stdout, /^held by {6}alice$/m);
  assert.match(d.stdout, /^our DNSBL {4}listed$/m);
  assert.match(d.stdout, /^open case {4}not checked here/m);
  const e = await pw('policy', 'explain', '198.51.100.20');
  assert.match(e.stdout, /^port 25 {6}open: a port-25 exemption is in force$/m);
  assert.match(e.stdout, /^exemption {4}198\.51\.100\.20, granted .*, expires 2099-01-01T00:00:00\.000Z$/m);
  assert.match(e.stdout, /^our DNSBL {4}not listed$/m);
  const q = await pw('policy', 'explain', '198.51.100.30', '--json');
  const j = JSON.parse(q.stdout);
  assert.deepEqual([j.class, j.port25, j.quarantine.caseId, j.openCase], ['dynamic', { blocked: true, reason: 'quarantine' }, 'case-30', null]);
  const s = await pw('policy', 'explain', '203.0.113.5');
  assert.match(s.stdout, /^port 25 {6}open: its pool class is not blocked$/m);
  const o = await pw('policy', 'explain', '192.0.2.1');
  assert.match(o.stdout, /^class {8}outside \(in none of our pools\)$/m);
  assert.match(o.stdout, /^held by {6}nobody now$/m);
});

test('policy explain: a bad address is refused in words; usage without one; listed in policy --help', async () => {
  const bad = await pw('policy', 'explain', 'nonsense\u001b[2J');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /policy explain: .* is not IP, IPv4:PORT or \[IPv6\]:PORT/);
  assert.ok(!bad.stderr.includes('\u001b'), 'no terminal escape reaches the operator');
  const none = await pw('policy', 'explain');
  assert.equal(none.code, 2);
  const help = await run(NODE, [MAIN, 'policy', '--help']);
  assert.match(help.stdout, /policy explain ADDRESS\[:PORT\]/);
});
