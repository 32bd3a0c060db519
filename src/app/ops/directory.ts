// The subscriber directory's operations: a subscriber's record (tier, contacts,
// access identities), the addresses it was assigned through the API, and the
// questions the abuse desk asks: who held ADDRESS[:PORT] at TIME, and the
// history of a subscriber or an address. The sources (RADIUS, Kea, detail
// files) write through the repository directly; these are the operator's way.
import { Type } from 'typebox';
import { DirectoryError, canonicalPrefix, type Assignment, type Subscriber } from '../../directory/index.ts';
import { parseEndpoint } from '../../accountability/index.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Input, Limit, Reason, Str } from './common.ts';

const Nullable = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
export const AssignmentSchema = Type.Object({
  id: Type.Integer(), subscriber: Type.String(), prefix: Type.String({ description: 'canonical address or prefix (RFC 5952)' }),
  portLo: Nullable(Type.Integer()), portHi: Nullable(Type.Integer()),
  start: Type.Integer({ description: 'ms since the epoch' }), end: Nullable(Type.Integer({ description: 'ms since the epoch; null: still held' })),
  source: Type.String(), session: Nullable(Type.String()),
});
export const DirectoryRecordSchema = Type.Object({
  id: Type.String(), tier: Type.String(), contacts: Type.Array(Type.String()), access: Type.Array(Type.String()),
  createdAt: Type.Integer(), updatedAt: Type.Integer(),
});
/** A time as ISO 8601 text or ms since the epoch (a number, or digits). */
const When = (description: string) => Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 40 })], { description: `${description}: ISO 8601 or ms since the epoch` }));
const Port = (description: string) => Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 65535, description }), Type.Null()]));

/** ISO 8601 (a date, or a date and time with an optional zone) or ms since the epoch. */
export function instant(v: number | string | undefined, field: string, dflt: () => number): number {
  if (v === undefined) return dflt();
  if (typeof v === 'number') return v;
  const s = v.trim();
  if (/^\d{1,15}$/.test(s)) return Number(s);
  const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) ? Date.parse(s.replace(' ', 'T')) : Number.NaN;
  if (!Number.isFinite(t)) throw new AppError('invalid-value', `${field}: ${JSON.stringify(v)} is neither ISO 8601 nor ms since the epoch`);
  return t;
}

/** The directory's refusals carry catalogue codes already. */
export async function directoryCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DirectoryError) throw new AppError(e.code, e.message);
    throw e;
  }
}

const record = (s: Subscriber) => ({ id: s.id, tier: s.tier, contacts: s.contacts, access: s.access, createdAt: s.createdAt, updatedAt: s.updatedAt });

export const subscribersPut = operation({
  name: 'subscribers.put', summary: "create or update a subscriber's directory record (only the fields given change; access replaces the list)", scope: 'admin', mutates: true,
  http: { method: 'PUT', path: '/subscribers/:id' },
  input: Input({
    id: Str('subscriber id (trimmed, lower-cased)', { minLength: 1, maxLength: 256 }),
    tier: Type.Optional(Str('the tier (abuse rules exempt their immune tiers)', { maxLength: 64 })),
    contacts: Type.Optional(Type.Array(Str('a mailbox notices go to', { maxLength: 254 }), { maxItems: 16 })),
    access: Type.Optional(Type.Array(Str('an access identity: radius:USER, hw:MAC, duid:…, client-id:…', { maxLength: 300 }), { maxItems: 64 })),
    reason: Reason,
  }),
  output: DirectoryRecordSchema,
  object: (i) => `subscriber ${i.id.trim().toLowerCase()}`,
  async run(i, _c, deps: AppDeps) {
    const d = need(deps, 'directory');
    return record(await directoryCall(() => d.putSubscriber({ id: i.id, tier: i.tier, contacts: i.contacts, access: i.access })));
  },
});

export const addressesAssign = operation({
  name: 'addresses.assign', summary: 'record that a subscriber holds an address, prefix or CGNAT port block from a time (a held one of another subscriber ends then)', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/addresses' },
  input: Input({
    subscriber: Str('subscriber id', { minLength: 1, maxLength: 256 }),
    prefix: Str('address or prefix: 192.0.2.7, 2001:db8:1::/56', { minLength: 1, maxLength: 64 }),
    portLo: Port('first port of a CGNAT block'), portHi: Port('last port of the block'),
    start: When('when it was handed out (default now)'), end: When('when it stopped (default: still held)'),
    source: Type.Optional(Type.Union([Type.Literal('api'), Type.Literal('static')], { description: 'api (default) or static' })),
    session: Type.Optional(Str('the caller\'s id for this assignment (a later assign of it updates, addresses.end finds it)', { minLength: 1, maxLength: 256 })),
    reason: Reason,
  }),
  output: AssignmentSchema,
  object: (i) => `address ${canonicalPrefix(i.prefix)?.text ?? i.prefix}${i.portLo !== undefined && i.portLo !== null ? `:${i.portLo}-${i.portHi}` : ''}`,
  async run(i, _c, deps: AppDeps) {
    const d = need(deps, 'directory');
    const now = () => deps.clock.now();
    const end = i.end === undefined ? null : instant(i.end, 'end', now);
    return directoryCall(() => d.assign({ subscriber: i.subscriber, prefix: i.prefix, portLo: i.portLo ?? null, portHi: i.portHi ?? null,
      start: instant(i.start, 'start', now), end, source: i.source ?? 'api', session: i.session ?? null }));
  },
});

