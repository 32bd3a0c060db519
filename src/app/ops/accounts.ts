// Accounts and their sender addresses (the auth part's AccountStore).
import { Type, type Static } from 'typebox';
import type { Account } from '../../auth/index.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Done, Input, Limit, Reason, Str, accountCall } from './common.ts';

export const Status = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);

export const AccountSchema = Type.Object({
  id: Type.Integer(), login: Type.String(), subscriber: Type.String(), status: Status,
  disabledReason: Type.Union([Type.String(), Type.Null()]), tier: Type.String(),
  addresses: Type.Array(Type.String(), { description: "extra sender addresses and '@domain' wildcards" }),
  scheme: Type.String({ description: 'hash scheme of the stored password' }), scram: Type.Boolean({ description: 'SCRAM-SHA-256 keys stored' }),
  createdAt: Type.Integer(), updatedAt: Type.Integer(),
});

const Login = Str('the account login', { minLength: 1, maxLength: 320 });
const Address = Str('a sender address or @domain', { minLength: 1, maxLength: 320 });

/** The tier to give an account: the asked one if configured, else the configured default. */
export function tierFor(deps: AppDeps, asked: string | undefined): string | undefined {
  const t = typeof deps.tiers === 'function' ? deps.tiers() : deps.tiers;
  if (!t) return asked;
  if (asked === undefined) return t.defaultTier;
  if (!t.names.includes(asked)) throw new AppError('invalid-value', `unknown tier "${asked}" (configured: ${t.names.join(', ')})`, { field: 'tier' });
  return asked;
}

const show = (a: Account): Static<typeof AccountSchema> => a;

export const accountsList = operation({
  name: 'accounts.list', summary: 'list accounts (keyset pages by login)', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/accounts' },
  input: Input({ subscriber: Type.Optional(Str('only this subscriber')), status: Type.Optional(Status),
    after: Type.Optional(Str('the last login of the previous page')), limit: Limit(10_000) }),
  output: Type.Object({ accounts: Type.Array(AccountSchema), next: Type.Optional(Type.String()) }),
  async run(i, _c, deps: AppDeps) {
    const limit = i.limit ?? 1000;
    const accounts = await need(deps, 'accounts').list({ subscriber: i.subscriber, status: i.status, after: i.after, limit });
    return accounts.length === limit ? { accounts, next: accounts[accounts.length - 1].login } : { accounts };
  },
});

export const accountsShow = operation({
  name: 'accounts.show', summary: 'one account', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/accounts/:login' },
  input: Input({ login: Login }), output: AccountSchema,
  async run(i, _c, deps: AppDeps) {
    const a = await need(deps, 'accounts').get(i.login);
    if (!a) throw new AppError('not-found', `no account ${i.login}`);
    return show(a);
  },
});

export const accountsAdd = operation({
  name: 'accounts.add', summary: 'add an account with a password (hashed with argon2id) or an existing hash', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/accounts' },
  input: Input({ login: Login, password: Type.Optional(Str('the password', { minLength: 1 })), hash: Type.Optional(Str('an existing password hash', { minLength: 1 })),
    subscriber: Type.Optional(Str('subscriber id (default: the login)', { minLength: 1 })),
    addresses: Type.Optional(Type.Array(Address, { maxItems: 1000 })), tier: Type.Optional(Str('limits tier', { minLength: 1 })) }),
  output: AccountSchema,
  object: (i) => `account ${i.login}`,
  async run(i, _c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    const tier = tierFor(deps, i.tier);
    return show(await accountCall(() => accounts.add({ login: i.login, password: i.password, hash: i.hash, subscriber: i.subscriber, addresses: i.addresses, tier })));
  },
});

export const accountsPasswd = operation({
  name: 'accounts.passwd', summary: 'set a new password (argon2id; SCRAM keys derived)', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/accounts/:login/password' },
  input: Input({ login: Login, password: Str('the new password', { minLength: 1 }) }), output: Done,
  object: (i) => `account ${i.login}`,
  async run(i, _c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    await accountCall(() => accounts.setPassword(i.login, i.password));
    return { done: true };
  },
});

export const accountsAliasAdd = operation({
  name: 'accounts.alias.add', summary: 'allow a sender address or @domain for an account', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/accounts/:login/addresses' },
  input: Input({ login: Login, address: Address }), output: Done,
  object: (i) => `account ${i.login}`,
  async run(i, _c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    await accountCall(() => accounts.addAddress(i.login, i.address));
    return { done: true };
  },
});

export const accountsAliasRemove = operation({
  name: 'accounts.alias.remove', summary: 'stop allowing a sender address or @domain; done is false when it was not listed', scope: 'admin', mutates: true,
  http: { method: 'DELETE', path: '/accounts/:login/addresses' },
  input: Input({ login: Login, address: Address }), output: Done,
  object: (i) => `account ${i.login}`,
  async run(i, _c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    return { done: await accountCall(() => accounts.removeAddress(i.login, i.address)) };
  },
});

export const accountsDisable = operation({
  name: 'accounts.disable', summary: 'disable an account: AUTH then answers 525 5.7.13 with the help URL', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/accounts/:login/disable' },
  input: Input({ login: Login, reason: Reason }), output: Done,
  object: (i) => `account ${i.login}`,
  async run(i, c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    await accountCall(() => accounts.disable(i.login, i.reason ?? c.reason ?? 'disabled by operator'));
    return { done: true };
  },
});

export const accountsEnable = operation({
  name: 'accounts.enable', summary: 'enable a disabled account', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/accounts/:login/enable' },
  input: Input({ login: Login, reason: Reason }), output: Done,
  object: (i) => `account ${i.login}`,
  async run(i, _c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    await accountCall(() => accounts.enable(i.login));
    return { done: true };
  },
});

export const accountsRemove = operation({
  name: 'accounts.remove', summary: 'remove an account', scope: 'admin', mutates: true,
  http: { method: 'DELETE', path: '/accounts/:login' },
  input: Input({ login: Login, reason: Reason }), output: Done,
  object: (i) => `account ${i.login}`,
  async run(i, _c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    if (!(await accountCall(() => accounts.remove(i.login)))) throw new AppError('not-found', `no account ${i.login}`);
    return { done: true };
  },
});

export const accountsImport = operation({
  name: 'accounts.import', summary: 'import a Dovecot passwd-file (the text); lines that cannot be imported are reported', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/accounts/import' },
  input: Input({ text: Type.String({ description: 'the passwd-file text', maxLength: 64 * 1024 * 1024 }),
    subscriberFrom: Type.Optional(Type.Union([Type.Literal('login'), Type.Literal('uid'), Type.Literal('gecos')])),
    allowPlain: Type.Optional(Type.Boolean({ description: 'hash {PLAIN} lines now' })), tier: Type.Optional(Str('limits tier', { minLength: 1 })) }),
  output: Type.Object({ imported: Type.Integer(), skipped: Type.Array(Type.Object({ line: Type.Integer(), reason: Type.String() })) }),
  object: () => 'accounts', secret: ['text'],
  async run(i, _c, deps: AppDeps) {
    const accounts = need(deps, 'accounts');
    const tier = tierFor(deps, i.tier);
    return accountCall(() => accounts.importDovecotPasswdFile(i.text, { subscriberFrom: i.subscriberFrom, allowPlain: i.allowPlain, tier }));
  },
});

export const ACCOUNT_OPS = [accountsList, accountsShow, accountsAdd, accountsPasswd, accountsAliasAdd, accountsAliasRemove,
  accountsDisable, accountsEnable, accountsRemove, accountsImport] as const;
