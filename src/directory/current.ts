// The prefixes held now, across every subscriber: what the DNSBL checker asks
// about and, with the netpolicy pools, the provider's own space a complaint's
// Received chain is read against. Straight from the store (the truth), capped.
import type { Db } from '../store/index.ts';

/** Canonical prefixes (a single host bare) of the assignments not ended, in prefix order, at most `limit` (default 1 000 000). */
export async function currentPrefixes(db: Db, limit = 1_000_000): Promise<string[]> {
  const n = Math.max(1, Math.min(Math.trunc(limit), 10_000_000));
  const rows = await db.all<{ prefix: string }>(`SELECT DISTINCT prefix FROM directory_assignments WHERE end_at IS NULL ORDER BY prefix LIMIT ${n}`);
  return rows.map((r) => r.prefix);
}
