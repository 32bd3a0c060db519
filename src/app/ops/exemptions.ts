// Port-25 exemption requests (app/exemptions.ts, docs/exemptions.md): a
// subscriber asks (for itself, signed in on the portal; staff may ask for one),
// the desk grants for N days (the netpolicy exemption with its expiry, through
// the policy store: the edges get it like any change) or refuses with a reason;
// the subscriber may withdraw or ask to renew; the sweep offers renewal before
// the end and marks the end. Subscribers see and touch their own requests only:
// another subscriber's request is "not found" to them.
import { Type } from 'typebox';
import { canonicalPrefix } from '../../directory/index.ts';
import type { Context } from '../actor.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import {
  CHECK_NAMES, EXEMPTION_STATES, runChecks, type ExemptionCheck, type ExemptionDesk, type ExemptionRequest, type ExemptionState,
} from '../exemptions.ts';
import { Input, Limit, Str, unwrap } from './common.ts';

const DAY = 86_400_000;
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const CheckSchema = Type.Object({ name: Type.Enum(CHECK_NAMES), result: Type.Enum(['pass', 'fail', 'unknown'] as const), why: Type.String() });
const StepSchema = Type.Object({ at: Type.Integer(), actor: Type.String(), step: Type.String(), reason: Type.String() });
export const ExemptionRequestSchema = Type.Object({
  id: Type.Integer(), subscriber: Type.String(), account: Type.String(), prefix: Type.String(), server: Type.String(), reason: Type.String(),
  state: Type.Enum(EXEMPTION_STATES), renewal: Type.Boolean(), createdAt: Type.Integer(), createdBy: Type.String(),
  decidedBy: Nullable(Type.String()), decidedAt: Nullable(Type.Integer()), decisionReason: Nullable(Type.String()),
  expiresAt: Nullable(Type.Integer()), checks: Type.Array(CheckSchema), checkedAt: Type.Integer(), steps: Type.Array(StepSchema),
});

