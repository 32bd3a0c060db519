// The source prefixes (IPv4 /24, IPv6 /64 by default) each login authenticated
// from, in the state database, so the brute-force allowance for them survives a
// restart of an embedded server. Keyed by the normalised login; a few per login.
import { type Clock, systemClock } from '../core/index.ts';
import type { Db, Store } from '../store/index.ts';
import { AUTH_MIGRATIONS } from './schema.ts';

/** Newest prefixes kept per login; older ones are forgotten first. */
const PER_LOGIN = 16;
/**
 * A prefix written this recently is not written again: every successful AUTH would otherwise be
 * a write transaction (on PostgreSQL a commit with its WAL flush; on SQLite a write lock that
 * holds off every other statement). The window's edge moves by at most this much.
 */
export const KNOWN_PREFIX_REFRESH_MS = 3_600_000;
/** Entries of the recent-write memory before it is cleared (bounded; a miss only costs a write). */
const RECENT_MAX = 50_000;

/** What the brute-force tracker (limits part) needs: has a login succeeded from this prefix lately? */
export interface KnownPrefixRepository {
  has(login: string, prefix: string, maxAgeMs: number): Promise<boolean>;
  add(login: string, prefix: string, maxAgeMs: number): Promise<void>;
}

const HAS = 'SELECT 1 AS x FROM auth_known_prefixes WHERE login = ? AND prefix = ? AND last_ok > ?';
const UPSERT = 'INSERT INTO auth_known_prefixes (login, prefix, last_ok) VALUES (?, ?, ?) ON CONFLICT (login, prefix) DO UPDATE SET last_ok = excluded.last_ok';
const TRIM = `DELETE FROM auth_known_prefixes WHERE login = ? AND (last_ok <= ? OR prefix NOT IN
  (SELECT prefix FROM auth_known_prefixes WHERE login = ? ORDER BY last_ok DESC LIMIT ${PER_LOGIN}))`;

export class KnownPrefixTable implements KnownPrefixRepository {
  private readonly clock: Clock;
  private readonly db: Db;
  /** login + prefix → when this process last wrote it. */
  private readonly recent = new Map<string, number>();
  readonly ready: Promise<void>;

  constructor(store: Store, opts: { clock?: Clock } = {}) {
    this.db = store.db;
    this.clock = opts.clock ?? systemClock;
    this.ready = store.migrate(AUTH_MIGRATIONS);
    this.ready.catch(() => {}); // reported by the first call that waits for it
  }

  static async open(store: Store, opts: { clock?: Clock } = {}): Promise<KnownPrefixTable> {
    const t = new KnownPrefixTable(store, opts);
    await t.ready;
    return t;
  }

  async has(login: string, prefix: string, maxAgeMs: number): Promise<boolean> {
    await this.ready;
    return (await this.db.get(HAS, [login, prefix, this.clock.now() - maxAgeMs])) !== undefined;
  }

  async add(login: string, prefix: string, maxAgeMs: number): Promise<void> {
    await this.ready;
    const now = this.clock.now();
    const key = `${login}\0${prefix}`;
    const last = this.recent.get(key);
    if (last !== undefined && now - last < KNOWN_PREFIX_REFRESH_MS) return;
    if (this.recent.size >= RECENT_MAX) this.recent.clear();
    this.recent.set(key, now);
    try {
      await this.db.transaction(async (tx) => {
        await tx.run(UPSERT, [login, prefix, now]);
        await tx.run(TRIM, [login, now - maxAgeMs, login]);
      });
    } catch (err) {
      this.recent.delete(key); // not written: the next success tries again
      throw err;
    }
  }
}
