// Staff users of the console (issue 13 §9): a name (normalised once: lower
// case, a strict charset), a role (actor.ts STAFF_ROLES), an argon2id password
// hash (auth's hashPassword), and a TOTP secret (RFC 6238: SHA-1, 6 digits,
// 30 s steps, one step either side accepted). A code is good once: the step of
// the last accepted code is kept and a code of that step or an earlier one is
// refused (a code seen over a shoulder or replayed from a proxy log is dead).
//
// The TOTP secret is stored as it must be used (base32): the verifier needs it
// in the clear, and a key to wrap it would have to sit beside the database of
// every node that shares it. A leaked database still does not give a sign-in:
// the password hashes stand in the way.
//
// Sign-in failures are counted per name and per client address in
// app_staff_throttle (staff-access.ts), names that do not exist included, so a
// lock says nothing about whether a name exists.
import { randomBytes, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { hashPassword, verifyPassword } from '../auth/index.ts';
import type { Db, DbMigration } from '../store/index.ts';
import { STAFF_ROLES, type StaffRole } from './actor.ts';
import { AppError } from './errors.ts';
import { StaffAccess } from './staff-access.ts';

// The same DDL on both dialects (BIGINT and TEXT only).
const STAFF_DDL = `
    CREATE TABLE app_staff (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, must_change INTEGER NOT NULL,
      totp_secret TEXT NOT NULL, totp_step BIGINT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL,
      disabled_at BIGINT, last_signin_at BIGINT, last_signin_from TEXT);
    CREATE TABLE app_staff_sessions (id_hash TEXT PRIMARY KEY, name TEXT NOT NULL, stage TEXT NOT NULL,
      created_at BIGINT NOT NULL, seen_at BIGINT NOT NULL, origin TEXT NOT NULL);
    CREATE INDEX app_staff_sessions_name ON app_staff_sessions (name);
    CREATE TABLE app_staff_throttle (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, since BIGINT NOT NULL, locked_until BIGINT);
  `;

export const STAFF_MIGRATIONS: readonly DbMigration[] = [{
  id: 'app/003-staff',
  sqlite: STAFF_DDL,
  postgres: STAFF_DDL,
}];

/** After lower-casing: a letter, then letters, digits, ".", "_" or "-"; 2 to 32 characters. */
export const STAFF_NAME = /^[a-z][a-z0-9._-]{1,31}$/;
export const STAFF_PASSWORD_MIN = 12;
export const STAFF_PASSWORD_MAX = 1024;
export const TOTP_ISSUER = 'portwarden';
export const TOTP_PERIOD_S = 30;

/** The one normalisation of a staff name, or null when it cannot be one. */
export function staffName(input: string): string | null {
  const n = input.trim().toLowerCase();
  return STAFF_NAME.test(n) ? n : null;
}

export function checkedStaffName(input: string): string {
  const n = staffName(input);
  if (!n) throw new AppError('invalid-value', 'a staff name is 2 to 32 characters: a letter, then letters, digits, ".", "_" or "-"', { field: 'name' });
  return n;
}

function checkedRole(role: string): StaffRole {
  if (!(STAFF_ROLES as readonly string[]).includes(role)) throw new AppError('invalid-value', `role is one of ${STAFF_ROLES.join(', ')}`, { field: 'role' });
  return role as StaffRole;
}

function checkedPassword(p: string): string {
  if (p.length < STAFF_PASSWORD_MIN || p.length > STAFF_PASSWORD_MAX) {
    throw new AppError('invalid-password', `a staff password is ${STAFF_PASSWORD_MIN} to ${STAFF_PASSWORD_MAX} characters`, { field: 'password' });
  }
  return p;
}

// No 0/O, 1/l/I: a generated password is read off a screen and typed once.
const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** 20 characters of a 56-letter alphabet: about 116 bits. */
export function generatePassword(): string {
  let s = '';
  for (let i = 0; i < 20; i++) s += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return s;
}

export function totpFor(name: string, secretBase32: string): TOTP {
  return new TOTP({ issuer: TOTP_ISSUER, label: name, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_S, secret: Secret.fromBase32(secretBase32) });
}

export interface StaffInfo {
  name: string;
  role: StaffRole;
  createdAt: number;
  createdBy: string;
  disabledAt: number | null;
  /** The password was generated: the next sign-in must change it. */
  mustChangePassword: boolean;
  lastSignInAt: number | null;
  lastSignInFrom: string | null;
}

export interface NewTotp {
  /** Base32, for typing into an authenticator by hand. */
  secret: string;
  /** otpauth://totp/… for a QR code. */
  uri: string;
}

interface Row {
  name: string; role: string; must_change: number | string; created_at: number | string; created_by: string;
  disabled_at: number | string | null; last_signin_at: number | string | null; last_signin_from: string | null;
}
const COLS = 'name, role, must_change, created_at, created_by, disabled_at, last_signin_at, last_signin_from';
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
const info = (r: Row): StaffInfo => ({
  name: r.name, role: r.role as StaffRole, createdAt: Number(r.created_at), createdBy: r.created_by, disabledAt: num(r.disabled_at),
  mustChangePassword: Number(r.must_change) === 1, lastSignInAt: num(r.last_signin_at), lastSignInFrom: r.last_signin_from,
});

export type PasswordCheck =
  | { ok: true; user: StaffInfo }
  | { ok: false; reason: 'unknown' | 'disabled' | 'bad-password' };

export type CodeCheck = 'ok' | 'bad-code' | 'replayed';

/** Verified against names that do not exist, so an unknown name costs what a known one does. */
let dummyHash: Promise<string> | undefined;

export class StaffRepository {
  readonly db: Db;
  /** Sign-in locks and sessions (the console's gate and staff.unlock). */
  readonly access: StaffAccess;
  private readonly now: () => number;
  constructor(db: Db, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
    this.access = new StaffAccess(db, now);
  }

  /** A new staff user; the password is generated (and must be changed at the first sign-in) unless given. */
  async add(o: { name: string; role: string; password?: string; createdBy: string }): Promise<{ info: StaffInfo; totp: NewTotp; password?: string }> {
    const name = checkedStaffName(o.name);
    const role = checkedRole(o.role);
    const generated = o.password === undefined ? generatePassword() : undefined;
    const password = checkedPassword(o.password ?? generated!);
    const secret = new Secret({ size: 20 }).base32;
    const hash = await hashPassword(password);
    const at = this.now();
    await this.db.transaction(async (tx) => {
      if (await tx.get('SELECT name FROM app_staff WHERE name = ?', [name])) throw new AppError('exists', `a staff user named ${name} exists`, { name });
      await tx.run(`INSERT INTO app_staff (name, role, hash, must_change, totp_secret, totp_step, created_at, created_by) VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
        [name, role, hash, generated ? 1 : 0, secret, at, o.createdBy]);
    });
    const user: StaffInfo = { name, role, createdAt: at, createdBy: o.createdBy, disabledAt: null, mustChangePassword: !!generated, lastSignInAt: null, lastSignInFrom: null };
    return { info: user, totp: { secret, uri: totpFor(name, secret).toString() }, ...(generated ? { password: generated } : {}) };
  }

  async get(name: string): Promise<StaffInfo | null> {
    const n = staffName(name);
    if (!n) return null;
    const r = await this.db.get<Row>(`SELECT ${COLS} FROM app_staff WHERE name = ?`, [n]);
    return r ? info(r) : null;
  }

  async list(): Promise<StaffInfo[]> {
    return (await this.db.all<Row>(`SELECT ${COLS} FROM app_staff ORDER BY name`)).map(info);
  }

  private async must(name: string): Promise<StaffInfo> {
    const u = await this.get(name);
    if (!u) throw new AppError('not-found', `no staff user named ${staffName(name) ?? name}`, { name });
    return u;
  }

  private async update(name: string, sql: string, params: Array<string | number | null>, endSessions: boolean): Promise<StaffInfo> {
    const u = await this.must(name);
    await this.db.run(`UPDATE app_staff SET ${sql} WHERE name = ?`, [...params, u.name]);
    if (endSessions) await this.endSessions(u.name);
    return (await this.get(u.name))!;
  }

  /** Refuses to leave the console without an enabled admin (who would add the next one?). */
  private async keepAnAdmin(name: string, what: string): Promise<void> {
    const u = await this.must(name);
    if (u.role !== 'admin' || u.disabledAt !== null) return;
    const r = await this.db.get<{ n: number | string }>("SELECT count(*) AS n FROM app_staff WHERE role = 'admin' AND disabled_at IS NULL AND name <> ?", [u.name]);
    if (Number(r?.n ?? 0) === 0) throw new AppError('conflict', `${u.name} is the last enabled admin: add another admin before you ${what} ${u.name}`, { name: u.name });
  }

  /** A new role ends the user's sessions: the next sign-in gets the new role's pages. */
  async setRole(name: string, role: string): Promise<StaffInfo> {
    const r = checkedRole(role);
    if (r !== 'admin') await this.keepAnAdmin(name, 'change the role of');
    return this.update(name, 'role = ?', [r], true);
  }

  async disable(name: string): Promise<StaffInfo> {
    await this.keepAnAdmin(name, 'disable');
    return this.update(name, 'disabled_at = COALESCE(disabled_at, ?)', [this.now()], true);
  }

  enable(name: string): Promise<StaffInfo> {
    return this.update(name, 'disabled_at = NULL', [], false);
  }

  /**
   * A new password: generated (to be changed at the next sign-in) unless given.
   * `endSessions`: an admin's reset ends every session; the person's own change keeps the one they use.
   */
  async setPassword(name: string, password: string | undefined, o: { mustChange?: boolean; endSessions?: boolean } = {}): Promise<{ info: StaffInfo; password?: string }> {
    const generated = password === undefined ? generatePassword() : undefined;
    const hash = await hashPassword(checkedPassword(password ?? generated!));
    const mustChange = o.mustChange ?? !!generated;
    const u = await this.update(name, 'hash = ?, must_change = ?', [hash, mustChange ? 1 : 0], o.endSessions ?? true);
    return { info: u, ...(generated ? { password: generated } : {}) };
  }

  /** A new TOTP secret (a lost phone); the old one stops working and the user's sessions end. */
  async resetTotp(name: string): Promise<{ info: StaffInfo; totp: NewTotp }> {
    const secret = new Secret({ size: 20 }).base32;
    const u = await this.update(name, 'totp_secret = ?, totp_step = 0', [secret], true);
    return { info: u, totp: { secret, uri: totpFor(u.name, secret).toString() } };
  }

  async remove(name: string): Promise<StaffInfo> {
    await this.keepAnAdmin(name, 'remove');
    const u = await this.must(name);
    await this.db.run('DELETE FROM app_staff WHERE name = ?', [u.name]);
    await this.endSessions(u.name);
    return u;
  }

  /** The first sign-in step. Unknown and disabled names cost one argon2 verification too. */
  async checkPassword(name: string, password: string): Promise<PasswordCheck> {
    const n = staffName(name);
    const r = n ? await this.db.get<Row & { hash: string }>(`SELECT ${COLS}, hash FROM app_staff WHERE name = ?`, [n]) : undefined;
    const pw = password.length > STAFF_PASSWORD_MAX ? '' : password;
    if (!r) {
      await verifyPassword(await (dummyHash ??= hashPassword(randomBytes(16).toString('hex'))), pw);
      return { ok: false, reason: 'unknown' };
    }
    const good = pw !== '' && await verifyPassword(r.hash, pw);
    if (r.disabled_at !== null) return { ok: false, reason: 'disabled' };
    return good ? { ok: true, user: info(r) } : { ok: false, reason: 'bad-password' };
  }

  /** The second step: a 6-digit code of this step or one either side, never one of a step already used. */
  async checkCode(name: string, code: string): Promise<CodeCheck> {
    if (!/^\d{6}$/.test(code)) return 'bad-code';
    const r = await this.db.get<{ totp_secret: string }>('SELECT totp_secret FROM app_staff WHERE name = ? AND disabled_at IS NULL', [name]);
    if (!r) return 'bad-code';
    const at = this.now();
    const delta = totpFor(name, r.totp_secret).validate({ token: code, timestamp: at, window: 1 });
    if (delta === null) return 'bad-code';
    const step = Math.floor(at / 1000 / TOTP_PERIOD_S) + delta;
    // One statement: of two requests with the same code, one wins.
    const { changes } = await this.db.run('UPDATE app_staff SET totp_step = ? WHERE name = ? AND totp_step < ?', [step, name, step]);
    return changes ? 'ok' : 'replayed';
  }

  async recordSignIn(name: string, from: string): Promise<void> {
    await this.db.run('UPDATE app_staff SET last_signin_at = ?, last_signin_from = ? WHERE name = ?', [this.now(), from, name]);
  }

  /** Ends every session of the user (disable, role change, reset, remove). */
  async endSessions(name: string): Promise<number> {
    return (await this.db.run('DELETE FROM app_staff_sessions WHERE name = ?', [name])).changes;
  }

  /** Sessions signed in now (either stage), for staff.show. */
  async sessionCount(name: string): Promise<number> {
    const r = await this.db.get<{ n: number | string }>('SELECT count(*) AS n FROM app_staff_sessions WHERE name = ?', [name]);
    return Number(r?.n ?? 0);
  }
}
