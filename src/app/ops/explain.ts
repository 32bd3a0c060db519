// policy.explain: "Am I blocked?" for one address — the facts behind the
// portal's page, the API's answer and `portwarden policy explain`. Read only.
// The address's class comes from the pool it falls in (CGNAT also when it sits
// in the shared space 100.64.0.0/10, RFC 6598); port 25 is judged the way the
// compiled rules judge it (nft.ts: quarantine first, then relays, customer
// servers and exemptions let it through, then blocked classes refuse it); the
// provider's own DNSBL zone lists it by the rbldnsd compiler's rule (blocked
// classes minus exemptions, customer servers and relays). The subscriber
// holding it (directory) names the open case, if any; outside listings are the
// DNSBL checker's. Parts that are absent here are reported as not checked.
import { Type } from 'typebox';
import { inPrefix, parseIp, type IpAddr } from '../../core/index.ts';
import { queryAddress } from '../../abuse/index.ts';
import { parseEndpoint } from '../../accountability/index.ts';
import { BLOCKED_CLASSES, POOL_CLASSES, RELAY_KINDS, type PolicySnapshot } from '../../netpolicy/index.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Input, Str } from './common.ts';

export const ADDRESS_CLASSES = [...POOL_CLASSES, 'outside'] as const;
/** Why port 25 is as it is, most decisive first (the order the edge's rules take). */
export const PORT25_REASONS = ['quarantine', 'relay', 'customer-server', 'exemption', 'blocked-class', 'open-class', 'not-ours'] as const;
type Port25Reason = (typeof PORT25_REASONS)[number];

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Checked = <T extends Parameters<typeof Type.Union>[0][number]>(t: T, what: string) => Type.Union([t, Type.Null()], { description: `${what}; null: not checked here (that part does not run where this was asked)` });

export const ExplainSchema = Type.Object({
  address: Type.String({ description: 'canonical (RFC 5952)' }),
  port: Nullable(Type.Integer()),
  family: Type.Union([Type.Literal(4), Type.Literal(6)]),
  class: Type.Enum(ADDRESS_CLASSES, { description: 'the pool class; outside: in none of our pools' }),
  pool: Nullable(Type.Object({ prefix: Type.String(), class: Type.Enum(POOL_CLASSES) })),
  sharedSpace: Type.Boolean({ description: 'in 100.64.0.0/10 (RFC 6598, carrier-grade NAT)' }),
  port25: Type.Object({ blocked: Type.Boolean(), reason: Type.Enum(PORT25_REASONS) }),
  exemption: Nullable(Type.Object({ prefix: Type.String(), grantedAt: Type.Integer(), expiresAt: Nullable(Type.Integer()) })),
  relay: Nullable(Type.Object({ prefix: Type.String(), kind: Type.Enum(RELAY_KINDS) })),
  quarantine: Nullable(Type.Object({ prefix: Type.String(), since: Type.Integer(), caseId: Type.String() })),
  holders: Checked(Type.Integer({ minimum: 0 }), 'how many subscribers hold it now (several: a CGNAT address asked without its port)'),
  subscriber: Nullable(Type.String({ description: 'the one subscriber holding it now' })),
  openCase: Checked(Type.Object({ open: Type.Boolean(), id: Nullable(Type.String()), openedAt: Nullable(Type.Number()) }),
    'an open abuse case of the one holder (null also when nobody or several hold it)'),
  providerDnsbl: Type.Object({ listed: Type.Boolean({ description: "the provider's own DNSBL zone (policy compile --format rbldnsd) lists it" }) }),
  outsideDnsbl: Checked(Type.Array(Type.Object({ zone: Type.String(), answer: Type.String(), since: Type.Integer() })), 'listings the DNSBL checker recorded'),
});
export type Explanation = import('typebox').Static<typeof ExplainSchema>;

const inShared = (a: IpAddr): boolean => inPrefix('100.64.0.0/10', a);
const contains = inPrefix;

