// Submission accounts in the state store (SQLite or PostgreSQL): who may authenticate, with what
// credentials, on behalf of which subscriber, and which envelope senders each
// account may use. Admin mistakes (duplicate login, malformed address) throw an
// AccountError with a stable code; the api part turns codes into answers.
import type { Clock, Logger } from '../core/index.ts';
import { silentLogger, systemClock } from '../core/index.ts';
import type { Db, Param, Store } from '../store/index.ts';
import { AUTH_MIGRATIONS } from './schema.ts';
import { hashCapError, identifyHash, newCredentials, scramFromHash, type HashCaps } from './hashes.ts';
import { domainOf, normalizeAddress, normalizeLogin } from './names.ts';
import { planImport, type ImportOptions, type ImportResult } from './passwd-file.ts';
import type { ScramCredentials } from './scram-keys.ts';

export { AUTH_MIGRATIONS };

export type AccountStatus = 'active' | 'disabled';

export interface Account {
  id: number;
  login: string;
  subscriber: string;
  status: AccountStatus;
  disabledReason: string | null;
  tier: string;
  /** Extra sender addresses and '@domain' wildcards; the login itself is implied. */
  addresses: string[];
  /** Hash scheme of the stored password, e.g. "argon2id", "sha512-crypt". */
  scheme: string;
  /** Whether SCRAM-SHA-256 keys are stored (else SCRAM fails like an unknown user until a PLAIN/LOGIN success). */
  scram: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewAccount {
  login: string;
  /** Exactly one of password (hashed here with argon2id) and hash (an existing hash, any scheme hashes.ts reads). */
  password?: string;
  hash?: string;
  subscriber?: string;
  addresses?: readonly string[];
  tier?: string;
}

/** What the Authenticator needs; a Dovecot-backed source could provide the same. */
export interface AuthRecord {
  login: string;
  hash: string;
  status: AccountStatus;
  disabledReason: string | null;
  scram: ScramCredentials | null;
}

export interface CredentialSource {
  authRecord(login: string): AuthRecord | null | Promise<AuthRecord | null>;
  updateCredentials(login: string, update: { hash?: string; scram?: ScramCredentials }): boolean | Promise<boolean>;
}

export type AccountErrorCode = 'exists' | 'not-found' | 'invalid-login' | 'invalid-address' | 'invalid-hash' | 'invalid-password';

export class AccountError extends Error {
  readonly code: AccountErrorCode;
  constructor(code: AccountErrorCode, message: string) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
  }
}

interface Row {
  id: number;
  login: string;
  subscriber: string;
  password_hash: string;
  scram_salt: string | null;
  scram_iterations: number | null;
  scram_stored_key: string | null;
  scram_server_key: string | null;
  status: AccountStatus;
  disabled_reason: string | null;
  tier: string;
  created_at: number;
  updated_at: number;
  addresses: string | null;
}

interface Prepared {
  login: string;
  subscriber: string;
  hash: string;
  scram: ScramCredentials | null;
  addresses: string[];
  tier: string;
}

const AGGREGATE = { sqlite: 'group_concat(address, char(10))', postgres: 'string_agg(address, chr(10))' } as const;
const selectFor = (d: Db['dialect']): string =>
  `SELECT a.*, (SELECT ${AGGREGATE[d]} FROM account_addresses WHERE account_id = a.id) AS addresses FROM accounts a`;

/** What the application layer and the MSA need from the account store (async: SQLite or PostgreSQL behind it). */
export interface AccountRepository extends CredentialSource {
  add(input: NewAccount): Promise<Account>;
  setPassword(login: string, password: string): Promise<void>;
  get(login: string): Promise<Account | null>;
  list(opts?: { subscriber?: string; status?: AccountStatus; after?: string; limit?: number }): Promise<Account[]>;
  remove(login: string): Promise<boolean>;
  disable(login: string, reason: string): Promise<void>;
  enable(login: string): Promise<void>;
  addAddress(login: string, address: string): Promise<void>;
  removeAddress(login: string, address: string): Promise<boolean>;
  mayUseAddress(login: string, address: string): Promise<boolean>;
  authRecord(login: string): Promise<AuthRecord | null>;
  updateCredentials(login: string, update: { hash?: string; scram?: ScramCredentials; clearScram?: boolean }): Promise<boolean>;
  importDovecotPasswdFile(text: string, opts?: ImportOptions): Promise<ImportResult>;
}

