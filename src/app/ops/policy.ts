// The port-25 network policy (the netpolicy part's PolicyStore and compilers).
// Each change also lands in the policy store's own audit (who and why are
// required there); `by` names someone else than the operator at the keyboard
// (an operator actor only: a token is always named as itself).
import { Type, type TSchema } from 'typebox';
import {
  ACTIONS, GARDEN_PROTOS, POOL_CLASSES, RELAY_KINDS, compileIos, compileIptables, compileJunos, compileNft, compilePolicy, compileRbldnsd, diffSets,
  type Change, type PolicyStore, type Result,
} from '../../netpolicy/index.ts';
import type { Context } from '../actor.ts';
import { operation, type OperationDef } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Done, Input, Limit, Reason, Str, unwrap } from './common.ts';

const lit = <T extends string[]>(xs: readonly [...T]) => Type.Enum(xs);
const Prefix = Str('an address or CIDR prefix', { minLength: 1, maxLength: 64 });
const Note = Type.Optional(Str('a note', { maxLength: 500 }));
const By = Type.Optional(Str('who made the change, when not the operator at hand (operators only)', { minLength: 1, maxLength: 200 }));
const change = { reason: Reason, by: By };

export function changeOf(i: { reason?: string; by?: string }, c: Context): Change {
  const a = c.actor;
  const actor = a.kind === 'operator' ? (i.by ?? a.name) : `${a.kind}:${a.name}`;
  return { actor, reason: i.reason ?? c.reason ?? '' };
}

const policy = (deps: AppDeps): PolicyStore => need(deps, 'policy');
const done = async (r: Result<unknown> | Promise<Result<unknown>>) => { unwrap(await r); return { done: true }; };

/** `list`, `add` and `remove` of one kind of entry. */
function entries<L extends TSchema, A extends Record<string, TSchema>>(o: {
  kind: string; path: string; what: string; item: L; addScope: 'operate' | 'admin'; add: A;
  list: (p: PolicyStore, i: Record<string, unknown>) => unknown; listInput?: Record<string, TSchema>;
  doAdd: (p: PolicyStore, i: Record<string, unknown> & { prefix: string }, c: Change, deps: AppDeps) => Result<unknown> | Promise<Result<unknown>>;
  doRemove: (p: PolicyStore, prefix: string, c: Change) => Result<unknown> | Promise<Result<unknown>>;
}): OperationDef[] {
  const name = `policy.${o.kind}`;
  return [
    operation({
      name: `${name}.list`, summary: `the ${o.what} entries`, scope: 'read', mutates: false, http: { method: 'GET', path: o.path },
      input: Input(o.listInput ?? {}), output: Type.Object({ items: Type.Array(o.item) }),
      async run(i, _c, deps: AppDeps) { return { items: (await o.list(policy(deps), i)) as never[] }; },
    }),
    operation({
      name: `${name}.add`, summary: `add a ${o.what} entry`, scope: o.addScope, mutates: true, http: { method: 'POST', path: o.path },
      input: Input({ prefix: Prefix, ...o.add, ...change }), output: Done, object: (i) => `${o.kind.replace(/s$/, "")} ${(i as { prefix: string }).prefix}`,
      async run(i, c, deps: AppDeps) { return done(o.doAdd(policy(deps), i as never, changeOf(i as never, c), deps)); },
    }),
    operation({
      name: `${name}.remove`, summary: `remove a ${o.what} entry`, scope: o.addScope, mutates: true, http: { method: 'DELETE', path: o.path },
      input: Input({ prefix: Prefix, ...change }), output: Done, object: (i) => `${o.kind.replace(/s$/, "")} ${i.prefix}`,
      async run(i, c, deps: AppDeps) { return done(o.doRemove(policy(deps), i.prefix, changeOf(i, c))); },
    }),
  ] as unknown as OperationDef[];
}

const s = (v: unknown): string => (typeof v === 'string' ? v : '');

