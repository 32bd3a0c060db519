// Which address "Am I blocked?" answers for: never one a client wrote, unless a
// trusted proxy forwarded it, and then the right-most untrusted hop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { clientAddress } from './client.ts';

const req = (remote: string, xff?: string | string[], port = 40000): FastifyRequest =>
  ({ socket: { remoteAddress: remote, remotePort: port }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as FastifyRequest;

test('without trusted proxies X-Forwarded-For is ignored; IPv4-mapped peers are IPv4; the port is kept', () => {
  assert.deepEqual(clientAddress(req('::ffff:198.51.100.10', '192.0.2.1'), []), { address: '198.51.100.10', port: 40000, forwarded: false });
  assert.deepEqual(clientAddress(req('2001:DB8::0:1', '192.0.2.1'), []), { address: '2001:db8::1', port: 40000, forwarded: false });
});

test('from a peer that is not a trusted proxy the header is ignored', () => {
  assert.deepEqual(clientAddress(req('198.51.100.10', '203.0.113.5'), ['10.0.0.0/8']), { address: '198.51.100.10', port: 40000, forwarded: false });
});

test('from a trusted proxy: the right-most hop that is not a proxy; what the client wrote on the left is not believed', () => {
  const trusted = ['10.0.0.0/8', '2001:db8:ffff::/48'];
  assert.deepEqual(clientAddress(req('10.0.0.2', '6.6.6.6, 198.51.100.10, 10.0.0.9'), trusted), { address: '198.51.100.10', port: null, forwarded: true });
  assert.deepEqual(clientAddress(req('10.0.0.2', ['6.6.6.6', '[2001:db8:1::5]:443']), trusted), { address: '2001:db8:1::5', port: null, forwarded: true });
  assert.deepEqual(clientAddress(req('10.0.0.2', '198.51.100.10:5555'), trusted), { address: '198.51.100.10', port: null, forwarded: true });
  assert.deepEqual(clientAddress(req('10.0.0.2'), trusted), { address: '10.0.0.2', port: 40000, forwarded: false }, 'no header: the proxy itself asked');
  assert.equal(clientAddress(req('10.0.0.2', '198.51.100.10, <script>'), trusted), null, 'garbage where the client should be: cannot tell');
});
