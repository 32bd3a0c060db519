// `portwarden policy agent` as the README shows it, both ends real processes:
// the server's HTTPS endpoint and an agent with --ca and --pin (the pin read
// from the server's own start log) applying into a network namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureSink } from '../lib/sink.ts';
import { MAIN, NODE, Portwarden, startWithSink } from '../lib/portwarden.ts';
import { canUseNetns, needTools, tempDir, until } from '../lib/tools.ts';
import { spkiPin } from '../../src/netpolicy/index.ts';

const skip = needTools('nft', 'ip', 'openssl') || (canUseNetns() ? false : 'needs root for network namespaces');
const ns = `pw-agentcli-${randomBytes(3).toString('hex')}`;
const TOKEN = 'bng1-token-0123456789abcdef';
let sink: CaptureSink, pw: Portwarden, dir: ReturnType<typeof tempDir>;

before(async () => {
  if (skip) return;
  execFileSync('ip', ['netns', 'add', ns]);
  dir = tempDir('pw-agentcli-');
  writeFileSync(join(dir.path, 'tokens'), `bng1 ${TOKEN}\n`);
  ({ sink, pw } = await startWithSink({ extraYaml: `netpolicy: {listen: "127.0.0.1:0", tokenFile: "${join(dir.path, 'tokens')}"}` }));
  await pw.cli(['policy', 'pool', 'add', '198.51.100.0/24', '--class', 'dynamic', '--reason', 'residential', '--by', 'test']);
});

after(async () => {
  if (skip) return;
  await pw?.destroy();
  await sink?.close();
  dir?.remove();
  try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
});

test('the agent command pulls over HTTPS with --ca and the logged --pin, applies, and reports as its edge', { skip }, async () => {
  const ca = join(pw.dir, 'data', 'tls', 'cert.pem');
  const logged = pw.logsOf('listening').find((l) => l.listener === 'netpolicy');
  assert.equal(logged?.spkiPin, spkiPin(readFileSync(ca)), 'the start log names the pin of the certificate it serves');
  // The edge's own token file: the server's line for it. Its config only gives the agent a state directory.
  const edgeDir = tempDir('pw-edge-node-');
  try {
    writeFileSync(join(edgeDir.path, 'token'), `bng1 ${TOKEN}\n`);
    writeFileSync(join(edgeDir.path, 'pw.yaml'), 'relay: {smarthost: "127.0.0.1:25"}\ndataDir: ./data\n');
    const agent = spawn(NODE, [MAIN, 'policy', 'agent', '--url', `https://127.0.0.1:${pw.port('netpolicy')}`, '--token-file', join(edgeDir.path, 'token'),
      '--ca', ca, '--pin', String(logged!.spkiPin), '--netns', ns, '--config', join(edgeDir.path, 'pw.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    agent.stdout.on('data', (d) => { out += d; });
    agent.stderr.on('data', (d) => { out += d; });
    try {
      await until(async () => {
        const edges = JSON.parse((await pw.cli(['policy', 'edges', '--json'])).stdout) as Array<{ edge: string; version: string }>;
        return edges.some((e) => e.edge === 'bng1' && /^[0-9a-f]{32}$/.test(e.version));
      }, `the agent reporting as bng1 (agent said: ${out})`, 20_000, 250);
      const rules = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'portwarden'], { encoding: 'utf8' });
      assert.match(rules, /198\.51\.100\.0\/24/);
    } finally {
      agent.kill('SIGTERM');
      await new Promise((r) => agent.once('exit', r));
    }
  } finally { edgeDir.remove(); }
});
