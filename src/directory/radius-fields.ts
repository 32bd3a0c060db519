// The attributes of an Accounting-Request that the directory reads, decoded
// into AccountingFields. Values of the wrong size are refused ('malformed'),
// text must be UTF-8. CGNAT port blocks come from RFC 8045 IP-Port-Range
// (241.6), Nokia Alc-Nat-Port-Range (26.6527.121: "ADDR LO-HI router … nat-policy …")
// or Huawei-NAT-Public-Address/Start-Port/End-Port (26.2011.161–163).
import { formatIp } from '../core/index.ts';
import type { AccountingFields, PortBlock } from './accounting.ts';
import { ATTR, VENDOR, decodeIpv6Prefix, decodeTlvs, decodeVendorSpecific, type RadiusAttribute } from './radius-codec.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Malformed extends Error {}

/** RFC 2865 §5.8: 255.255.255.255 (user chooses) and 255.255.255.254 (NAS chooses) are requests, not addresses; 0.0.0.0 is none. */
const NOT_AN_ADDRESS = new Set(['255.255.255.255', '255.255.255.254', '0.0.0.0']);

function text(v: Buffer): string {
  try { return utf8.decode(v); } catch { throw new Malformed(); }
}
function u32(v: Buffer): number {
  if (v.length !== 4) throw new Malformed();
  return v.readUInt32BE(0);
}
function v4(v: Buffer): string {
  if (v.length !== 4) throw new Malformed();
  return formatIp({ v: 4, b: new Uint8Array(v) });
}
function v6(v: Buffer): string {
  if (v.length !== 16) throw new Malformed();
  return formatIp({ v: 6, b: new Uint8Array(v) });
}
function v6prefix(v: Buffer): string {
  const p = decodeIpv6Prefix(v);
  if (!p) throw new Malformed();
  return `${formatIp({ v: 6, b: p.bytes })}/${p.len}`;
}

/** RFC 8045 §3.1.2 IP-Port-Range TLVs: 3 external IPv4 address, 8 allocation (2 = deallocation), 9 start, 10 end. */
function rfc8045Range(value: Buffer): PortBlock | null {
  if (value.length < 1 || value[0] !== 6) return null; // another Extended-Type of 241: not ours
  const tlvs = decodeTlvs(value.subarray(1));
  if (!tlvs) throw new Malformed();
  let address: string | undefined, lo: number | undefined, hi: number | undefined, release = false;
  for (const t of tlvs) {
    if (t.type === 3) address = v4(t.value);
    else if (t.type === 9) lo = u32(t.value);
    else if (t.type === 10) hi = u32(t.value);
    else if (t.type === 8) release = u32(t.value) === 2;
  }
  if (address === undefined || lo === undefined || hi === undefined) throw new Malformed();
  return { address, lo, hi, release };
}

/** "198.51.100.1 1024-2047 router base nat-policy pol" (the address and range are what we need). */
export function nokiaRange(s: string): PortBlock | null {
  const m = /^\s*([0-9.]+)\s+(\d{1,5})-(\d{1,5})(?:\s|$)/.exec(s);
  return m ? { address: m[1], lo: Number(m[2]), hi: Number(m[3]), release: false } : null;
}

function vendor(value: Buffer, f: AccountingFields, huawei: { address?: string; lo?: number; hi?: number }): void {
  const vsas = decodeVendorSpecific(value);
  if (!vsas) return; // a vendor format we do not read (e.g. wider type fields): not ours to judge
  for (const a of vsas) {
    if (a.vendor === VENDOR.nokia && a.type === 121) {
      const b = nokiaRange(text(a.value));
      if (!b) throw new Malformed();
      f.portBlocks.push(b);
    } else if (a.vendor === VENDOR.huawei) {
      if (a.type === 161) huawei.address = v4(a.value);
      else if (a.type === 162) huawei.lo = u32(a.value);
      else if (a.type === 163) huawei.hi = u32(a.value);
    }
  }
}

export function fieldsFromAttributes(attrs: RadiusAttribute[]): AccountingFields | 'malformed' {
  const f: AccountingFields = { addresses: [], portBlocks: [] };
  const huawei: { address?: string; lo?: number; hi?: number } = {};
  try {
    for (const { type, value } of attrs) {
      switch (type) {
        case ATTR.userName: f.userName = text(value); break;
        case ATTR.acctStatusType: f.status = u32(value); break;
        case ATTR.acctSessionId: f.sessionId = text(value); break;
        case ATTR.nasIpAddress: f.nasIp = v4(value); break;
        case ATTR.nasIpv6Address: f.nasIp ??= v6(value); break;
        case ATTR.nasIdentifier: f.nasId = text(value); break;
        case ATTR.framedIpAddress: { const a = v4(value); if (!NOT_AN_ADDRESS.has(a)) f.addresses.push(a); break; }
        case ATTR.framedIpv6Address: f.addresses.push(v6(value)); break;
        case ATTR.framedIpv6Prefix: case ATTR.delegatedIpv6Prefix: f.addresses.push(v6prefix(value)); break;
        case ATTR.eventTimestamp: f.eventTimestamp = u32(value); break;
        case ATTR.acctDelayTime: f.delay = u32(value); break;
        case 46: f.sessionTime = u32(value); break; // Acct-Session-Time
        case ATTR.vendorSpecific: vendor(value, f, huawei); break;
        case ATTR.extended1: { const b = rfc8045Range(value); if (b) f.portBlocks.push(b); break; }
        default: break;
      }
    }
  } catch (err) {
    if (err instanceof Malformed) return 'malformed';
    throw err;
  }
  if (huawei.address !== undefined && huawei.lo !== undefined && huawei.hi !== undefined) {
    f.portBlocks.push({ address: huawei.address, lo: huawei.lo, hi: huawei.hi, release: false });
  }
  return f;
}
