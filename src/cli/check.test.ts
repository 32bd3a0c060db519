import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigWithSource } from '../config/index.ts';
import { configProblems } from './check.ts';

test('config check reads relay.caFile as start does: a missing one is an error at its line, not a crash at start', async () => {
  const text = 'relay:\n  smarthost: 127.0.0.1:2525\n  user: relay@isp.example\n  password: s3cret-s3cret\n  caFile: /nonexistent/ca.pem\n';
  const { config, where } = parseConfigWithSource(text, 'pw.yaml');
  const p = await configProblems(config, where);
  assert.ok(p.errors.some((e) => /^pw\.yaml:5:\d+: relay\.caFile: cannot read \/nonexistent\/ca\.pem: ENOENT/.test(e)), p.errors.join('\n'));
  assert.equal(p.limits, undefined, 'nothing built is handed on when there are errors');
});

test('with no errors the checks hand start what they built: the compiled limits', async () => {
  const { config, where } = parseConfigWithSource('relay:\n  smarthost: 127.0.0.1:2525\nhostname: msa.isp.example\n', 'pw.yaml');
  const p = await configProblems(config, where);
  assert.deepEqual(p.errors, []);
  assert.ok(p.limits && p.limits.tierNames.includes(p.limits.defaultTier));
});

test('config check reads the abuse rules as the engine will: a bad class or action is an error at its line', async () => {
  const text = 'relay:\n  smarthost: 127.0.0.1:2525\nabuse:\n  classes:\n    dnsbl: -1\n  rules:\n    - {name: bot, classes: [edge-blocked, nonsense], threshold: 10, window: 60, action: quarantine}\n';
  const { config, where } = parseConfigWithSource(text, 'pw.yaml');
  const p = await configProblems(config, where);
  assert.ok(p.errors.some((e) => /^pw\.yaml:5:\d+: abuse\.classes\.dnsbl: must be a number/.test(e)), p.errors.join('\n'));
  assert.ok(p.errors.some((e) => /^pw\.yaml:7:\d+: abuse\.rules\[0\]\.classes\[1\]: unknown signal class/.test(e)), p.errors.join('\n'));
});
