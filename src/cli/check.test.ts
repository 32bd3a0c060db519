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

test('the abuse mailbox and the notice page are in the listener clash check', async () => {
  const text = [
    'relay:\n  smarthost: 127.0.0.1:2525', 'hostname: msa.isp.example',
    'listeners:\n  - {name: submission, host: 0.0.0.0, port: 587, tls: starttls}',
    'metrics:\n  listen: 127.0.0.1:9100',
    'abuse:\n  noticeListen: 127.0.0.1:9100\n  mailbox:\n    listen: 192.0.2.1:587\n    domains: [isp.example]',
  ].join('\n') + '\n';
  const { config, where } = parseConfigWithSource(text, 'pw.yaml');
  const p = await configProblems(config, where);
  assert.ok(p.errors.some((e) => /^pw\.yaml:\d+:\d+: abuse\.mailbox\.listen: 192\.0\.2\.1:587 is also used by listeners\.0 \(submission\)$/.test(e)), p.errors.join('\n'));
  assert.ok(p.errors.some((e) => /^pw\.yaml:\d+:\d+: abuse\.noticeListen: 127\.0\.0\.1:9100 is also used by metrics\.listen$/.test(e)), p.errors.join('\n'));
});

test('the autoconfig listener is in the listener clash check', async () => {
  const text = 'relay:\n  smarthost: 127.0.0.1:2525\nhostname: msa.isp.example\nmetrics:\n  listen: 127.0.0.1:9100\nautoconfig:\n  listen: 0.0.0.0:9100\n  domains: [isp.example]\n';
  const { config, where } = parseConfigWithSource(text, 'pw.yaml');
  const p = await configProblems(config, where);
  assert.ok(p.errors.some((e) => /^pw\.yaml:\d+:\d+: autoconfig\.listen: 0\.0\.0\.0:9100 is also used by metrics\.listen$/.test(e)), p.errors.join('\n'));
});

test('config check: DNSBL servers must be addresses node:dns can ask; an empty mailbox domain list is a warning', async () => {
  const text = 'relay:\n  smarthost: 127.0.0.1:2525\nhostname: msa.isp.example\nabuse:\n  mailbox:\n    listen: 127.0.0.1:2526\n  dnsbl:\n    zones: [xbl.example]\n    servers: ["127.0.0.1:5353", "resolver.example"]\n';
  const { config, where } = parseConfigWithSource(text, 'pw.yaml');
  const p = await configProblems(config, where);
  assert.deepEqual(p.errors.filter((e) => e.includes('dnsbl')).map((e) => e.replace(/^pw\.yaml:\d+:\d+: /, '')),
    ['abuse.dnsbl.servers.1: "resolver.example" is not an IP address with an optional port (node:dns asks addresses, not names)']);
  assert.ok(p.warnings.some((w) => /abuse\.mailbox\.domains: empty: every recipient is accepted/.test(w)), p.warnings.join('\n'));
});
