import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, exampleConfig } from './index.ts';
import { errorsOf } from './testkit.ts';

test('the example config is valid and gets defaults', () => {
  const c = parseConfig(exampleConfig({ smarthost: '127.0.0.1:10025' }), '/etc/portwarden/portwarden.yaml');
  assert.equal(c.listeners.length, 2);
  assert.equal(c.listeners[0].tls, 'starttls');
  assert.equal(c.listeners[0].bareLf, 'reject');
  assert.equal(c.smtp.maxRecipients, 100);
  assert.equal(c.dataDir, '/etc/portwarden/data');
  assert.equal(c.relay.tls, 'opportunistic');
  assert.equal(c.accountability.batchMs, 50);
});

test('accountability.batchMs: a number of milliseconds up to 5000', () => {
  const base = 'relay:\n  smarthost: 127.0.0.1:25\n';
  assert.equal(parseConfig(`${base}accountability:\n  batchMs: 0\n`, 'pw.yaml').accountability.batchMs, 0);
  assert.ok(errorsOf(`${base}accountability:\n  batchMs: 60000\n`).some((i) => /^pw\.yaml:4:\d+: accountability\.batchMs: must be ≤ 5000/.test(i)));
});

test('errors name file, line and the offending key', () => {
  const issues = errorsOf('hostname: mail.isp.example\nrelay:\n  smarthost: nowhere\nlisteners:\n  - name: a\n    port: 70000\n    tls: starttls\n');
  assert.ok(issues.some((i) => /^pw\.yaml:3:\d+: relay\.smarthost: invalid value "nowhere"/.test(i)), issues.join('\n'));
  assert.ok(issues.some((i) => /^pw\.yaml:6:\d+: listeners\.0\.port: must be ≤ 65535/.test(i)), issues.join('\n'));
});

test('unknown keys, missing keys and YAML syntax errors are reported', () => {
  assert.ok(errorsOf('relay:\n  smarthost: 127.0.0.1:25\nlistner: []\n').some((i) => /pw\.yaml:3:\d+: listner: unknown key/.test(i)));
  assert.ok(errorsOf('hostname: x.example\n').some((i) => /relay: missing required key "relay"/.test(i)));
  assert.ok(errorsOf('relay: [\n').some((i) => /^pw\.yaml:\d+:\d+: /.test(i)));
});

test('cross-field rules: cert without key, duplicate listener names', () => {
  const issues = errorsOf('relay: {smarthost: "127.0.0.1:25"}\ntls: {cert: a.pem}\nlisteners:\n  - {name: a, port: 1, tls: none}\n  - {name: a, port: 2, tls: none}\n');
  assert.ok(issues.some((i) => /tls: give both cert and key/.test(i)));
  assert.ok(issues.some((i) => /pw\.yaml:5:\d+: listeners\.1\.name: duplicate/.test(i)));
});

test('connection limits and pre-AUTH timers: defaults, and bounds named by line', () => {
  const base = 'relay:\n  smarthost: 127.0.0.1:25\n';
  const c = parseConfig(base, 'pw.yaml');
  for (const l of c.listeners) {
    assert.deepEqual([l.maxConnectionsPerIp, l.maxConnectionsPerNetwork, l.ipv4NetworkPrefix, l.ipv6NetworkPrefix], [10, 50, 24, 64]);
  }
  assert.deepEqual([c.smtp.preAuthIdleTimeout, c.smtp.preAuthSessionTime, c.smtp.maxReplyBacklog], [60, 120, 131_072]);
  const own = parseConfig(`${base}listeners:\n  - {name: s, port: 1, tls: starttls, maxConnectionsPerNetwork: 7, ipv6NetworkPrefix: 56}\n`, 'pw.yaml');
  assert.deepEqual([own.listeners[0].maxConnectionsPerNetwork, own.listeners[0].ipv6NetworkPrefix, own.listeners[0].maxConnectionsPerIp], [7, 56, 10]);
  assert.ok(errorsOf(`${base}smtp:\n  maxReplyBacklog: 1000\n`).some((i) => /^pw\.yaml:4:\d+: smtp\.maxReplyBacklog: must be ≥ 16384/.test(i)));
  assert.ok(errorsOf(`${base}listeners:\n  - {name: s, port: 1, tls: none, ipv4NetworkPrefix: 33}\n`).some((i) => /^pw\.yaml:4:\d+: listeners\.0\.ipv4NetworkPrefix/.test(i)));
});

test('policyService.allow: loopback by default; entries must be addresses or CIDR prefixes, named by line', () => {
  const base = 'relay:\n  smarthost: 127.0.0.1:25\n';
  assert.deepEqual(parseConfig(base, 'pw.yaml').policyService.allow, ['127.0.0.0/8', '::1/128']);
  assert.deepEqual(parseConfig(`${base}policyService:\n  allow: [192.0.2.0/24, "2001:db8::/32"]\n`, 'pw.yaml').policyService.allow, ['192.0.2.0/24', '2001:db8::/32']);
  for (const bad of ['10.0.0.0/33', '300.1.1.1', 'ff::ff::1/64', 'localhost']) {
    assert.ok(errorsOf(`${base}policyService:\n  allow: ["${bad}"]\n`).some((i) => /^pw\.yaml:4:\d+: policyService\.allow\.0: invalid value/.test(i)), bad);
  }

});

test('store: sqlite by default; postgres needs storeUrl, a postgres:// URL', () => {
  const base = 'relay:\n  smarthost: 127.0.0.1:25\n';
  assert.equal(parseConfig(base, 'pw.yaml').store, 'sqlite');
  const pg = parseConfig(`${base}store: postgres\nstoreUrl: postgres://pw@127.0.0.1:5432/pw\n`, 'pw.yaml');
  assert.deepEqual([pg.store, pg.storeUrl], ['postgres', 'postgres://pw@127.0.0.1:5432/pw']);
  assert.ok(errorsOf(`${base}store: postgres\n`).some((i) => /^pw\.yaml:3:\d+: store: postgres needs storeUrl/.test(i)));
  assert.ok(errorsOf(`${base}store: mysql\n`).some((i) => /^pw\.yaml:3:\d+: store: /.test(i)));
  assert.ok(errorsOf(`${base}store: postgres\nstoreUrl: mysql://x/y\n`).some((i) => /^pw\.yaml:4:\d+: storeUrl: invalid value/.test(i)));
});
