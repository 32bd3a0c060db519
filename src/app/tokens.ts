// API tokens: a name, a scope (read < operate < admin) and the SHA-256 of a
// secret shown once. The secret is 32 random bytes (base64url) behind the
// prefix "pw_": with 256 bits of entropy nobody can guess or brute-force it,
// so a fast hash is the right one (a slow KDF such as argon2 protects
// low-entropy passwords and would only cost every API request a hash). The
// store holds the hash alone: a leaked database gives no usable token.
//
// Lookup is by hash (an indexed equality). The comparison that index does is
// not constant-time, and that is fine: its timing could tell at most how much
// of SHA-256(presented) matches a stored hash, which says nothing about a
// secret (finding an input with a chosen hash prefix does not bring a
// preimage of the full hash any nearer). Revoked tokens never match.
import { createHash, randomBytes } from 'node:crypto';
import { Type } from 'typebox';
import type { Db, DbMigration } from '../store/index.ts';
import { SCOPES, type Actor, type Scope } from './actor.ts';
import { AppError } from './errors.ts';
import { operation } from './operation.ts';

export const TOKEN_MIGRATIONS: readonly DbMigration[] = [{
  id: 'app/002-tokens',
  sqlite: `
    CREATE TABLE app_tokens (name TEXT PRIMARY KEY, scope TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
      created_at BIGINT NOT NULL, created_by TEXT NOT NULL, last_used_at BIGINT, revoked_at BIGINT);
  `,
  postgres: `
    CREATE TABLE app_tokens (name TEXT PRIMARY KEY, scope TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
      created_at BIGINT NOT NULL, created_by TEXT NOT NULL, last_used_at BIGINT, revoked_at BIGINT);
  `,
}];

export const TOKEN_PREFIX = 'pw_';
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** "pw_" and 43 base64url characters (32 bytes); anything else is not one of ours and is not looked up. */
const SECRET = /^pw_[A-Za-z0-9_-]{43}$/;

export interface TokenInfo {
  name: string;
  scope: Scope;
  createdAt: number;
  createdBy: string;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export const tokenHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');
export const newTokenSecret = (): string => TOKEN_PREFIX + randomBytes(32).toString('base64url');

interface Row { name: string; scope: string; created_at: number | string; created_by: string; last_used_at: number | string | null; revoked_at: number | string | null }
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
const info = (r: Row): TokenInfo => ({
  name: r.name, scope: r.scope as Scope, createdAt: Number(r.created_at), createdBy: r.created_by,
  lastUsedAt: num(r.last_used_at), revokedAt: num(r.revoked_at),
});

/** lastUsedAt is written at most once a minute per token: a busy client must not turn every read into a write. */
const TOUCH_EVERY_MS = 60_000;

export class TokenRepository {
  private readonly db: Db;
  private readonly now: () => number;
  private readonly touched = new Map<string, number>();
  constructor(db: Db, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
  }

  /** Creates a token and returns its secret (the only time it exists outside the client). */
  async add(name: string, scope: Scope, createdBy: string): Promise<{ info: TokenInfo; secret: string }> {
    if (!TOKEN_NAME.test(name)) throw new AppError('invalid-value', 'a token name is 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit', { field: 'name' });
    if (!SCOPES.includes(scope)) throw new AppError('invalid-value', `scope is one of ${SCOPES.join(', ')}`, { field: 'scope' });
    const secret = newTokenSecret();
    const at = this.now();
    await this.db.transaction(async (tx) => {
      const old = await tx.get<{ revoked_at: number | null }>('SELECT revoked_at FROM app_tokens WHERE name = ?', [name]);
      if (old && old.revoked_at === null) throw new AppError('exists', `a token named ${name} exists (revoke it first)`, { name });
      // A revoked token's name may be given again; its row goes (the audit keeps its history).
      if (old) await tx.run('DELETE FROM app_tokens WHERE name = ?', [name]);
      await tx.run('INSERT INTO app_tokens (name, scope, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
        [name, scope, tokenHash(secret), at, createdBy]);
    });
    return { info: { name, scope, createdAt: at, createdBy, lastUsedAt: null, revokedAt: null }, secret };
  }