const Id = Type.Integer({ minimum: 1, description: 'the request id' });
/** A host name of at least two labels (what a mail server's reverse DNS is). */
export const SERVER_NAME = /^(?=.{1,253}\.?$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;
const Why = Str('why (shown to the subscriber, recorded in the audit)', { minLength: 1, maxLength: 500 });

const desk = (deps: AppDeps): ExemptionDesk => need(deps, 'exemptions');
const who = (c: Context): string => `${c.actor.kind}:${c.actor.name}`;

/** The subscriber a subscriber actor acts for; null for staff and operators (who act for anyone). */
function ownSubscriber(c: Context): string | null {
  if (c.actor.kind !== 'subscriber') return null;
  if (!c.actor.subscriber) throw new AppError('forbidden', 'your account belongs to no subscriber: the desk can help');
  return c.actor.subscriber;
}

/** The request, if the actor may see it: a subscriber's own only (another's is not found, not forbidden). */
async function visibleRequest(deps: AppDeps, c: Context, id: number): Promise<ExemptionRequest> {
  const r = await desk(deps).repo.get(id);
  const own = ownSubscriber(c);
  if (!r || (own !== null && r.subscriber !== own)) throw new AppError('not-found', `no exemption request ${id}`, { id });
  return r;
}

/** The checks for a request, with what the store, the directory and the engine know now. */
async function checksFor(deps: AppDeps, q: { subscriber: string; account: string; prefix: string; server: string }): Promise<ExemptionCheck[]> {
  const d = desk(deps);
  const account = q.account && deps.accounts ? await deps.accounts.get(q.account) : null;
  const sub = deps.directory ? await deps.directory.subscriber(q.subscriber) : null;
  const cases = deps.cases ? (await deps.cases.list({ subscriber: q.subscriber, limit: 50 })).map((k) => ({ id: k.id, state: k.state, openedAt: k.openedAt, closedAt: k.closedAt })) : null;
  return runChecks({ prefix: q.prefix, server: q.server, account: account ? { createdAt: account.createdAt, tier: account.tier } : null, subscriberTier: sub?.tier ?? null, cases },
    d.settings, d.dns, deps.clock.now());
}

/** The prefix to exempt: the one given (held by the subscriber now), else the subscriber's current address. */
async function heldPrefix(deps: AppDeps, subscriber: string, given: string | undefined): Promise<string> {
  const dir = need(deps, 'directory');
  if (given === undefined || given.trim() === '') {
    const now = await dir.currentOf(subscriber);
    const first = now.find((a) => a.portLo === null) ?? now[0];
    if (!first) throw new AppError('invalid-value', 'no address is assigned to you now, so there is nothing to exempt', { field: 'address' });
    return first.prefix;
  }
  const p = canonicalPrefix(given);
  if (!p) throw new AppError('invalid-prefix', `${given.slice(0, 64)} is not an address or prefix`, { field: 'address' });
  const base = p.text.split('/')[0];
  const len = p.text.includes('/') ? Number(p.text.split('/')[1]) : (base.includes(':') ? 128 : 32);
  const held = (await dir.holdersAt(base, deps.clock.now())).some((h) => {
    if (h.subscriber !== subscriber) return false;
    const ap = h.assignment.prefix;
    const alen = ap.includes('/') ? Number(ap.split('/')[1]) : (ap.includes(':') ? 128 : 32);
    return len >= alen;
  });
  if (!held) throw new AppError('invalid-value', `${p.text} is not held by ${subscriber} now; only an address held now can be exempted`, { field: 'address' });
  return p.text;
}

const ACTIVE: readonly ExemptionState[] = ['pending', 'granted', 'renewal-offered'];

export const exemptionsRequest = operation({
  name: 'exemptions.request',
  summary: 'ask for a port-25 exemption for an address the subscriber holds now (its current address by default); the automatic checks are stored for the desk',
  scope: 'operate', mutates: true, subscriber: true,
  http: { method: 'POST', path: '/exemptions/requests' },
  input: Input({
    server: Str('the host name of the mail server (its reverse DNS name)', { minLength: 1, maxLength: 253 }),
    reason: Str('why the subscriber needs port 25', { minLength: 1, maxLength: 1000 }),
    address: Type.Optional(Str('the address or prefix to exempt; the subscriber\'s current address when absent', { maxLength: 64 })),
    subscriber: Type.Optional(Str('staff only: the subscriber asked for', { minLength: 1, maxLength: 200 })),
    account: Type.Optional(Str('staff only: the subscriber\'s submission account (its age is checked)', { maxLength: 320 })),
  }),
  output: ExemptionRequestSchema,
  object: (i) => `exemption request for ${i.subscriber ?? 'own subscriber'}${i.address ? ` ${i.address}` : ''}`,
  async run(i, c, deps: AppDeps) {
    const own = ownSubscriber(c);
    if (own !== null && i.subscriber !== undefined && i.subscriber !== own) throw new AppError('forbidden', 'a subscriber asks for itself only', { field: 'subscriber' });
    if (own !== null && i.account !== undefined && i.account !== c.actor.name) throw new AppError('forbidden', 'a subscriber asks with its own account only', { field: 'account' });
    const subscriber = own ?? i.subscriber;
    if (!subscriber) throw new AppError('invalid-value', 'name the subscriber', { field: 'subscriber' });
    const account = own !== null ? c.actor.name : (i.account ?? '');
    // A portal session outlives a suspension; the request does not.
    if (own !== null && deps.accounts && (await deps.accounts.get(account))?.status !== 'active') throw new AppError('forbidden', 'your mail account is switched off: the desk can help');
    const server = i.server.trim().toLowerCase().replace(/\.$/, '');
    if (!SERVER_NAME.test(server)) throw new AppError('invalid-value', 'the server name is a host name such as mail.example.net', { field: 'server' });
    const reason = i.reason.trim();
    if (!reason) throw new AppError('invalid-value', 'give the reason', { field: 'reason' });
    const prefix = await heldPrefix(deps, subscriber, i.address);
    const d = desk(deps);
    const open = (await d.repo.list({ subscriber, states: ACTIVE })).find((r) => r.prefix === prefix);
    if (open) throw new AppError('conflict', `request ${open.id} for ${prefix} is ${open.state} already`, { id: open.id });
    const checks = await checksFor(deps, { subscriber, account, prefix, server });
    return d.repo.create({ subscriber, account, prefix, server, reason, checks, by: who(c) });
  },
});

export const exemptionsRequestsList = operation({
  name: 'exemptions.requests.list',
  summary: 'exemption requests, newest first (a subscriber sees its own)',
  scope: 'read', mutates: false, subscriber: true,
  http: { method: 'GET', path: '/exemptions/requests' },
  input: Input({
    state: Type.Optional(Type.Enum(EXEMPTION_STATES)),
    subscriber: Type.Optional(Str('only this subscriber\'s', { minLength: 1, maxLength: 200 })),
    limit: Limit(1000),
  }),
  output: Type.Object({ requests: Type.Array(ExemptionRequestSchema) }),
  async run(i, c, deps: AppDeps) {
    const own = ownSubscriber(c);
    const subscriber = own ?? i.subscriber;
    return { requests: await desk(deps).repo.list({ subscriber, states: i.state ? [i.state] : undefined, limit: i.limit }) };
  },
});

export const exemptionsRequestsShow = operation({
  name: 'exemptions.requests.show',
  summary: 'one exemption request with its checks and its steps',
  scope: 'read', mutates: false, subscriber: true,
  http: { method: 'GET', path: '/exemptions/requests/:id' },
  input: Input({ id: Id }),
  output: ExemptionRequestSchema,
  async run(i, c, deps: AppDeps) { return visibleRequest(deps, c, i.id); },
});

export const exemptionsGrant = operation({
  name: 'exemptions.grant',
  summary: 'grant a pending request for N days: the port-25 exemption with its expiry reaches the edges (a renewal extends the running grant)',
  scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/exemptions/requests/:id/grant' },
  input: Input({ id: Id, days: Type.Integer({ minimum: 1, maximum: 3650, description: 'how long the grant lasts' }), reason: Why }),
  output: ExemptionRequestSchema,
  object: (i) => `exemption request ${i.id}`,
  async run(i, c, deps: AppDeps) {
    const d = desk(deps);
    if (i.days > d.settings.maxDays) throw new AppError('invalid-value', `a grant lasts at most ${d.settings.maxDays} days`, { field: 'days' });
    if (!i.reason.trim()) throw new AppError('invalid-value', 'give the reason for the grant', { field: 'reason' });
    const r = await visibleRequest(deps, c, i.id);
    if (r.state !== 'pending') throw new AppError('conflict', `exemption request ${r.id} is ${r.state}, not pending`, { id: r.id });
    const now = deps.clock.now();
    const from = r.renewal && r.expiresAt !== null && r.expiresAt > now ? r.expiresAt : now;
    const expiresAt = from + i.days * DAY;
    unwrap(await need(deps, 'policy').addExemption(r.prefix, r.subscriber, expiresAt, { actor: who(c), reason: `exemption request ${r.id}: ${i.reason}` }));
    return d.repo.transition(r.id, ['pending'], { state: 'granted', renewal: false, decidedBy: who(c), decidedAt: now, decisionReason: i.reason, expiresAt },
      { actor: who(c), step: r.renewal ? `renewed for ${i.days} days` : `granted for ${i.days} days`, reason: i.reason });
  },
});

export const exemptionsRefuse = operation({
  name: 'exemptions.refuse',
  summary: 'refuse a pending request with a reason the subscriber sees (a refused renewal lets the running grant end at its expiry)',
  scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/exemptions/requests/:id/refuse' },
  input: Input({ id: Id, reason: Why }),
  output: ExemptionRequestSchema,
  object: (i) => `exemption request ${i.id}`,
  async run(i, c, deps: AppDeps) {
    if (!i.reason.trim()) throw new AppError('invalid-value', 'give the reason for the refusal: the subscriber reads it', { field: 'reason' });
    await visibleRequest(deps, c, i.id);
    return desk(deps).repo.transition(i.id, ['pending'], { state: 'refused', decidedBy: who(c), decidedAt: deps.clock.now(), decisionReason: i.reason },
      { actor: who(c), step: 'refused', reason: i.reason });
  },
});

export const exemptionsWithdraw = operation({
  name: 'exemptions.withdraw',
  summary: 'withdraw a request; a running grant of it ends now (its exemption is removed from the policy)',
  scope: 'operate', mutates: true, subscriber: true,
  http: { method: 'POST', path: '/exemptions/requests/:id/withdraw' },
  input: Input({ id: Id, reason: Type.Optional(Str('why', { maxLength: 500 })) }),
  output: ExemptionRequestSchema,
  object: (i) => `exemption request ${i.id}`,
  async run(i, c, deps: AppDeps) {
    const r = await visibleRequest(deps, c, i.id);
    if (!ACTIVE.includes(r.state)) throw new AppError('conflict', `exemption request ${r.id} is ${r.state} already`, { id: r.id });
    const running = r.expiresAt !== null && r.expiresAt > deps.clock.now() && (r.state !== 'pending' || r.renewal);
    if (running) unwrap(await need(deps, 'policy').removeExemption(r.prefix, { actor: who(c), reason: `exemption request ${r.id} withdrawn` }));
    return desk(deps).repo.transition(r.id, ACTIVE, { state: 'withdrawn', renewal: false }, { actor: who(c), step: running ? 'withdrawn (the grant ended)' : 'withdrawn', reason: i.reason ?? '' });
  },
});

export const exemptionsRenew = operation({
  name: 'exemptions.renew',
  summary: 'ask to extend a running grant: the request goes back to the desk\'s queue with fresh checks, the grant runs on meanwhile',
  scope: 'operate', mutates: true, subscriber: true,
  http: { method: 'POST', path: '/exemptions/requests/:id/renew' },
  input: Input({ id: Id, reason: Type.Optional(Str('anything the desk should know', { maxLength: 1000 })) }),
  output: ExemptionRequestSchema,
  object: (i) => `exemption request ${i.id}`,
  async run(i, c, deps: AppDeps) {
    const r = await visibleRequest(deps, c, i.id);
    if (r.state !== 'granted' && r.state !== 'renewal-offered') throw new AppError('conflict', `exemption request ${r.id} is ${r.state}: only a running grant can be renewed`, { id: r.id });
    const checks = await checksFor(deps, r);
    return desk(deps).repo.transition(r.id, ['granted', 'renewal-offered'], { state: 'pending', renewal: true, checks, checkedAt: deps.clock.now() },
      { actor: who(c), step: 'renewal asked', reason: i.reason ?? '' });
  },
});

export const exemptionsSweep = operation({
  name: 'exemptions.sweep',
  summary: 'mark grants that ended as expired, and offer renewal (with a notice to the contacts) to those ending within exemptions.renewBeforeDays',
  scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/exemptions/sweep' },
  input: Input({}),
  output: Type.Object({ expired: Type.Array(Type.Integer()), offered: Type.Array(Type.Integer()), noticeFailures: Type.Array(Type.String()) }),
  object: () => 'exemption requests',
  async run(_i, c, deps: AppDeps) {
    const d = desk(deps);
    const now = deps.clock.now();
    const expired: number[] = [], offered: number[] = [], noticeFailures: string[] = [];
    for (const r of await d.repo.list({ states: ['granted', 'renewal-offered', 'pending'], limit: 1000 })) {
      if (r.expiresAt === null) continue;
      if (r.expiresAt <= now) {
        if (r.state === 'pending') {
          if (!r.renewal) continue;
          // The renewal waits on; the grant it would extend has ended.
          await d.repo.transition(r.id, ['pending'], { renewal: false, expiresAt: null }, { actor: who(c), step: 'the grant ended while its renewal waits', reason: '' });
          continue;
        }
        await d.repo.transition(r.id, ['granted', 'renewal-offered'], { state: 'expired' }, { actor: who(c), step: 'expired', reason: '' });
        expired.push(r.id);
      } else if (r.state === 'granted' && r.expiresAt - now <= d.settings.renewBeforeDays * DAY) {
        const after = await d.repo.transition(r.id, ['granted'], { state: 'renewal-offered' }, { actor: who(c), step: 'renewal offered', reason: '' });
        offered.push(r.id);
        if (d.offer) await d.offer(after).catch((err: unknown) => { noticeFailures.push(`${r.id}: ${String((err as Error).message ?? err).slice(0, 200)}`); });
      }
    }
    return { expired, offered, noticeFailures };
  },
});

export const EXEMPTION_OPS = [
  exemptionsRequest, exemptionsRequestsList, exemptionsRequestsShow, exemptionsGrant, exemptionsRefuse, exemptionsWithdraw, exemptionsRenew, exemptionsSweep,
] as const;
