// The source prefixes (IPv4 /24, IPv6 /64 by default) each login authenticated
// from, in the state database, so the brute-force allowance for them survives a
// restart of an embedded server. Keyed by the normalised login; a few per login.
import type { StatementSync } from 'node:sqlite';
import { type Clock, systemClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { AUTH_MIGRATIONS } from './accounts.ts';

/** Newest prefixes kept per login; older ones are forgotten first. */
const PER_LOGIN = 16;

export class KnownPrefixTable {
  private readonly clock: Clock;
  private readonly hasSql: StatementSync;
  private readonly upsertSql: StatementSync;
  private readonly trimSql: StatementSync;

  constructor(store: Store, opts: { clock?: Clock } = {}) {
    store.migrate(AUTH_MIGRATIONS);
    this.clock = opts.clock ?? systemClock;
    this.hasSql = store.db.prepare('SELECT 1 FROM auth_known_prefixes WHERE login = ? AND prefix = ? AND last_ok > ?');
    this.upsertSql = store.db.prepare(
      'INSERT INTO auth_known_prefixes (login, prefix, last_ok) VALUES (?, ?, ?) ON CONFLICT (login, prefix) DO UPDATE SET last_ok = excluded.last_ok');
    this.trimSql = store.db.prepare(
      `DELETE FROM auth_known_prefixes WHERE login = ? AND (last_ok <= ? OR prefix NOT IN
         (SELECT prefix FROM auth_known_prefixes WHERE login = ? ORDER BY last_ok DESC LIMIT ${PER_LOGIN}))`);
  }

  has(login: string, prefix: string, maxAgeMs: number): boolean {
    return this.hasSql.get(login, prefix, this.clock.now() - maxAgeMs) !== undefined;
  }

  add(login: string, prefix: string, maxAgeMs: number): void {
    const now = this.clock.now();
    this.upsertSql.run(login, prefix, now);
    this.trimSql.run(login, now - maxAgeMs, login);
  }
}