export class AccountStore implements AccountRepository {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly minPasswordLength: number;
  private readonly scramIterations: number | undefined;
  private readonly hashCaps: HashCaps;
  private readonly select: string;
  /** The schema migration started by the constructor; every method waits for it (open() awaits it once). */
  readonly ready: Promise<void>;

  /**
   * `scramIterations`: PBKDF2 count for new SCRAM keys (config auth.scramIterations).
   * `hashCaps`: the most work an imported hash may cost per login (auth.maxBcryptCost, auth.maxCryptRounds).
   * `minPasswordLength`: the shortest password `add` and `passwd` accept (accounts.minPasswordLength).
   */
  constructor(store: Store, opts: { clock?: Clock; logger?: Logger; minPasswordLength?: number; scramIterations?: number; hashCaps?: HashCaps } = {}) {
    this.db = store.db;
    this.select = selectFor(store.db.dialect);
    this.minPasswordLength = Math.max(1, opts.minPasswordLength ?? 1);
    this.scramIterations = opts.scramIterations;
    this.hashCaps = opts.hashCaps ?? {};
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.ready = store.migrate(AUTH_MIGRATIONS);
    this.ready.catch(() => {}); // reported by the first method (or open()) that waits for it
  }

  /** Constructs and waits for the schema: a migration failure surfaces here, at startup. */
  static async open(store: Store, opts: ConstructorParameters<typeof AccountStore>[1] = {}): Promise<AccountStore> {
    const s = new AccountStore(store, opts);
    await s.ready;
    return s;
  }

  async add(input: NewAccount): Promise<Account> {
    const p = await this.prepare(input);
    await this.ready;
    await this.db.transaction(async (tx) => {
      if (await this.row(p.login, tx)) throw new AccountError('exists', `account ${p.login} exists`);
      await this.insert(p, tx);
    });
    return (await this.get(p.login))!;
  }

  async setPassword(login: string, password: string): Promise<void> {
    const l = this.login(login);
    this.checkPassword(password);
    const { hash, scram } = await newCredentials(password, this.scramIterations);
    if (!(await this.updateCredentials(l, { hash, scram: scram ?? undefined, clearScram: scram === null }))) {
      throw new AccountError('not-found', `no account ${l}`);
    }
  }

  async get(login: string): Promise<Account | null> {
    const l = normalizeLogin(login);
    const r = l === null ? undefined : await this.row(l);
    return r ? toAccount(r) : null;
  }

  /** Keyset pages ordered by login: pass the last login seen as `after`. */
  async list(opts: { subscriber?: string; status?: AccountStatus; after?: string; limit?: number } = {}): Promise<Account[]> {
    const where: string[] = [];
    const args: Param[] = [];
    if (opts.subscriber !== undefined) { where.push('a.subscriber = ?'); args.push(opts.subscriber); }
    if (opts.status !== undefined) { where.push('a.status = ?'); args.push(opts.status); }
    if (opts.after !== undefined) { where.push('a.login > ?'); args.push(opts.after); }
    const limit = Number.isInteger(opts.limit) ? Math.max(1, Math.min(opts.limit!, 10_000)) : 1000;
    const sql = `${this.select}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY a.login LIMIT ?`;
    await this.ready;
    return (await this.db.all<Row>(sql, [...args, limit])).map(toAccount);
  }

  async remove(login: string): Promise<boolean> {
    const l = normalizeLogin(login);
    if (l === null) return false;
    await this.ready;
    return (await this.db.run('DELETE FROM accounts WHERE login = ?', [l])).changes > 0;
  }

  async disable(login: string, reason: string): Promise<void> {
    await this.setStatus(login, 'disabled', reason);
  }

