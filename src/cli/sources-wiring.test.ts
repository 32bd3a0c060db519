// The sources wired as the node runs them: the config (paths relative to the
// config file), what `config check` refuses, and one node-like start with the
// RADIUS server (radclient), a detail file and a Kea lease file writing into the
// real directory, their outcomes counted by the metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger } from '../core/index.ts';
import { parseConfig, exampleConfig, type Config } from '../config/index.ts';
import { InProcessBus } from '../events/index.ts';
import { createMetrics, subscribeMetrics } from '../metrics/index.ts';
import { needTools, tempDir } from '../../test/lib/tools.ts';
import { radclient, packet } from '../../test/lib/radclient.ts';
import { openTestDirectory } from '../../test/lib/directory.ts';
import { sourcesProblems, startSources } from './sources-wiring.ts';

function config(dir: string, directory: string): Config {
  const text = exampleConfig({ smarthost: 'smtp.isp.example:25' }) + `\ndirectory:\n${directory}`;
  const cfg = parseConfig(text.replace(/^dataDir: .*$/m, `dataDir: ${join(dir, 'data')}`), join(dir, 'portwarden.yaml'));
  return cfg;
}
const at = (p: Array<string | number>, m: string): string => `${p.join('.')}: ${m}`;

test('config check: a RADIUS listener needs a private, readable secret file with client lines; lease files must be readable; detail files need their directory', (t) => {
  const tmp = tempDir('pw-srcchk-');
  t.after(() => tmp.remove());
  let cfg = config(tmp.path, '  radiusListen: 127.0.0.1:1813\n  keaLeaseFiles: [kea-leases4.csv]\n  detailFiles: [nowhere/detail]\n');
  assert.equal(cfg.directory.keaLeaseFiles[0], join(tmp.path, 'kea-leases4.csv'), 'relative to the config file');
  const p = sourcesProblems(cfg, at);
  assert.ok(p.some((x) => x.startsWith('directory.radiusSecretFile: radiusListen needs')), p.join('\n'));
  assert.ok(p.some((x) => x.startsWith('directory.keaLeaseFiles.0:') && x.includes('ENOENT')), p.join('\n'));
  assert.ok(p.some((x) => x.startsWith('directory.detailFiles.0:') && x.includes('not a directory')), p.join('\n'));

  const secrets = join(tmp.path, 'radius-secrets');
  writeFileSync(secrets, '# NAS secrets\n192.0.2.0/24 s3cret\n', { mode: 0o644 });
  chmodSync(secrets, 0o644);
  cfg = config(tmp.path, `  radiusListen: 127.0.0.1:1813\n  radiusSecretFile: ${secrets}\n`);
  assert.match(sourcesProblems(cfg, at).join('\n'), /mode 644 lets others read it/);
  chmodSync(secrets, 0o640);
  assert.deepEqual(sourcesProblems(cfg, at), []);
  writeFileSync(secrets, 'not-an-address s3cret\n');
  assert.match(sourcesProblems(cfg, at).join('\n'), /radius-secrets:1: "not-an-address" is not an address or prefix/);
});

test('started as the node starts them: RADIUS, a detail file and a Kea lease file write into the directory; the metrics count accepted and dropped records', { skip: needTools('radclient') }, async (t) => {
  const tmp = tempDir('pw-srcrun-');
  const dir = await openTestDirectory();
  t.after(async () => { await dir.close(); tmp.remove(); });
  const secrets = join(tmp.path, 'radius-secrets');
  writeFileSync(secrets, '127.0.0.1 s3cret\n', { mode: 0o600 });
  const detail = join(tmp.path, 'detail'), kea = join(tmp.path, 'kea-leases4.csv');
  const now = Math.floor(Date.now() / 1000);
  writeFileSync(kea, 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n');
  await dir.repo.putSubscriber({ id: 'kim', access: ['hw:02:00:00:00:00:07'] });
  const cfg = config(tmp.path, `  radiusListen: 127.0.0.1:0\n  radiusSecretFile: ${secrets}\n  detailFiles: [${detail}]\n  keaLeaseFiles: [${kea}]\n  pollMs: 50\n`);
  const bus = new InProcessBus();
  const metrics = createMetrics({ processMetrics: false });
  subscribeMetrics(bus, metrics);
  const s = await startSources({ cfg, logger: new MemoryLogger(), bus, directory: dir.repo });
  t.after(() => s.close());

  const ok = await radclient(`127.0.0.1:${s.radiusPort}`, 's3cret', [packet({ 'User-Name': 'jo', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'j1', 'Framed-IP-Address': '100.64.20.1', 'Event-Timestamp': now })]);
  assert.equal(ok.replies, 1, ok.out);
  const bad = await radclient(`127.0.0.1:${s.radiusPort}`, 'wrong', [packet({ 'User-Name': 'jo', 'Acct-Status-Type': 'Stop', 'Acct-Session-Id': 'j1' })], { retries: 1, timeout: 0.3 });
  assert.equal(bad.replies, 0);
  writeFileSync(detail, `Wed Dec  2 13:20:00 2026\n\tAcct-Status-Type = Start\n\tUser-Name = "lee"\n\tAcct-Session-Id = "l1"\n\tFramed-IP-Address = 100.64.20.2\n\tNAS-IP-Address = 192.0.2.1\n\tTimestamp = ${now}\n\n`);
  appendFileSync(kea, `198.51.100.77,02:00:00:00:00:07,,600,${now + 500},1,0,0,,0,\n`);
  const who = async (a: string): Promise<string[]> => (await dir.repo.holdersAt(a, now * 1000 + 1000)).map((h) => h.subscriber);
  for (let i = 0; i < 100 && ((await who('100.64.20.2')).length === 0 || (await who('198.51.100.77')).length === 0); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await who('100.64.20.1'), ['jo']);
  assert.deepEqual(await who('100.64.20.2'), ['lee']);
  assert.deepEqual(await who('198.51.100.77'), ['kim']);

  const text = await metrics.registry.metrics();
  for (const line of [
    'portwarden_directory_source_records_total{source="radius",outcome="accepted",reason=""} 1',
    'portwarden_directory_source_records_total{source="radius",outcome="dropped",reason="bad-authenticator"}',
    'portwarden_directory_source_records_total{source="detail",outcome="accepted",reason=""} 1',
    'portwarden_directory_source_records_total{source="kea",outcome="accepted",reason=""} 1',
  ]) assert.ok(text.includes(line), `${line}\n${text.split('\n').filter((l) => l.includes('source_records')).join('\n')}`);
});