/** The facts that come from the policy alone (pure: unit-tested by class). */
export function explainPolicy(snap: Pick<PolicySnapshot, 'pools' | 'relays' | 'exemptions' | 'quarantines'>, a: IpAddr) {
  const pool = snap.pools.find((p) => contains(p.prefix, a)) ?? null;
  const relay = snap.relays.find((r) => contains(r.prefix, a)) ?? null;
  const exemption = snap.exemptions.find((e) => contains(e.prefix, a)) ?? null;
  const quarantine = snap.quarantines.find((q) => contains(q.prefix, a)) ?? null;
  const sharedSpace = inShared(a);
  const cls = sharedSpace && (!pool || pool.class === 'dynamic') ? 'cgnat' : pool?.class ?? 'outside';
  const blockedClass = !!pool && BLOCKED_CLASSES.includes(pool.class);
  const reason: Port25Reason = quarantine ? 'quarantine' : relay ? (relay.kind === 'provider' ? 'relay' : 'customer-server') : exemption && blockedClass ? 'exemption'
    : blockedClass ? 'blocked-class' : pool ? 'open-class' : 'not-ours';
  return {
    class: cls as (typeof ADDRESS_CLASSES)[number],
    pool: pool && { prefix: pool.prefix, class: pool.class },
    sharedSpace,
    port25: { blocked: reason === 'quarantine' || reason === 'blocked-class', reason },
    exemption: exemption && { prefix: exemption.prefix, grantedAt: exemption.grantedAt, expiresAt: exemption.expiresAt },
    relay: relay && { prefix: relay.prefix, kind: relay.kind },
    quarantine: quarantine && { prefix: quarantine.prefix, since: quarantine.since, caseId: quarantine.caseId },
    // rbldnsd.ts: the blocked classes' space minus exemptions, customer servers and relays.
    providerDnsbl: { listed: blockedClass && !exemption && !relay },
  };
}

export const policyExplain = operation({
  name: 'policy.explain', summary: '"Am I blocked?": an address\'s class, whether its outbound port 25 is blocked and why, its exemption, quarantine, open case and DNSBL listings',
  scope: 'read', mutates: false, http: { method: 'GET', path: '/policy/explain' },
  input: Input({
    address: Str('IP, IPv4:PORT or [IPv6]:PORT', { minLength: 1, maxLength: 64 }),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'source port (behind CGNAT it names the subscriber)' })),
  }),
  output: ExplainSchema,
  async run(i, _c, deps: AppDeps) {
    const ep = parseEndpoint(i.address);
    const a = ep && parseIp(ep.ip);
    if (!ep || !a) throw new AppError('invalid-prefix', `${JSON.stringify(i.address)} is not IP, IPv4:PORT or [IPv6]:PORT`);
    const port = i.port ?? ep.port ?? null;
    const now = deps.clock.now();
    const facts = explainPolicy(await need(deps, 'policy').snapshot(), a);
    let holders: number | null = null, subscriber: string | null = null, heldPrefix: string | null = null;
    if (deps.directory) {
      const h = await deps.directory.holdersAt(ep.ip, now, port);
      holders = h.length;
      if (h.length === 1) { subscriber = h[0].subscriber; heldPrefix = h[0].assignment.prefix; }
    }
    let openCase: Explanation['openCase'] = null;
    if (deps.cases && subscriber !== null) {
      const c = await deps.cases.openOf(subscriber);
      openCase = c ? { open: true, id: c.id, openedAt: c.openedAt } : { open: false, id: null, openedAt: null };
    }
    let outsideDnsbl: Explanation['outsideDnsbl'] = null;
    if (deps.dnsbl) {
      // The checker asks an IPv4 host by itself and an IPv6 holder by its prefix's first address.
      const asked = [ep.ip, ...(heldPrefix ? [queryAddress(heldPrefix)] : [])].filter((x): x is string => !!x);
      outsideDnsbl = (await deps.dnsbl.of(asked)).map((l) => ({ zone: l.zone, answer: l.answer, since: l.since }));
    }
    return { address: ep.ip, port, family: a.v, ...facts, holders, subscriber, openCase, outsideDnsbl };
  },
});

export const EXPLAIN_OPS = [policyExplain] as const;
