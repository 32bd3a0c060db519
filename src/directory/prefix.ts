// Canonical prefix text for the directory (RFC 5952; a single host as a bare
// address) and the candidate networks of an address for the prefix lengths in
// use, so holdersAt can query by exact network key instead of scanning ranges.
import { formatIp, maskIp, parseIp } from '../core/index.ts';
import type { IpAddr } from '../core/index.ts';

export interface CanonicalPrefix { text: string; v: 4 | 6; len: number }

/** "2001:DB8::1/64" → "2001:db8::/64"; "192.0.2.7/32" → "192.0.2.7"; null when not an address or prefix. */
export function canonicalPrefix(input: string): CanonicalPrefix | null {
  const s = input.trim();
  const slash = s.indexOf('/');
  const a = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!a) return null;
  const max = a.v === 4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const t = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(t)) return null;
    len = Number(t);
    if (len > max) return null;
  }
  return { text: networkKey(a, len), v: a.v, len };
}

export function networkKey(a: IpAddr, len: number): string {
  const max = a.v === 4 ? 32 : 128;
  return len === max ? formatIp(a) : `${formatIp(maskIp(a, len))}/${len}`;
}

/** The network keys the address falls in, one per prefix length in use for its family. */
export function candidateKeys(address: string, lengths: { v4: Iterable<number>; v6: Iterable<number> }): string[] | null {
  const a = parseIp(address);
  if (!a) return null;
  const out: string[] = [];
  for (const len of a.v === 4 ? lengths.v4 : lengths.v6) out.push(networkKey(a, len));
  return out;
}