export const addressesEnd = operation({
  name: 'addresses.end', summary: 'end what is held: by session, or by prefix and/or subscriber, of one source', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/addresses/end' },
  input: Input({
    source: Type.Optional(Type.Union(['api', 'static', 'radius', 'kea'].map((s) => Type.Literal(s)), { description: 'whose assignment (default api)' })),
    session: Type.Optional(Str('the session id', { minLength: 1, maxLength: 256 })),
    prefix: Type.Optional(Str('address or prefix', { minLength: 1, maxLength: 64 })),
    subscriber: Type.Optional(Str('subscriber id', { minLength: 1, maxLength: 256 })),
    at: When('when it ended (default now)'),
    reason: Reason,
  }),
  output: Type.Object({ ended: AssignmentSchema }),
  object: (i) => (i.prefix ? `address ${canonicalPrefix(i.prefix)?.text ?? i.prefix}` : i.session ? `session ${i.session}` : `subscriber ${i.subscriber ?? ''}`),
  async run(i, _c, deps: AppDeps) {
    const d = need(deps, 'directory');
    const at = instant(i.at, 'at', () => deps.clock.now());
    const ended = await directoryCall(() => d.end({ source: (i.source ?? 'api') as Assignment['source'], session: i.session, prefix: i.prefix, subscriber: i.subscriber }, at));
    if (!ended) throw new AppError('not-found', 'nothing held matches');
    return { ended };
  },
});

export const addressesHistory = operation({
  name: 'addresses.history', summary: 'the assignments of a subscriber, or covering an address or prefix, newest first, overlapping [from, to]', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/addresses/history' },
  input: Input({
    subscriber: Type.Optional(Str('subscriber id', { minLength: 1, maxLength: 256 })),
    address: Type.Optional(Str('address or prefix', { minLength: 1, maxLength: 64 })),
    from: When('from'), to: When('to'), limit: Limit(10_000),
  }),
  output: Type.Object({ assignments: Type.Array(AssignmentSchema) }),
  async run(i, _c, deps: AppDeps) {
    const d = need(deps, 'directory');
    if (i.subscriber === undefined && i.address === undefined) throw new AppError('bad-request', 'addresses.history: give a subscriber or an address');
    const q = { subscriber: i.subscriber, address: i.address, limit: i.limit,
      from: i.from === undefined ? undefined : instant(i.from, 'from', () => 0), to: i.to === undefined ? undefined : instant(i.to, 'to', () => 0) };
    return { assignments: await directoryCall(() => d.history(q)) };
  },
});

export const addressesWho = operation({
  name: 'addresses.who', summary: 'who held ADDRESS[:PORT] at a time (behind CGNAT without a port: every block holder)', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/addresses/who' },
  input: Input({
    address: Str('IP, IPv4:PORT or [IPv6]:PORT', { minLength: 1, maxLength: 64 }),
    port: Port('source port (instead of ADDRESS:PORT)'),
    at: When('the time (default now)'),
  }),
  output: Type.Object({
    address: Type.String(), port: Nullable(Type.Integer()), at: Type.Integer(),
    holders: Type.Array(Type.Object({ subscriber: Type.String(), assignment: AssignmentSchema })),
  }),
  async run(i, _c, deps: AppDeps) {
    const d = need(deps, 'directory');
    const ep = parseEndpoint(i.address);
    if (!ep) throw new AppError('invalid-prefix', `${JSON.stringify(i.address)} is not IP, IPv4:PORT or [IPv6]:PORT`);
    const port = i.port ?? ep.port ?? null;
    const at = instant(i.at, 'at', () => deps.clock.now());
    const holders = await directoryCall(() => d.holdersAt(ep.ip, at, port));
    return { address: ep.ip, port, at, holders };
  },
});

export const DIRECTORY_OPS = [addressesAssign, addressesEnd, addressesHistory, addressesWho] as const;
