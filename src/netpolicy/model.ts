// The network policy model: what an operator states, before any compiler
// turns it into rules. Validation lives here so the CLI, the API and abuse
// all refuse the same malformed input with the same words.
import { formatRange, parseRange } from './prefix.ts';

export const POOL_CLASSES = ['dynamic', 'static', 'business', 'cgnat'] as const;
export type PoolClass = (typeof POOL_CLASSES)[number];
/** Classes whose port 25 is blocked (MAAWG practices 5 and 6); static and business space is exempt by default. */
export const BLOCKED_CLASSES: readonly PoolClass[] = ['dynamic', 'cgnat'];

/**
 * provider: our MSAs and relays; subscribers may reach them on 25 when settings.relay25 says so,
 * and they may send and receive on 25 themselves. customer: a server allowed by contract to send and
 * receive on 25 from inside blocked space; subscribers get no special access to it.
 */
export const RELAY_KINDS = ['provider', 'customer'] as const;
export type RelayKind = (typeof RELAY_KINDS)[number];

/** reject = TCP reset, icmp = ICMP administratively prohibited, drop = silence (gives bots the least). */
export const ACTIONS = ['reject', 'icmp', 'drop'] as const;
export type Action = (typeof ACTIONS)[number];

export const GARDEN_PROTOS = ['tcp', 'udp', 'both'] as const;
export type GardenProto = (typeof GARDEN_PROTOS)[number];

export interface Pool { prefix: string; class: PoolClass; note: string }
export interface Relay { prefix: string; kind: RelayKind; customer: string; note: string }
export interface Exemption {
  id: number;
  prefix: string;
  customer: string;
  reason: string;
  grantedBy: string;
  grantedAt: number;
  expiresAt: number | null;
}
export interface Quarantine { prefix: string; subscriber: string; reason: string; caseId: string; since: number; by: string }
export interface GardenEntry { prefix: string; proto: GardenProto; ports: string; note: string }

export interface EdgeSettings {
  /** Interface names (nft wildcards like "ppp*" allowed) facing subscribers; empty = pure address matching. */
  subscriberIfaces: string[];
  /** Interface names facing the Internet; empty = pure address matching. */
  upstreamIfaces: string[];
  action: Action;
  /** Subscribers in blocked space may reach provider relays on 25 (legacy submission, REQUIREMENTS A3). */
  relay25: boolean;
  /**
   * The notice page inside the walled garden, "192.0.2.80:80" (canonical: address and port): quarantined
   * IPv4 sources' TCP port 80 is redirected to it (DNAT on Linux edges), and they may reach it. Absent: no redirect.
   */
  notice4?: string;
  /** The same for IPv6 sources, "[2001:db8::80]:80". */
  notice6?: string;
}
export const DEFAULT_SETTINGS: EdgeSettings = { subscriberIfaces: [], upstreamIfaces: [], action: 'reject', relay25: true };

/** What is in force at one instant: expired exemptions are already gone. */
export interface PolicySnapshot {
  at: number;
  /** The store's change counter when taken (it only grows); 0 when absent, for snapshots built by hand. */
  revision?: number;
  pools: Pool[];
  relays: Relay[];
  exemptions: Exemption[];
  quarantines: Quarantine[];
  garden: GardenEntry[];
  settings: EdgeSettings;
}

export type Result<T = undefined> = { ok: true; value: T } | { ok: false; error: string };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });
/** A plain JSON object (not null, not an array): the shape every pulled or reported record must have. */
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Canonical text of an address or CIDR prefix, or an error naming the input. */
export function checkPrefix(text: string): Result<string> {
  const r = parseRange(text);
  if (!r || text.includes('-')) return fail(`not an address or prefix with clean host bits: ${JSON.stringify(text)}`);
  // One spelling per prefix, so that a lookup, a removal or a duplicate check by another
  // spelling finds the same row: RFC 5952 text, and a single host as a bare address
  // (formatRange's text for a range with clean host bits).
  return ok(formatRange(r));
}

/** "53", "80,443", "8000-8100" → sorted, merged text; each port 1–65535. */
export function checkPorts(text: string): Result<string> {
  const spans: Array<[number, number]> = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d{1,5})(?:-(\d{1,5}))?\s*$/.exec(part);
    if (!m) return fail(`bad port list: ${JSON.stringify(text)}`);
    const a = Number(m[1]), b = Number(m[2] ?? m[1]);
    if (a < 1 || b > 65535 || b < a) return fail(`bad port list: ${JSON.stringify(text)}`);
    spans.push([a, b]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1] + 1) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  return ok(merged.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','));
}

/** Interface names as nft and Linux accept them: up to 15 bytes, a trailing "*" wildcard allowed. */
export function checkIface(name: string): Result<string> {
  if (!/^[A-Za-z0-9_.:@-]{1,15}\*?$/.test(name) && name !== '*') return fail(`bad interface name: ${JSON.stringify(name)}`);
  return ok(name);
}

/**
 * A notice address as "ADDR[:PORT]" ("[ADDR]:PORT" for IPv6) → its canonical text with the port (80 when
 * none is given). An address, never a name: the edge rewrites packets to it, and a name would need DNS there.
 */
export function checkNotice(text: string, family: 4 | 6): Result<string> {
  const bad = fail(`notice${family}: ${JSON.stringify(text)} is not an IPv${family} address with an optional port (${family === 4 ? '192.0.2.80:8080' : '[2001:db8::80]:8080'})`);
  const m = family === 4 ? /^([0-9.]+)(?::(\d{1,5}))?$/.exec(text) : /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$|^([0-9A-Fa-f:.]+)$/.exec(text);
  if (!m) return bad;
  const addr = m[1] ?? m[3];
  const r = parseRange(addr);
  if (!r || r.family !== family || r.lo !== r.hi || addr.includes('/')) return bad;
  const port = Number(m[2] ?? 80);
  if (port < 1 || port > 65535) return fail(`notice${family}: port ${m[2]} is not 1-65535`);
  const a = formatRange(r);
  return ok(family === 4 ? `${a}:${port}` : `[${a}]:${port}`);
}

/** The address and port of a canonical notice text. */
export function noticeParts(text: string): { addr: string; port: number } {
  const i = text.lastIndexOf(':');
  return { addr: text.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(text.slice(i + 1)) };
}

export function isOneOf<T extends string>(list: readonly T[], v: string): v is T {
  return (list as readonly string[]).includes(v);
}
