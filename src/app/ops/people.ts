// Subscribers (derived from accounts, with their directory record where the
// directory is available), the limits in effect for an account, who sent a
// message (attribution, and who held the address then), and the audit log itself.
import { Type } from 'typebox';
import type { Account } from '../../auth/index.ts';
import { lookupTrace } from '../../accountability/index.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { AUDIT_PAGE_MAX } from '../audit.ts';
import { Input, Limit, Str } from './common.ts';
import { AssignmentSchema, DirectoryRecordSchema, directoryCall, subscribersPut } from './directory.ts';

const SubscriberSchema = Type.Object({
  id: Type.String(), tiers: Type.Array(Type.String()), accounts: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('partly-disabled')]),
  /** subscribers.show with the directory available: its record (null: none put) and what is held now. */
  directory: Type.Optional(Type.Object({ record: Type.Union([DirectoryRecordSchema, Type.Null()]), current: Type.Array(AssignmentSchema) })),
});

/** Every account, a page of 10 000 at a time (subscribers are derived, not stored). */
async function allAccounts(deps: AppDeps, subscriber?: string): Promise<Account[]> {
  const store = need(deps, 'accounts');
  const out: Account[] = [];
  for (let after: string | undefined, i = 0; i < 10_000; i++) {
    const page = await store.list({ subscriber, after, limit: 10_000 });
    out.push(...page);
    if (page.length < 10_000) break;
    after = page[page.length - 1].login;
  }
  return out;
}

function subscribersOf(accounts: Account[]) {
  const by = new Map<string, Account[]>();
  for (const a of accounts) by.set(a.subscriber, [...(by.get(a.subscriber) ?? []), a]);
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, list]) => {
    const off = list.filter((a) => a.status === 'disabled').length;
    return { id, tiers: [...new Set(list.map((a) => a.tier))].sort(), accounts: list.map((a) => a.login),
      status: (off === 0 ? 'active' : off === list.length ? 'disabled' : 'partly-disabled') as 'active' | 'disabled' | 'partly-disabled' };
  });
}

export const subscribersList = operation({
  name: 'subscribers.list', summary: 'subscribers, derived from their accounts (id, tiers, accounts, status)', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/subscribers' },
  input: Input({ after: Type.Optional(Str('the last id of the previous page')), limit: Limit(10_000) }),
  output: Type.Object({ subscribers: Type.Array(SubscriberSchema), next: Type.Optional(Type.String()) }),
  async run(i, _c, deps: AppDeps) {
    const limit = i.limit ?? 1000;
    const all = subscribersOf(await allAccounts(deps)).filter((s) => i.after === undefined || s.id > i.after);
    const subscribers = all.slice(0, limit);
    return all.length > limit ? { subscribers, next: subscribers[subscribers.length - 1].id } : { subscribers };
  },
});

export const subscribersShow = operation({
  name: 'subscribers.show', summary: 'one subscriber: its accounts, and its directory record and current addresses where the directory is available', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/subscribers/:id' },
  input: Input({ id: Str('subscriber id', { minLength: 1 }) }), output: SubscriberSchema,
  async run(i, _c, deps: AppDeps) {
    const d = deps.directory;
    const id = i.id.trim().toLowerCase();
    let accounts = deps.accounts || !d ? await allAccounts(deps, i.id) : [];
    if (!accounts.length && id !== i.id && deps.accounts) accounts = await allAccounts(deps, id);
    const [s] = subscribersOf(accounts);
    if (!d) {
      if (!s) throw new AppError('not-found', `no subscriber ${i.id}`);
      return s;
    }
    const [record, current] = await directoryCall(() => Promise.all([d.subscriber(id), d.currentOf(id)]));
    if (!s && !record && !current.length) throw new AppError('not-found', `no subscriber ${i.id}`);
    const base = s ?? { id, tiers: record ? [record.tier] : [], accounts: [], status: 'active' as const };
    return { ...base, directory: { record, current } };
  },
});

const RuleSchema = Type.Object({
  id: Type.String(), scope: Type.String(), counts: Type.String(), limit: Type.Number(), per: Type.Number(), burst: Type.Number(),
  action: Type.String(), remaining: Type.Optional(Type.Number()), resetMs: Type.Optional(Type.Number()),
}, { additionalProperties: true });

