// Snapshot → compiled policy: the form every compiler and every edge agent
// reads. Address lists become merged ranges (so overlapping or adjacent entries
// never reach the kernel as conflicting interval elements) and the whole is
// hashed, so identical policy gives an identical version on every machine.
import { createHash } from 'node:crypto';
import { BLOCKED_CLASSES, type EdgeSettings, type GardenProto, type PolicySnapshot } from './model.ts';
import { formatRange, parseRange, type Family, type Range } from './prefix.ts';
import { formatAll } from './format.ts';
import { RangeBuilder, newScratch, parseWords } from './words.ts';

/** Set names, one per family; their contents may change without reloading the ruleset. */
export const SET_NAMES = [
  'dynamic4', 'dynamic6', 'relay4', 'relay6', 'server4', 'server6',
  'exempt4', 'exempt6', 'quarantine4', 'quarantine6',
] as const;
export type SetName = (typeof SET_NAMES)[number];

export interface CompiledGarden { family: Family; prefix: string; proto: GardenProto; ports: string }

export interface CompiledPolicy {
  format: 'portwarden-netpolicy/1';
  /** Hash of everything below but revision: equal versions mean equal rulesets. */
  version: string;
  /**
   * The store's change counter: it never decreases, so an edge refuses a replayed older policy.
   * Expiries change the content without it; that is why it is not part of the version.
   */
  revision: number;
  /** Hash of settings and garden only: equal shapes mean only set elements differ. */
  shape: string;
  settings: EdgeSettings;
  garden: CompiledGarden[];
  /** Element texts of merged ranges, in address order. */
  sets: Record<SetName, string[]>;
}

function rangesOf(prefixes: Iterable<string>): Range[] {
  const out: Range[] = [];
  for (const p of prefixes) {
    const r = parseRange(p);
    // The store validates every prefix; a bad one here is a bug.
    if (!r) throw new Error(`netpolicy: invalid prefix in store: ${p}`);
    out.push(r);
  }
  return out;
}

/** Merged ranges of each family as element texts: typed arrays and a radix sort, since pools reach a million entries. */
function split(prefixes: Iterable<string>): [string[], string[]] {
  const b4 = new RangeBuilder(4), b6 = new RangeBuilder(6);
  const s = newScratch();
  for (const p of prefixes) {
    const f = parseWords(p, s);
    // The store validates every prefix; a bad one here is a bug.
    if (!f) throw new Error(`netpolicy: invalid prefix in store: ${p}`);
    (f === 4 ? b4 : b6).push(s);
  }
  return [formatAll(b4.merged()), formatAll(b6.merged())];
}

const hash = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 32);

function compileGarden(garden: PolicySnapshot['garden']): CompiledGarden[] {
  return garden.map((g) => {
    const r = rangesOf([g.prefix])[0];
    return { family: r.family, lo: r.lo, prefix: formatRange(r), proto: g.proto, ports: g.ports };
  }).sort((a, b) => (a.family - b.family) || (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0) || a.proto.localeCompare(b.proto) || a.ports.localeCompare(b.ports))
    .map(({ family, prefix, proto, ports }) => ({ family, prefix, proto, ports }));
}

function compileSettings(s: EdgeSettings): EdgeSettings {
  return {
    subscriberIfaces: [...new Set(s.subscriberIfaces)].sort(),
    upstreamIfaces: [...new Set(s.upstreamIfaces)].sort(),
    action: s.action,
    relay25: s.relay25,
    // Only when set: a policy without notices keeps the version it had before they existed.
    ...(s.notice4 ? { notice4: s.notice4 } : {}),
    ...(s.notice6 ? { notice6: s.notice6 } : {}),
  };
}

type PartSets = Partial<Record<SetName, string[]>>;

/** The set-bearing parts of a policy; each is recompiled only when its input changed (see PolicyCompiler). */
const PARTS = {
  pools: (s: PolicySnapshot): PartSets => {
    const [dynamic4, dynamic6] = split(s.pools.filter((p) => BLOCKED_CLASSES.includes(p.class)).map((p) => p.prefix));
    return { dynamic4, dynamic6 };
  },
  relays: (s: PolicySnapshot): PartSets => {
    const [relay4, relay6] = split(s.relays.filter((r) => r.kind === 'provider').map((r) => r.prefix));
    const [server4, server6] = split(s.relays.filter((r) => r.kind === 'customer').map((r) => r.prefix));
    return { relay4, relay6, server4, server6 };
  },
  exemptions: (s: PolicySnapshot): PartSets => { const [exempt4, exempt6] = split(s.exemptions.map((e) => e.prefix)); return { exempt4, exempt6 }; },
  quarantines: (s: PolicySnapshot): PartSets => { const [quarantine4, quarantine6] = split(s.quarantines.map((q) => q.prefix)); return { quarantine4, quarantine6 }; },
};
export type PartName = keyof typeof PARTS;
const PART_NAMES = Object.keys(PARTS) as PartName[];
interface Part { sets: PartSets; hash: string }
// JSON.stringify(sets), written out: element texts hold only [0-9a-f.:/-], so nothing needs escaping,
// and one join per set is about twice as fast as the generic serializer on a million elements.
const setsJson = (sets: PartSets): string =>
  `{${Object.entries(sets).map(([k, v]) => `"${k}":${v!.length ? `["${v!.join('","')}"]` : '[]'}`).join(',')}}`;
