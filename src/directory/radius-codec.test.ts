// The codec's boundaries: lengths, the authenticators of RFC 2866 §3, RFC 3162
// prefixes with only their significant octets, vendor attributes, and the
// fields read from them (text must be UTF-8, values of the wrong size refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR, accountingResponse, decodeIpv6Prefix, decodePacket, decodeVendorSpecific, encodeAccountingRequest, encodeIpv6Prefix, verifyAccountingRequest, verifyAccountingResponse } from './radius-codec.ts';
import { fieldsFromAttributes } from './radius-fields.ts';

const secret = Buffer.from('s3cret');

test('an encoded request verifies with its secret only, and its answer verifies at the NAS', () => {
  const req = encodeAccountingRequest(7, [{ type: ATTR.userName, value: Buffer.from('alice') }], secret);
  const d = decodePacket(Buffer.concat([req, Buffer.alloc(5)])); // padding past Length is ignored
  assert.ok(d.ok);
  assert.equal(d.packet.raw.length, req.length);
  assert.ok(verifyAccountingRequest(d.packet, secret));
  assert.ok(!verifyAccountingRequest(d.packet, Buffer.from('other')));
  const resp = accountingResponse(d.packet, secret);
  assert.equal(resp[0], 5);
  assert.equal(resp[1], 7);
  assert.ok(verifyAccountingResponse(resp, req.subarray(4, 20), secret));
  assert.ok(!verifyAccountingResponse(resp, req.subarray(4, 20), Buffer.from('other')));
});

test('lengths are checked before use', () => {
  const ok = encodeAccountingRequest(1, [{ type: ATTR.userName, value: Buffer.from('a') }], secret);
  const set = (b: Buffer, at: number, v: number): Buffer => { const c = Buffer.from(b); c[at] = v; return c; };
  assert.deepEqual(decodePacket(Buffer.alloc(19)), { ok: false, reason: 'short' });
  assert.deepEqual(decodePacket(set(ok, 3, 30)), { ok: false, reason: 'length' }, 'Length past the datagram');
  assert.deepEqual(decodePacket(set(ok, 3, 10)), { ok: false, reason: 'length' }, 'Length under 20');
  assert.deepEqual(decodePacket(set(ok, 21, 1)), { ok: false, reason: 'attribute' }, 'attribute length under 2');
  assert.deepEqual(decodePacket(set(ok, 21, 9)), { ok: false, reason: 'attribute' }, 'attribute past the packet');
  const big = Buffer.alloc(5000); big.writeUInt16BE(4097, 2);
  assert.deepEqual(decodePacket(big), { ok: false, reason: 'length' });
});

test('IPv6 prefixes: only the significant octets may be sent (RFC 3162 §2.3), more are accepted, fewer refused', () => {
  const p = decodeIpv6Prefix(Buffer.from([0, 56, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0xff]));
  assert.equal(p?.len, 56);
  assert.deepEqual([...p!.bytes.subarray(0, 8)], [0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0xff, 0]);
  assert.equal(decodeIpv6Prefix(Buffer.from([0, 64, 0x20, 0x01])), null, 'a /64 needs 8 octets');
  assert.equal(decodeIpv6Prefix(Buffer.from([0, 129, ...Buffer.alloc(16)])), null);
  assert.deepEqual(encodeIpv6Prefix(p!.bytes, 56), Buffer.from([0, 56, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0xff]));
  const f = fieldsFromAttributes([{ type: ATTR.delegatedIpv6Prefix, value: encodeIpv6Prefix(p!.bytes, 56) }]);
  assert.deepEqual(f !== 'malformed' && f.addresses, ['2001:db8:100:ff00::/56']);
});

test('vendor attributes and the fields: wrong sizes and non-UTF-8 text are malformed, unknown vendors ignored', () => {
  const vsa = Buffer.from([0, 0, 0x19, 0x7f, 121, 7, ...Buffer.from('x y z')]);
  assert.deepEqual(decodeVendorSpecific(vsa)?.map((a) => [a.vendor, a.type, a.value.toString()]), [[6527, 121, 'x y z']]);
  assert.equal(decodeVendorSpecific(Buffer.from([0, 0, 0x19, 0x7f, 121, 9, 1])), null);
  assert.equal(fieldsFromAttributes([{ type: ATTR.framedIpAddress, value: Buffer.from([1, 2, 3]) }]), 'malformed');
  assert.equal(fieldsFromAttributes([{ type: ATTR.userName, value: Buffer.from([0xc3, 0x28]) }]), 'malformed');
  assert.equal(fieldsFromAttributes([{ type: ATTR.vendorSpecific, value: vsa }]), 'malformed', 'a Nokia port range that is none');
  const unknown = fieldsFromAttributes([{ type: ATTR.vendorSpecific, value: Buffer.from([0, 0, 0, 9, 1, 3, 0]) }, { type: ATTR.framedIpAddress, value: Buffer.from([255, 255, 255, 254]) }]);
  assert.deepEqual(unknown !== 'malformed' && [unknown.addresses, unknown.portBlocks], [[], []], 'NAS-chooses is no address; vendor 9 is not read');
});
