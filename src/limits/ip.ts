// Addresses as limits see them: the client address and prefix keys are core's
// (core/ip.ts, shared with the engine's connection counts); CIDR lists for
// trusted networks are the limits' own.
import { maskIp, parseIp, type IpAddr } from '../core/index.ts';

export { parseIp, formatIp, maskIp, prefixKey, type IpAddr } from '../core/index.ts';

export interface Cidr {
  readonly addr: IpAddr;
  readonly len: number;
}

export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  const addr = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!addr) return null;
  let len = addr.v === 4 ? 32 : 128;
  if (slash >= 0) {
    const t = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(t)) return null;
    len = Number(t);
    // "::ffff:10.0.0.0/104" is an IPv4 /8 once the mapping is removed.
    if (addr.v === 4 && s.slice(0, slash).includes(':')) len -= 96;
  }
  if (len < 0 || len > (addr.v === 4 ? 32 : 128)) return null;
  return { addr: maskIp(addr, len), len };
}

export function cidrContains(c: Cidr, a: IpAddr): boolean {
  if (c.addr.v !== a.v) return false;
  const m = maskIp(a, c.len);
  for (let i = 0; i < m.b.length; i++) if (m.b[i] !== c.addr.b[i]) return false;
  return true;
}

/** A small list of networks (trusted relays, webmail); linear scan is enough for tens of entries. */
export class CidrList {
  readonly cidrs: readonly Cidr[];
  constructor(cidrs: readonly Cidr[]) { this.cidrs = cidrs; }
  /** Returns the list, or the entries that do not parse. */
  static parse(list: readonly string[]): CidrList | { invalid: string[] } {
    const out: Cidr[] = [];
    const invalid: string[] = [];
    for (const s of list) {
      const c = parseCidr(s);
      if (c) out.push(c);
      else invalid.push(s);
    }
    return invalid.length ? { invalid } : new CidrList(out);
  }
  has(ip: string | IpAddr): boolean {
    const a = typeof ip === 'string' ? parseIp(ip) : ip;
    return !!a && this.cidrs.some((c) => cidrContains(c, a));
  }
}