  async enable(login: string): Promise<void> {
    await this.setStatus(login, 'active', null);
  }

  async addAddress(login: string, address: string): Promise<void> {
    const id = await this.idOf(login);
    const a = this.address(address);
    await this.db.run('INSERT INTO account_addresses (account_id, address) VALUES (?, ?) ON CONFLICT DO NOTHING', [id, a]);
  }

  async removeAddress(login: string, address: string): Promise<boolean> {
    const id = await this.idOf(login);
    const a = normalizeAddress(address);
    return a !== null && (await this.db.run('DELETE FROM account_addresses WHERE account_id = ? AND address = ?', [id, a])).changes > 0;
  }

  /**
   * May this account use `address` as its envelope sender? Yes for the login itself (when it is an
   * address), for an address on the account, and for any address under an '@domain' on it. Local parts
   * and domains compare case-insensitively (names.ts). The null sender '' is not an address: false.
   */
  async mayUseAddress(login: string, address: string): Promise<boolean> {
    const l = normalizeLogin(login);
    const a = address.startsWith('@') ? null : normalizeAddress(address);
    if (l === null || a === null) return false;
    if (a === l) return true;
    await this.ready;
    const hit = await this.db.get(
      'SELECT 1 AS x FROM account_addresses aa JOIN accounts a ON a.id = aa.account_id WHERE a.login = ? AND aa.address IN (?, ?) LIMIT 1',
      [l, a, `@${domainOf(a)}`],
    );
    return hit !== undefined;
  }

  async authRecord(login: string): Promise<AuthRecord | null> {
    const l = normalizeLogin(login);
    const r = l === null ? undefined : await this.row(l);
    if (!r) return null;
    return { login: r.login, hash: r.password_hash, status: r.status, disabledReason: r.disabled_reason, scram: scramOf(r) };
  }

  async updateCredentials(login: string, update: { hash?: string; scram?: ScramCredentials; clearScram?: boolean }): Promise<boolean> {
    const l = normalizeLogin(login);
    if (l === null) return false;
    const sets: string[] = [];
    const args: Param[] = [];
    if (update.hash !== undefined) { sets.push('password_hash = ?'); args.push(update.hash); }
    if (update.scram !== undefined || update.clearScram) {
      const s = update.scram;
      sets.push('scram_salt = ?', 'scram_iterations = ?', 'scram_stored_key = ?', 'scram_server_key = ?');
      args.push(s?.salt ?? null, s?.iterations ?? null, s?.storedKey ?? null, s?.serverKey ?? null);
    }
    if (!sets.length) return (await this.row(l)) !== undefined;
    sets.push('updated_at = ?');
    args.push(this.clock.now(), l);
    await this.ready;
    return (await this.db.run(`UPDATE accounts SET ${sets.join(', ')} WHERE login = ?`, args)).changes > 0;
  }

  /**
   * Imports a Dovecot passwd-file. Lines that cannot be imported (malformed, unknown hash scheme,
   * {PLAIN} without allowPlain, duplicate, existing account) are reported with their line numbers;
   * the rest go in as one transaction, so a failure part-way leaves nothing behind.
   */
  async importDovecotPasswdFile(text: string, opts: ImportOptions = {}): Promise<ImportResult> {
    const { rows, skipped } = await planImport(text, { scramIterations: this.scramIterations, hashCaps: this.hashCaps, ...opts }, this.logger);
    await this.ready;
    const imported = await this.db.transaction(async (tx) => {
      let n = 0;
      const late: typeof skipped = [];
      for (const r of rows) {
        if (await this.row(r.login, tx)) { late.push({ line: r.line, reason: `account ${r.login} exists` }); continue; }
        await this.insert({ ...r, addresses: [], tier: opts.tier ?? 'residential' }, tx);
        n++;
      }
      skipped.push(...late);
      return n;
    });
    skipped.sort((a, b) => a.line - b.line);
    return { imported, skipped };
  }

