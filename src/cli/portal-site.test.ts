// The public portal pages' facts come from the same keys as the autoconfig answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/index.ts';
import { portalSiteFor } from './portal-site.ts';

test('from the autoconfig keys, the trusted proxies and the notice page; defaults when absent', () => {
  const cfg = parseConfig(`hostname: msa.isp.example
relay: {smarthost: "127.0.0.1:9"}
autoconfig:
  listen: "0.0.0.0:80"
  domains: [ISP.example, customers.isp.example]
  server: smtp.isp.example
  starttlsPort: 10587
  displayName: "ISP Mail"
  incoming: [{type: imap, hostname: imap.isp.example, port: 993, socketType: SSL}]
portal: {trustedProxies: ["192.0.2.0/28", "2001:db8::/64"]}
abuse: {notices: {pageUrl: "https://help.isp.example/notice"}}
`, 'pw.yaml');
  assert.deepEqual(portalSiteFor(cfg), {
    displayName: 'ISP Mail', server: 'smtp.isp.example', starttlsPort: 10587, tlsPort: 465, domains: ['isp.example', 'customers.isp.example'],
    incoming: [{ type: 'imap', hostname: 'imap.isp.example', port: 993, socketType: 'SSL' }], appleProfile: true,
    trustedProxies: ['192.0.2.0/28', '2001:db8::/64'], noticeUrl: 'https://help.isp.example/notice', exemptionPath: '/exemption',
  });
  const bare = portalSiteFor(parseConfig('hostname: msa.isp.example\nrelay: {smarthost: "127.0.0.1:9"}\n', 'pw.yaml'));
  assert.deepEqual([bare.displayName, bare.server, bare.starttlsPort, bare.appleProfile, bare.trustedProxies], ['msa.isp.example', 'msa.isp.example', 587, false, []]);
});

test('portal.trustedProxies refuses what is not a network, naming file and line', () => {
  assert.throws(() => parseConfig('relay: {smarthost: "127.0.0.1:9"}\nportal:\n  trustedProxies: ["10.0.0.0/33"]\n', 'pw.yaml'),
    (e: Error & { issues?: string[] }) => (e.issues ?? [e.message]).some((i) => /^pw\.yaml:3:\d+: portal\.trustedProxies\.0: invalid value "10\.0\.0\.0\/33"/.test(i)));
});