const part = (sets: PartSets): Part => ({ sets, hash: createHash('sha256').update(setsJson(sets)).digest('hex').slice(0, 32) });

function assemble(settings: EdgeSettings, garden: CompiledGarden[], parts: Record<PartName, Part>, revision: number): CompiledPolicy {
  const sets = Object.assign({}, ...PART_NAMES.map((k) => parts[k].sets)) as Record<SetName, string[]>;
  const shape = hash({ settings, garden });
  const version = hash({ shape, parts: PART_NAMES.map((k) => parts[k].hash) });
  return { format: 'portwarden-netpolicy/1', version, revision, shape, settings, garden, sets };
}

/** Which sets each part carries, in the order its compiler returns them (the part hash depends on it). */
const PART_SETS: Record<PartName, readonly SetName[]> = {
  pools: ['dynamic4', 'dynamic6'],
  relays: ['relay4', 'relay6', 'server4', 'server6'],
  exemptions: ['exempt4', 'exempt6'],
  quarantines: ['quarantine4', 'quarantine6'],
};

/**
 * The shape and version a policy with this content carries. An agent recomputes them from what it
 * pulled: its delta path trusts "equal shape = only elements differ" and "equal version = nothing to do".
 */
export function policyHashes(settings: EdgeSettings, garden: CompiledGarden[], sets: Record<SetName, string[]>): { shape: string; version: string } {
  const parts = Object.fromEntries(PART_NAMES.map((k) => [k, part(Object.fromEntries(PART_SETS[k].map((n) => [n, sets[n]])) as PartSets)])) as Record<PartName, Part>;
  const p = assemble(settings, garden, parts, 0);
  return { shape: p.shape, version: p.version };
}

export function compilePolicy(s: PolicySnapshot): CompiledPolicy {
  const parts = Object.fromEntries(PART_NAMES.map((k) => [k, part(PARTS[k](s))])) as Record<PartName, Part>;
  return assemble(compileSettings(s.settings), compileGarden(s.garden), parts, s.revision ?? 0);
}

/** What PolicyCompiler reads: a key per part that changes when that part does, and the parts themselves. */
export interface PolicySource {
  partKeys(): Promise<Record<PartName | 'rest', string>>;
  /** A snapshot in which at least the named parts are filled in ("rest" = settings and garden). */
  snapshotOf(parts: ReadonlySet<PartName | 'rest'>): Promise<PolicySnapshot>;
}

/**
 * Recompiles only the parts whose key changed, so quarantining one host does not re-merge a
 * million pool prefixes: that is what keeps change-to-edge latency under a second at scale.
 */
export class PolicyCompiler {
  private keys: Partial<Record<PartName | 'rest', string>> = {};
  private parts: Partial<Record<PartName, Part>> = {};
  private rest: { settings: EdgeSettings; garden: CompiledGarden[] } | null = null;
  private last: CompiledPolicy | null = null;
  /** Compiles run one at a time: two callers at once must not interleave reading keys and parts. */
  private running: Promise<unknown> = Promise.resolve();

  compile(src: PolicySource): Promise<CompiledPolicy> {
    const next = this.running.then(() => this.compileNow(src));
    this.running = next.catch(() => {});
    return next;
  }

  private async compileNow(src: PolicySource): Promise<CompiledPolicy> {
    const keys = await src.partKeys();
    const stale = new Set((Object.keys(keys) as Array<PartName | 'rest'>).filter((k) => this.keys[k] !== keys[k]));
    if (!stale.size && this.last) return this.last;
    const snap = await src.snapshotOf(stale);
    for (const k of PART_NAMES) if (stale.has(k)) this.parts[k] = part(PARTS[k](snap));
    if (stale.has('rest')) this.rest = { settings: compileSettings(snap.settings), garden: compileGarden(snap.garden) };
    this.keys = keys;
    // Every change bumps the revision and a part key together, so an unchanged key set keeps last's revision.
    this.last = assemble(this.rest!.settings, this.rest!.garden, this.parts as Record<PartName, Part>, snap.revision ?? 0);
    return this.last;
  }
}

export interface SetDelta { set: SetName; add: string[]; remove: string[] }

function sameElements(x: readonly string[], y: readonly string[]): boolean {
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Element changes that turn a's sets into b's; empty when they are equal. */
export function diffSets(a: Record<string, readonly string[]>, b: Record<string, readonly string[]>): SetDelta[] {
  const out: SetDelta[] = [];
  for (const set of SET_NAMES) {
    // Most changes touch one set: an equal list costs one pass of comparisons, not two hash sets of its elements.
    if (sameElements(a[set] ?? [], b[set] ?? [])) continue;
    const before = new Set(a[set] ?? []), after = new Set(b[set] ?? []);
    const add = [...after].filter((e) => !before.has(e));
    const remove = [...before].filter((e) => !after.has(e));
    if (add.length || remove.length) out.push({ set, add, remove });
  }
  return out;
}