const pools = entries({
  kind: 'pools', path: '/policy/pools', what: 'address pool', addScope: 'admin',
  item: Type.Object({ prefix: Type.String(), class: lit(POOL_CLASSES), note: Type.String() }),
  add: { class: lit(POOL_CLASSES), note: Note },
  list: (p) => p.listPools(),
  doAdd: (p, i, c) => p.addPool(i.prefix, i.class as never, s(i.note), c),
  doRemove: (p, x, c) => p.removePool(x, c),
});
const relays = entries({
  kind: 'relays', path: '/policy/relays', what: 'relay (may send on port 25)', addScope: 'admin',
  item: Type.Object({ prefix: Type.String(), kind: lit(RELAY_KINDS), customer: Type.String(), note: Type.String() }),
  add: { kind: Type.Optional(lit(RELAY_KINDS)), customer: Type.Optional(Str('the customer (customer relays)')), note: Note },
  list: (p) => p.listRelays(),
  doAdd: (p, i, c) => p.addRelay(i.prefix, (s(i.kind) || 'provider') as never, s(i.customer), s(i.note), c),
  doRemove: (p, x, c) => p.removeRelay(x, c),
});
const exemptions = entries({
  kind: 'exemptions', path: '/policy/exemptions', what: 'port-25 exemption', addScope: 'operate',
  item: Type.Object({ id: Type.Integer(), prefix: Type.String(), customer: Type.String(), reason: Type.String(), grantedBy: Type.String(),
    grantedAt: Type.Integer(), expiresAt: Type.Union([Type.Integer(), Type.Null()]) }),
  listInput: { all: Type.Optional(Type.Boolean({ description: 'include expired ones' })) },
  add: { customer: Str('the customer', { maxLength: 200 }), expiresAt: Type.Optional(Type.Union([Type.Integer({ description: 'ms since the epoch' }), Type.Null()])) },
  list: (p, i) => p.listExemptions(i.all === true),
  doAdd: (p, i, c) => p.addExemption(i.prefix, s(i.customer), typeof i.expiresAt === 'number' ? i.expiresAt : null, c),
  doRemove: (p, x, c) => p.removeExemption(x, c),
});
const quarantine = entries({
  kind: 'quarantine', path: '/policy/quarantine', what: 'quarantine (walled garden only)', addScope: 'operate',
  item: Type.Object({ prefix: Type.String(), subscriber: Type.String(), reason: Type.String(), caseId: Type.String(), since: Type.Integer(), by: Type.String() }),
  add: { subscriber: Str('the subscriber', { maxLength: 200 }), case: Type.Optional(Str('abuse case id', { maxLength: 200 })) },
  list: (p) => p.listQuarantines(),
  doAdd: (p, i, c) => p.quarantine(i.prefix, s(i.subscriber), s(i.case), c),
  doRemove: (p, x, c) => p.release(x, c),
});
const garden = entries({
  kind: 'garden', path: '/policy/garden', what: 'walled garden destination', addScope: 'admin',
  item: Type.Object({ prefix: Type.String(), proto: lit(GARDEN_PROTOS), ports: Type.String(), note: Type.String() }),
  add: { proto: Type.Optional(lit(GARDEN_PROTOS)), ports: Str('53 | 80,443 | 8000-8100', { minLength: 1, maxLength: 200 }), note: Note },
  list: (p) => p.listGarden(),
  doAdd: (p, i, c) => p.addGarden(i.prefix, (s(i.proto) || 'tcp') as never, s(i.ports), s(i.note), c),
  doRemove: (p, x, c) => p.removeGarden(x, c),
});
// The quarantine's remove is a release: give it that name too, as the CLI and the desk say it.
quarantine[2] = { ...quarantine[2], name: 'policy.quarantine.release', summary: 'release a quarantined prefix' };

const Settings = Type.Object({ subscriberIfaces: Type.Array(Type.String()), upstreamIfaces: Type.Array(Type.String()), action: lit(ACTIONS), relay25: Type.Boolean(),
  notice4: Type.Optional(Type.String({ description: 'the notice page quarantined IPv4 HTTP is redirected to, ADDR:PORT' })),
  notice6: Type.Optional(Type.String({ description: 'the same for IPv6, [ADDR]:PORT' })) });
const Notice = (f: 4 | 6) => Type.Optional(Type.String({ maxLength: 64, description: `the notice page's IPv${f} address inside the walled garden, ${f === 4 ? 'ADDR[:PORT]' : '[ADDR]:PORT or ADDR'} (port 80 when none); "" removes the redirect` }));

export const policySettingsShow = operation({
  name: 'policy.settings.show', summary: 'the edge settings', scope: 'read', mutates: false, http: { method: 'GET', path: '/policy/settings' },
  input: Input({}), output: Settings,
  async run(_i, _c, deps: AppDeps) { return policy(deps).settings(); },
});

export const policySettingsSet = operation({
  name: 'policy.settings.set', summary: 'change the edge settings (an empty interface list means pure address matching; notice4/notice6 redirect quarantined HTTP)', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/policy/settings' },
  input: Input({ subscriberIfaces: Type.Optional(Type.Array(Str('interface'), { maxItems: 64 })), upstreamIfaces: Type.Optional(Type.Array(Str('interface'), { maxItems: 64 })),
    action: Type.Optional(lit(ACTIONS)), relay25: Type.Optional(Type.Boolean()), notice4: Notice(4), notice6: Notice(6), ...change }),
  output: Done, object: () => 'policy settings',
  async run(i, c, deps: AppDeps) {
    const { reason: _r, by: _b, ...patch } = i;
    return done(policy(deps).setSettings(patch, changeOf(i, c)));
  },
});

async function compiled(deps: AppDeps) { return compilePolicy(await policy(deps).snapshot()); }

