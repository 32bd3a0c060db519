// The console's sign-in state in the store: failure counts with their locks,
// and the session rows. A lock is kept per key, "name:<name>" (names that do not
// exist too) and "addr:<client address>": failures within the window count, the
// one that reaches the limit locks the key for the window's length.
//
// A session row holds the SHA-256 of a random 32-byte id (the cookie holds the
// id itself: a leaked table gives no session), the user, the stage it reached
// ("code": password checked, waiting for the TOTP code; "password": signed in
// but must change a generated password first; "ok"), when it began and when
// it was last used.
import { createHash, randomBytes } from 'node:crypto';
import { formatIp, parseIp, prefixKey } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import type { StaffRole } from './actor.ts';

export interface LockPolicy {
  /** Failures of one name that lock it. */
  nameAttempts: number;
  /** Failures from one address that lock it. */
  addressAttempts: number;
  /** Lock length and counting window. */
  windowMs: number;
}

export const nameKey = (name: string): string => `name:${name.toLowerCase().slice(0, 64)}`;
/** An IPv4 address (a mapped one too) as itself; an IPv6 address by its /64, which one subscriber line holds whole. */
export function addressKey(address: string): string {
  const a = parseIp(address);
  if (!a) return `addr:${address.slice(0, 64)}`;
  return `addr:${a.v === 4 ? formatIp(a) : prefixKey(a, 32, 64)}`;
}

export type SessionStage = 'code' | 'password' | 'ok';

export interface SessionRow {
  idHash: string;
  name: string;
  role: StaffRole;
  stage: SessionStage;
  createdAt: number;
  seenAt: number;
  origin: string;
  disabled: boolean;
}

export const sessionHash = (id: string): string => createHash('sha256').update(id).digest('hex');

interface ThrottleRow { failures: number | string; since: number | string; locked_until: number | string | null }

export class StaffAccess {
  private readonly db: Db;
  private readonly now: () => number;
  constructor(db: Db, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
  }

  // ---- locks --------------------------------------------------------------------------------------

  /** The latest lock end among the keys, or null when none is locked now. */
  async lockedUntil(keys: readonly string[]): Promise<number | null> {
    const at = this.now();
    let until: number | null = null;
    for (const key of keys) {
      const r = await this.db.get<ThrottleRow>('SELECT failures, since, locked_until FROM app_staff_throttle WHERE key = ?', [key]);
      const u = r?.locked_until === null || r === undefined ? null : Number(r.locked_until);
      if (u !== null && u > at && (until === null || u > until)) until = u;
    }
    return until;
  }

  /** Counts a failure against each key; returns the keys it locked now (with the lock's end). */
  async fail(keys: ReadonlyArray<{ key: string; attempts: number }>, windowMs: number): Promise<{ locked: string[]; until: number }> {
    const at = this.now();
    const locked: string[] = [];
    await this.db.transaction(async (tx) => {
      for (const { key, attempts } of keys) {
        const r = await tx.get<ThrottleRow>('SELECT failures, since, locked_until FROM app_staff_throttle WHERE key = ?', [key]);
        const fresh = !r || at - Number(r.since) >= windowMs || (r.locked_until !== null && Number(r.locked_until) <= at);
        const failures = fresh ? 1 : Number(r.failures) + 1;
        const lock = failures >= attempts ? at + windowMs : null;
        if (lock !== null) locked.push(key);
        if (r) await tx.run('UPDATE app_staff_throttle SET failures = ?, since = ?, locked_until = ? WHERE key = ?', [failures, fresh ? at : Number(r.since), lock, key]);
        else await tx.run('INSERT INTO app_staff_throttle (key, failures, since, locked_until) VALUES (?, ?, ?, ?)', [key, failures, at, lock]);
      }
    });
    return { locked, until: at + windowMs };
  }

  /** Forgets a key's failures and lock (a good sign-in clears its name; staff.unlock). */
  async clear(key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM app_staff_throttle WHERE key = ?', [key])).changes > 0;
  }

  /** Failures counted now and the lock's end (staff.show). */
  async state(key: string): Promise<{ failures: number; lockedUntil: number | null }> {
    const r = await this.db.get<ThrottleRow>('SELECT failures, since, locked_until FROM app_staff_throttle WHERE key = ?', [key]);
    if (!r) return { failures: 0, lockedUntil: null };
    const until = r.locked_until === null ? null : Number(r.locked_until);
    return { failures: Number(r.failures), lockedUntil: until !== null && until > this.now() ? until : null };
  }

  // ---- sessions -----------------------------------------------------------------------------------

  /** A new session; returns the id for the cookie (only its hash is stored). */
  async createSession(name: string, stage: SessionStage, origin: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    await this.db.run('INSERT INTO app_staff_sessions (id_hash, name, stage, created_at, seen_at, origin) VALUES (?, ?, ?, ?, ?, ?)',
      [sessionHash(id), name, stage, at, at, origin]);
    return id;
  }

  /** The session of an id with its user's role and state, or null (unknown, or its user is gone). */
  async session(id: string): Promise<SessionRow | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const r = await this.db.get<{ id_hash: string; name: string; role: string; stage: string; created_at: number | string; seen_at: number | string; origin: string; disabled_at: number | string | null }>(
      `SELECT s.id_hash, s.name, u.role, s.stage, s.created_at, s.seen_at, s.origin, u.disabled_at
         FROM app_staff_sessions s JOIN app_staff u ON u.name = s.name WHERE s.id_hash = ?`, [sessionHash(id)]);
    if (!r) return null;
    return {
      idHash: r.id_hash, name: r.name, role: r.role as StaffRole, stage: r.stage as SessionStage, createdAt: Number(r.created_at),
      seenAt: Number(r.seen_at), origin: r.origin, disabled: r.disabled_at !== null,
    };
  }

  async touch(idHash: string): Promise<void> {
    await this.db.run('UPDATE app_staff_sessions SET seen_at = ? WHERE id_hash = ?', [this.now(), idHash]);
  }

  async setStage(idHash: string, stage: SessionStage): Promise<void> {
    await this.db.run('UPDATE app_staff_sessions SET stage = ?, seen_at = ? WHERE id_hash = ?', [stage, this.now(), idHash]);
  }

  /** A new id for a session that reached a new stage (an id seen before the sign-in is never the signed-in one). */
  async rotate(idHash: string, stage: SessionStage): Promise<string | null> {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const { changes } = await this.db.run('UPDATE app_staff_sessions SET id_hash = ?, stage = ?, created_at = ?, seen_at = ? WHERE id_hash = ?',
      [sessionHash(id), stage, at, at, idHash]);
    return changes ? id : null;
  }

  async endSession(idHash: string): Promise<void> {
    await this.db.run('DELETE FROM app_staff_sessions WHERE id_hash = ?', [idHash]);
  }

  /** Removes sessions that began before `before` or were last used before `idleBefore`. */
  async prune(before: number, idleBefore: number): Promise<number> {
    return (await this.db.run('DELETE FROM app_staff_sessions WHERE created_at < ? OR seen_at < ?', [before, idleBefore])).changes;
  }
}
