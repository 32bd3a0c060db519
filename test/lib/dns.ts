// The private unbound on loopback (src/relay/testdata/dns.ts) for tests of other parts:
// the exemption checks' reverse and forward DNS.
export { TestDns } from '../../src/relay/testdata/dns.ts';
