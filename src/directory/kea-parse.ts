// Rows of Kea's memfile lease files (CSV, one row per lease change, appended;
// every file begins with its header line). Columns are found by the header's
// names, so a later Kea version's extra columns (pool_id) change nothing.
// Kea 2.2 writes
//   v4: address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context
//   v6: address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source
// Commas inside values are written escaped ("&#x2c"), so a plain split is right.
// A released or deleted lease is a row with valid_lifetime 0 whose expire is
// the last renewal (cltt): Kea records no release time.
import { canonicalPrefix } from './prefix.ts';

export interface LeaseRow {
  /** Address, or prefix for a delegated prefix (IA_PD), canonical. */
  prefix: string;
  /** Access identities to resolve, in order of preference ("hw:…", "client-id:…", "duid:…"). */
  access: string[];
  validLifetime: number;
  /** Seconds since the epoch. */
  expire: number;
  /** 0 default, 1 declined, 2 expired-reclaimed. */
  state: number;
}

export type Columns = Map<string, number>;

export function headerColumns(line: string): Columns | null {
  const names = line.trim().split(',');
  if (names[0] !== 'address' || !names.includes('expire') || !names.includes('valid_lifetime')) return null;
  return new Map(names.map((n, i) => [n, i]));
}

const HEX_ID = /^[0-9a-f]{2}(:[0-9a-f]{2}){0,127}$/;

export function parseLeaseRow(line: string, cols: Columns): LeaseRow | null {
  const f = line.trim().split(',');
  const get = (n: string): string => { const i = cols.get(n); return i === undefined ? '' : (f[i] ?? '').trim(); };
  const vlt = get('valid_lifetime'), exp = get('expire'), st = get('state') || '0';
  if (!/^\d{1,10}$/.test(vlt) || !/^\d{1,12}$/.test(exp) || !/^\d{1,3}$/.test(st)) return null;
  let text = get('address');
  if (cols.has('lease_type')) { // v6: 0 IA_NA, 1 IA_TA, 2 IA_PD
    const len = get('prefix_len');
    if (get('lease_type') === '2') {
      if (!/^\d{1,3}$/.test(len)) return null;
      text = `${text}/${len}`;
    }
  }
  const p = canonicalPrefix(text);
  if (!p || (cols.has('lease_type') ? p.v !== 6 : p.v !== 4)) return null;
  const access: string[] = [];
  const id = (kind: string, v: string): void => { const s = v.toLowerCase(); if (HEX_ID.test(s)) access.push(`${kind}:${s}`); };
  if (cols.has('duid')) { id('duid', get('duid')); id('hw', get('hwaddr')); } else { id('hw', get('hwaddr')); id('client-id', get('client_id')); }
  return { prefix: p.text, access, validLifetime: Number(vlt), expire: Number(exp), state: Number(st) };
}
