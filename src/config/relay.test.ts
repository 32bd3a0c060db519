// Relay options that guard credentials and destinations (issue 10, item 15).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.ts';
import { errorsOf } from './testkit.ts';

const creds = '  user: relay@isp.example\n  password: s3cret\n';

test('relay credentials: TLS required and verified by default; an explicit downgrade is refused with file:line', () => {
  const c = parseConfig(`relay:\n  smarthost: smtp.isp.example:587\n${creds}`, 'pw.yaml');
  assert.equal(c.relay.tls, 'required');
  assert.equal(c.relay.verifyCertificate, true);
  for (const [line, what] of [['  verifyCertificate: false', /relay\.verifyCertificate: .*credentials/], ['  tls: opportunistic', /relay\.tls: .*credentials/], ['  tls: none', /relay\.tls: .*credentials/]] as const) {
    const issues = errorsOf(`relay:\n  smarthost: smtp.isp.example:587\n${creds}${line}\n`);
    assert.ok(issues.some((i) => /^pw\.yaml:5:\d+: /.test(i) && what.test(i)), issues.join('\n'));
  }
  assert.ok(errorsOf(`relay:\n  mode: mx\n${creds}`).some((i) => /relay\.user: .*smarthost mode/.test(i)));
});

test('relay without credentials keeps its defaults (opportunistic, unverified); caFile is resolved beside the config', () => {
  const c = parseConfig('relay:\n  smarthost: 127.0.0.1:25\n  caFile: ca.pem\n', '/etc/portwarden/portwarden.yaml');
  assert.equal(c.relay.tls, 'opportunistic');
  assert.equal(c.relay.verifyCertificate, false);
  assert.equal(c.relay.caFile, '/etc/portwarden/ca.pem');
  assert.equal(c.relay.allowPrivateDestinations, false);
  assert.equal(parseConfig('relay:\n  mode: mx\n  allowPrivateDestinations: true\n', 'pw.yaml').relay.allowPrivateDestinations, true);
});

test('mx mode refuses tls: required, which it would run as opportunistic (the file must say what runs)', () => {
  const errs = errorsOf('relay:\n  mode: mx\n  tls: required\n');
  assert.ok(errs.some((i) => /^pw\.yaml:3:\d+: relay\.tls: mx mode /.test(i)), errs.join('\n'));
  assert.equal(parseConfig('relay:\n  mode: mx\n  tls: opportunistic\n', 'pw.yaml').relay.tls, 'opportunistic');
});