  /** Length in characters (code points, as NIST SP 800-63B counts them), not UTF-16 units or bytes. */
  private checkPassword(password: string): void {
    const n = [...password].length;
    if (n === 0) throw new AccountError('invalid-password', 'empty password');
    if (n < this.minPasswordLength) {
      throw new AccountError('invalid-password', `password has ${n} characters; at least ${this.minPasswordLength} are needed (accounts.minPasswordLength)`);
    }
  }

  private async prepare(input: NewAccount): Promise<Prepared> {
    const login = this.login(input.login);
    const addresses = (input.addresses ?? []).map((a) => this.address(a));
    const base = { login, subscriber: input.subscriber ?? login, addresses, tier: input.tier ?? 'residential' };
    if ((input.password === undefined) === (input.hash === undefined)) {
      throw new AccountError('invalid-password', 'give exactly one of password and hash');
    }
    if (input.password !== undefined) {
      this.checkPassword(input.password);
      return { ...base, ...(await newCredentials(input.password, this.scramIterations)) };
    }
    const id = identifyHash(input.hash!);
    if ('error' in id || id.scheme === 'plain') {
      throw new AccountError('invalid-hash', 'error' in id ? id.error : 'cleartext hashes are not stored; pass password');
    }
    const capped = hashCapError(id, this.hashCaps);
    if (capped) throw new AccountError('invalid-hash', capped);
    return { ...base, hash: input.hash!, scram: scramFromHash(input.hash!) };
  }

  private async insert(p: Prepared, tx: Db): Promise<void> {
    const now = this.clock.now();
    const s = p.scram;
    const r = await tx.get<{ id: number }>(
      `INSERT INTO accounts (login, subscriber, password_hash, scram_salt, scram_iterations, scram_stored_key, scram_server_key, tier, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [p.login, p.subscriber, p.hash, s?.salt ?? null, s?.iterations ?? null, s?.storedKey ?? null, s?.serverKey ?? null, p.tier, now, now],
    );
    for (const a of p.addresses) {
      await tx.run('INSERT INTO account_addresses (account_id, address) VALUES (?, ?) ON CONFLICT DO NOTHING', [r!.id, a]);
    }
  }

  private async setStatus(login: string, status: AccountStatus, reason: string | null): Promise<void> {
    const l = this.login(login);
    await this.ready;
    const n = (await this.db.run('UPDATE accounts SET status = ?, disabled_reason = ?, updated_at = ? WHERE login = ?',
      [status, reason, this.clock.now(), l])).changes;
    if (n === 0) throw new AccountError('not-found', `no account ${l}`);
  }

  private async row(login: string, db: Db = this.db): Promise<Row | undefined> {
    await this.ready;
    return db.get<Row>(`${this.select} WHERE a.login = ?`, [login]);
  }

  private async idOf(login: string): Promise<number> {
    const l = this.login(login);
    await this.ready;
    const r = await this.db.get<{ id: number }>('SELECT id FROM accounts WHERE login = ?', [l]);
    if (!r) throw new AccountError('not-found', `no account ${l}`);
    return r.id;
  }

  private login(login: string): string {
    const l = normalizeLogin(login);
    if (l === null) throw new AccountError('invalid-login', `invalid login ${JSON.stringify(login)}`);
    return l;
  }

  private address(address: string): string {
    const a = normalizeAddress(address);
    if (a === null) throw new AccountError('invalid-address', `invalid address ${JSON.stringify(address)}`);
    return a;
  }
}

function scramOf(r: Row): ScramCredentials | null {
  if (r.scram_salt === null || r.scram_iterations === null || r.scram_stored_key === null || r.scram_server_key === null) return null;
  return { salt: r.scram_salt, iterations: r.scram_iterations, storedKey: r.scram_stored_key, serverKey: r.scram_server_key };
}

function toAccount(r: Row): Account {
  const id = identifyHash(r.password_hash);
  return {
    id: r.id,
    login: r.login,
    subscriber: r.subscriber,
    status: r.status,
    disabledReason: r.disabled_reason,
    tier: r.tier,
    addresses: r.addresses ? r.addresses.split('\n').sort() : [],
    scheme: 'error' in id ? 'unknown' : id.scheme,
    scram: scramOf(r) !== null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