export const limitsShow = operation({
  name: 'limits.show', summary: 'the sending limits in effect for an account and (from the server) what is left of each', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/accounts/:login/limits' },
  input: Input({ login: Str('the account login', { minLength: 1 }) }),
  output: Type.Object({ account: Type.String(), subscriber: Type.Union([Type.String(), Type.Null()]), tier: Type.String(), status: Type.String(), rules: Type.Array(RuleSchema) }),
  async run(i, _c, deps: AppDeps) {
    if (deps.limitsEnabled === false) throw new AppError('unavailable', 'limits are disabled in the configuration');
    return (await need(deps, 'limits')(i.login.toLowerCase())) as never;
  },
});

const RecordSchema = Type.Object({
  id: Type.Integer(), time: Type.Integer(), queueId: Type.String(), messageId: Type.Union([Type.String(), Type.Null()]), account: Type.String(),
  subscriber: Type.Union([Type.String(), Type.Null()]), clientIp: Type.String(), clientPort: Type.Union([Type.Integer(), Type.Null()]),
  listener: Type.Union([Type.String(), Type.Null()]), tlsVersion: Type.Union([Type.String(), Type.Null()]), tlsCipher: Type.Union([Type.String(), Type.Null()]),
  authMechanism: Type.Union([Type.String(), Type.Null()]), sender: Type.Union([Type.String(), Type.Null()]), recipientCount: Type.Integer(), size: Type.Integer(),
  verdicts: Type.Unknown(),
});

export const trace = operation({
  name: 'trace', summary: 'who sent it: a queue id, a Message-ID, or a client IP[:port] at a time', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/trace' },
  input: Input({
    query: Str('queue id, Message-ID, or IP[:PORT]', { minLength: 1 }),
    at: Type.Optional(Type.Integer({ description: 'time of the report, ms since the epoch (IP form; default: now, newest first)' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'source port' })),
    window: Type.Optional(Type.Integer({ minimum: 0, maximum: 525_600, description: 'minutes either side of at (default 10)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'at most this many rows (default 20)' })),
  }),
  output: Type.Object({
    kind: Type.String(), value: Type.String(), records: Type.Array(RecordSchema),
    holders: Type.Optional(Type.Array(Type.Object({
      subscriber: Type.String(), prefix: Type.String(), portLo: Type.Union([Type.Integer(), Type.Null()]), portHi: Type.Union([Type.Integer(), Type.Null()]),
      start: Type.Integer(), end: Type.Union([Type.Integer(), Type.Null()]), source: Type.String(),
    }), { description: 'IP form, with the directory available: who held the address (and port) at the time (now when none was given)' })),
  }),
  async run(i, _c, deps: AppDeps) {
    const d = deps.directory;
    const holders = d ? (ip: string, at: number, port: number | null) => directoryCall(async () => (await d.holdersAt(ip, at, port)).map(({ assignment: a }) =>
      ({ subscriber: a.subscriber, prefix: a.prefix, portLo: a.portLo, portHi: a.portHi, start: a.start, end: a.end, source: a.source }))) : undefined;
    return lookupTrace(need(deps, 'attribution'), i, deps.clock.now(), holders);
  },
});

export const AuditRowSchema = Type.Object({
  id: Type.Integer(), at: Type.Integer({ description: 'ms since the epoch' }), actorKind: Type.String(), actor: Type.String(),
  from: Type.String(), action: Type.String(), object: Type.String(), reason: Type.String(),
  outcome: Type.String({ description: '"ok" or the error code' }), detail: Type.String({ description: 'the input as JSON, secrets redacted' }),
});

export const auditList = operation({
  name: 'audit.list', summary: 'the audit log of every mutation, newest first', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/audit' },
  input: Input({
    since: Type.Optional(Type.Integer({ description: 'from this time (ms, inclusive)' })), until: Type.Optional(Type.Integer({ description: 'before this time (ms)' })),
    actor: Type.Optional(Str('actor name')), action: Type.Optional(Str('an action, or a prefix ending in "."')), object: Type.Optional(Str('the object')),
    outcome: Type.Optional(Str('"ok" or an error code', { maxLength: 64 })),
    limit: Limit(AUDIT_PAGE_MAX), after: Type.Optional(Type.Integer({ minimum: 1, description: 'the id of the last row of the previous page' })),
  }),
  output: Type.Object({ entries: Type.Array(AuditRowSchema), next: Type.Optional(Type.Integer()) }),
  async run(i, _c, deps: AppDeps) {
    return need(deps, 'audit').list(i);
  },
});

export const PEOPLE_OPS = [subscribersList, subscribersShow, subscribersPut, limitsShow, trace, auditList] as const;