  /** The live token a presented secret belongs to, or null (malformed, unknown or revoked). Marks it used. */
  async authenticate(secret: string): Promise<{ name: string; scope: Scope } | null> {
    if (!SECRET.test(secret)) return null;
    const r = await this.db.get<{ name: string; scope: string }>(
      'SELECT name, scope FROM app_tokens WHERE hash = ? AND revoked_at IS NULL', [tokenHash(secret)]);
    if (!r) return null;
    const at = this.now();
    if (at - (this.touched.get(r.name) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(r.name, at);
      await this.db.run('UPDATE app_tokens SET last_used_at = ? WHERE name = ?', [at, r.name]);
    }
    return { name: r.name, scope: r.scope as Scope };
  }

  /** Every token, revoked ones too, by name; never the hash. */
  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.all<Row>('SELECT name, scope, created_at, created_by, last_used_at, revoked_at FROM app_tokens ORDER BY name');
    return rows.map(info);
  }

  async revoke(name: string): Promise<TokenInfo> {
    const at = this.now();
    const { changes } = await this.db.run('UPDATE app_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL', [at, name]);
    if (!changes) throw new AppError('not-found', `no live token named ${name}`, { name });
    this.touched.delete(name);
    const r = await this.db.get<Row>('SELECT name, scope, created_at, created_by, last_used_at, revoked_at FROM app_tokens WHERE name = ?', [name]);
    return info(r!);
  }
}

// ---- operations --------------------------------------------------------------------------------

/** What the token operations need; absent outside a process that opened the store. */
export interface TokenDeps { tokens?: TokenRepository }

const repo = (deps: TokenDeps): TokenRepository => {
  if (!deps.tokens) throw new AppError('unavailable', 'the token store is not open here');
  return deps.tokens;
};
const who = (a: Actor): string => `${a.kind}:${a.name}`;

const ScopeSchema = Type.Union([Type.Literal('read'), Type.Literal('operate'), Type.Literal('admin')]);
const Nullable = (t: ReturnType<typeof Type.Integer>) => Type.Union([t, Type.Null()]);
const TokenSchema = Type.Object({
  name: Type.String(), scope: ScopeSchema, createdAt: Type.Integer(), createdBy: Type.String(),
  lastUsedAt: Nullable(Type.Integer()), revokedAt: Nullable(Type.Integer()),
});
const NameSchema = Type.String({ minLength: 1, maxLength: 64, pattern: TOKEN_NAME.source });

export const tokensAdd = operation({
  name: 'tokens.add',
  summary: 'create an API token; its secret is in this answer only',
  scope: 'admin',
  mutates: true,
  http: { method: 'POST', path: '/tokens' },
  input: Type.Object({ name: NameSchema, scope: ScopeSchema }, { additionalProperties: false }),
  output: Type.Object({ name: Type.String(), scope: ScopeSchema, secret: Type.String(), createdAt: Type.Integer() }),
  object: (i) => `token ${i.name}`,
  async run(input, ctx, deps: TokenDeps) {
    const { info: t, secret } = await repo(deps).add(input.name, input.scope, who(ctx.actor));
    return { name: t.name, scope: t.scope, secret, createdAt: t.createdAt };
  },
});

export const tokensList = operation({
  name: 'tokens.list',
  summary: 'list API tokens (never their secrets)',
  scope: 'admin',
  mutates: false,
  http: { method: 'GET', path: '/tokens' },
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({ tokens: Type.Array(TokenSchema) }),
  async run(_input, _ctx, deps: TokenDeps) {
    return { tokens: await repo(deps).list() };
  },
});

export const tokensRevoke = operation({
  name: 'tokens.revoke',
  summary: 'revoke an API token: it stops working at once',
  scope: 'admin',
  mutates: true,
  http: { method: 'DELETE', path: '/tokens/:name' },
  input: Type.Object({ name: NameSchema }, { additionalProperties: false }),
  output: TokenSchema,
  object: (i) => `token ${i.name}`,
  async run(input, _ctx, deps: TokenDeps) {
    return repo(deps).revoke(input.name);
  },
});

export const TOKEN_OPERATIONS = [tokensAdd, tokensList, tokensRevoke] as const;