const FORMATS = ['nft', 'iptables', 'ios', 'junos', 'rbldnsd'] as const;
export const policyCompile = operation({
  name: 'policy.compile', summary: 'the policy as nft, iptables+ipset, IOS or Junos ACL text, or an rbldnsd zone', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/policy/compiled' },
  input: Input({ format: lit(FORMATS), family: Type.Optional(Type.Union([Type.Literal('4'), Type.Literal('6')], { description: 'rbldnsd: the address family' })) }),
  output: Type.Object({ version: Type.String(), text: Type.String() }),
  async run(i, _c, deps: AppDeps) {
    const p = await compiled(deps);
    const text = i.format === 'nft' ? compileNft(p)
      : i.format === 'iptables' ? (({ ipset, iptables, ip6tables }) => ipset + iptables + ip6tables)(compileIptables(p))
      : i.format === 'ios' ? compileIos(p) : i.format === 'junos' ? compileJunos(p)
      : (i.family === '6' ? compileRbldnsd(p).ip6trie : compileRbldnsd(p).ip4trie);
    return { version: p.version, text };
  },
});

const Edge = Type.Optional(Str('edge name (default "local")', { minLength: 1, maxLength: 64 }));
export const policyDiff = operation({
  name: 'policy.diff', summary: 'what the next apply changes on an edge', scope: 'read', mutates: false, http: { method: 'GET', path: '/policy/diff' },
  input: Input({ edge: Edge }),
  output: Type.Object({ edge: Type.String(), from: Type.Union([Type.String(), Type.Null()]), to: Type.String(),
    changes: Type.Array(Type.Object({ set: Type.String(), add: Type.Array(Type.String()), remove: Type.Array(Type.String()) })) }),
  async run(i, _c, deps: AppDeps) {
    const edge = i.edge ?? 'local';
    const last = await policy(deps).lastApplied(edge);
    const p = await compiled(deps);
    return { edge, from: last?.version ?? null, to: p.version, changes: last?.version === p.version ? [] : diffSets(last?.sets ?? {}, p.sets) };
  },
});

export const policyApplied = operation({
  name: 'policy.applied', summary: 'the policy last applied on an edge (version and sets), as recorded', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/policy/applied' }, input: Input({ edge: Edge }),
  output: Type.Union([Type.Null(), Type.Object({ at: Type.Integer(), version: Type.String(), sets: Type.Record(Type.String(), Type.Array(Type.String())) })]),
  async run(i, _c, deps: AppDeps) { return policy(deps).lastApplied(i.edge ?? 'local'); },
});

export const policySnapshot = operation({
  name: 'policy.show', summary: 'the policy in force now and its version', scope: 'read', mutates: false, http: { method: 'GET', path: '/policy' },
  input: Input({}), output: Type.Object({ version: Type.String(), sets: Type.Record(Type.String(), Type.Array(Type.String())), snapshot: Type.Unknown() }),
  async run(_i, _c, deps: AppDeps) {
    const snapshot = await policy(deps).snapshot();
    const p = compilePolicy(snapshot);
    return { version: p.version, sets: p.sets as Record<string, string[]>, snapshot };
  },
});

export const policyEdges = operation({
  name: 'policy.edges', summary: 'what each edge last reported: the version it enforces, and the last policy it refused', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/policy/edges' }, input: Input({}),
  output: Type.Object({ edges: Type.Array(Type.Object({ edge: Type.String(), reportedAt: Type.Integer(), version: Type.String(), omitted: Type.Integer(),
    rejected: Type.Union([Type.Null(), Type.Object({ version: Type.String(), error: Type.String(), at: Type.Union([Type.Integer(), Type.Null()]) })]) })) }),
  async run(_i, _c, deps: AppDeps) { return { edges: await policy(deps).edges() }; },
});

export const policyAudit = operation({
  name: 'policy.audit', summary: "the policy store's own audit of changes, newest first", scope: 'read', mutates: false,
  http: { method: 'GET', path: '/policy/audit' }, input: Input({ limit: Limit(100_000) }),
  output: Type.Object({ entries: Type.Array(Type.Object({ id: Type.Integer(), at: Type.Integer(), actor: Type.String(), action: Type.String(),
    object: Type.String(), reason: Type.String(), detail: Type.String() })) }),
  async run(i, _c, deps: AppDeps) { return { entries: await policy(deps).audit(i.limit ?? 50) }; },
});

export const policyBlocked = operation({
  name: 'policy.blocked', summary: 'blocked port-25 attempts per source, as edges reported them', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/policy/blocked' }, input: Input({ limit: Limit(100_000) }),
  output: Type.Object({ sources: Type.Array(Type.Object({ edge: Type.String(), source: Type.String(), packets: Type.Integer(), destinations: Type.Integer(), reportedAt: Type.Integer() })) }),
  async run(i, _c, deps: AppDeps) { return { sources: await policy(deps).blocked(i.limit ?? 100) }; },
});

export const POLICY_OPS: readonly OperationDef[] = [
  ...pools, ...relays, ...exemptions, ...quarantine, ...garden,
  policySettingsShow, policySettingsSet, policyCompile, policyDiff, policyApplied, policySnapshot, policyEdges, policyAudit, policyBlocked,
] as unknown as OperationDef[];
