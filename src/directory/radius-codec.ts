// RADIUS packets, the small part accounting needs (RFC 2865 §3 and §5 framing,
// RFC 2866 §3 authenticators, RFC 2865 §5.26 Vendor-Specific, RFC 6929 §2.1
// Extended-Type), written by hand: the npm packages are dictionary-driven
// CommonJS last released years ago, and this is the product's core. Every
// length is checked before it is used; a bad packet is a status value, never a
// throw.
import { createHash, timingSafeEqual } from 'node:crypto';

export const ACCOUNTING_REQUEST = 4;
export const ACCOUNTING_RESPONSE = 5;
/** RFC 2865 §3: the largest packet; anything longer is not RADIUS. */
export const MAX_PACKET = 4096;

export const ATTR = {
  userName: 1, nasIpAddress: 4, framedIpAddress: 8, vendorSpecific: 26, nasIdentifier: 32,
  acctStatusType: 40, acctDelayTime: 41, acctSessionId: 44, eventTimestamp: 55,
  nasIpv6Address: 95, framedIpv6Prefix: 97, delegatedIpv6Prefix: 123, framedIpv6Address: 168, extended1: 241,
} as const;

export const STATUS = { start: 1, stop: 2, interim: 3, on: 7, off: 8 } as const;

/** Vendors whose CGNAT port-block attributes we read (docs/directory.md "CGNAT port blocks"). */
export const VENDOR = { huawei: 2011, nokia: 6527 } as const;

export interface RadiusAttribute { type: number; value: Buffer }
export interface VendorAttribute { vendor: number; type: number; value: Buffer }

export interface RadiusPacket {
  code: number;
  identifier: number;
  authenticator: Buffer;
  attributes: RadiusAttribute[];
  /** The packet as its Length field says (octets past it are padding, RFC 2865 §3). */
  raw: Buffer;
}

export type Decoded = { ok: true; packet: RadiusPacket } | { ok: false; reason: 'short' | 'length' | 'attribute' };

export function decodePacket(buf: Buffer): Decoded {
  if (buf.length < 20) return { ok: false, reason: 'short' };
  const len = buf.readUInt16BE(2);
  if (len < 20 || len > MAX_PACKET || len > buf.length) return { ok: false, reason: 'length' };
  const raw = buf.subarray(0, len);
  const attributes: RadiusAttribute[] = [];
  for (let at = 20; at < len;) {
    if (at + 2 > len) return { ok: false, reason: 'attribute' };
    const alen = raw[at + 1];
    if (alen < 2 || at + alen > len) return { ok: false, reason: 'attribute' };
    attributes.push({ type: raw[at], value: raw.subarray(at + 2, at + alen) });
    at += alen;
  }
  return { ok: true, packet: { code: raw[0], identifier: raw[1], authenticator: raw.subarray(4, 20), attributes, raw } };
}

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

const ZERO16 = Buffer.alloc(16);

/** RFC 2866 §3: Request Authenticator = MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret). */
export function requestAuthenticator(raw: Buffer, secret: Buffer): Buffer {
  return md5(raw.subarray(0, 4), ZERO16, raw.subarray(20), secret);
}

export function verifyAccountingRequest(p: RadiusPacket, secret: Buffer): boolean {
  return timingSafeEqual(requestAuthenticator(p.raw, secret), p.authenticator);
}

/** RFC 2866 §3: an Accounting-Response without attributes; its authenticator covers the request's. */
export function accountingResponse(p: RadiusPacket, secret: Buffer): Buffer {
  const out = Buffer.alloc(20);
  out[0] = ACCOUNTING_RESPONSE;
  out[1] = p.identifier;
  out.writeUInt16BE(20, 2);
  md5(out.subarray(0, 4), p.authenticator, secret).copy(out, 4);
  return out;
}

/** RFC 2866 §3: the Response Authenticator a NAS checks (tests and the bench use it). */
export function verifyAccountingResponse(resp: Buffer, requestAuth: Buffer, secret: Buffer): boolean {
  if (resp.length < 20) return false;
  const len = resp.readUInt16BE(2);
  if (len < 20 || len > resp.length) return false;
  return md5(resp.subarray(0, 4), requestAuth, resp.subarray(20, len), secret).equals(resp.subarray(4, 20));
}

/** An Accounting-Request with its authenticator (for tests and the bench; the server only decodes). */
export function encodeAccountingRequest(identifier: number, attributes: RadiusAttribute[], secret: Buffer): Buffer {
  const body = Buffer.concat(attributes.map((a) => {
    if (a.value.length > 253) throw new RangeError(`attribute ${a.type} longer than 253 octets`);
    return Buffer.concat([Buffer.from([a.type, a.value.length + 2]), a.value]);
  }));
  const out = Buffer.concat([Buffer.alloc(20), body]);
  if (out.length > MAX_PACKET) throw new RangeError('packet longer than 4096 octets');
  out[0] = ACCOUNTING_REQUEST;
  out[1] = identifier & 0xff;
  out.writeUInt16BE(out.length, 2);
  requestAuthenticator(out, secret).copy(out, 4);
  return out;
}

/** RFC 2865 §5.26 with the common one-octet type and length; null when the value is not of that shape. */
export function decodeVendorSpecific(value: Buffer): VendorAttribute[] | null {
  if (value.length < 4) return null;
  const vendor = value.readUInt32BE(0);
  const out: VendorAttribute[] = [];
  for (let at = 4; at < value.length;) {
    if (at + 2 > value.length) return null;
    const len = value[at + 1];
    if (len < 2 || at + len > value.length) return null;
    out.push({ vendor, type: value[at], value: value.subarray(at + 2, at + len) });
    at += len;
  }
  return out;
}

/** RFC 6929 §2.3 TLVs (inside an extended attribute such as RFC 8045's IP-Port-Range); null when malformed. */
export function decodeTlvs(value: Buffer): RadiusAttribute[] | null {
  const out: RadiusAttribute[] = [];
  for (let at = 0; at < value.length;) {
    if (at + 2 > value.length) return null;
    const len = value[at + 1];
    if (len < 2 || at + len > value.length) return null;
    out.push({ type: value[at], value: value.subarray(at + 2, at + len) });
    at += len;
  }
  return out;
}

/** RFC 3162 §2.3 / RFC 4818 §3: reserved octet, prefix length, then only the prefix's significant octets. */
export function decodeIpv6Prefix(value: Buffer): { bytes: Uint8Array; len: number } | null {
  if (value.length < 2 || value.length > 18) return null;
  const len = value[1];
  if (len > 128 || value.length - 2 < Math.ceil(len / 8)) return null;
  const bytes = new Uint8Array(16);
  value.copy(bytes, 0, 2, Math.min(value.length, 18));
  return { bytes, len };
}

export function encodeIpv6Prefix(bytes: Uint8Array, len: number): Buffer {
  const n = Math.ceil(len / 8);
  return Buffer.concat([Buffer.from([0, len]), Buffer.from(bytes.subarray(0, n))]);
}
