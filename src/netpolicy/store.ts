// The policy model kept in the state store. Every change runs in one
// transaction with its audit record (who, when, what, why) and bumps a
// revision, so that servers can tell an agent "nothing changed" cheaply.
import type { Clock } from '../core/index.ts';
import type { Db, Store } from '../store/index.ts';
import { MIGRATIONS } from './schema.ts';
import type { PartName, PolicySource } from './compile.ts';
import { parseRange } from './prefix.ts';
import {
  DEFAULT_SETTINGS, checkIface, checkNotice, checkPorts, checkPrefix, fail, ok,
  type EdgeSettings, type Exemption, type GardenEntry, type GardenProto, type PolicySnapshot, type Pool,
  type PoolClass, type Quarantine, type Relay, type RelayKind, type Result,
} from './model.ts';

export { MIGRATIONS };

/** Who makes a change and why; both are required so the audit trail is never blank. */
export interface Change { actor: string; reason: string }

export interface AuditRecord { id: number; at: number; actor: string; action: string; object: string; reason: string; detail: string }
export interface BlockedCount { edge: string; source: string; packets: number; destinations: number; reportedAt: number }
/** What an edge said in its last report: what it enforces, and the last pulled policy it refused. */
export interface EdgeStatus {
  edge: string; reportedAt: number; version: string;
  rejected: { version: string; error: string; at: number | null } | null;
  /** Blocked sources the edge left out of its report (it sends the strongest only). */
  omitted: number;
}

type Row = Record<string, unknown>;
const PART_OF: Record<string, PartName> = { pool: 'pools', relay: 'relays', exempt: 'exemptions', quarantine: 'quarantines' };
const str = (v: unknown): string => String(v ?? '');
const num = (v: unknown): number => Number(v);

/** What the policy operations, the edge endpoint and the compiler need from the policy model. */
export interface PolicyRepository extends PolicySource {
  addPool(prefix: string, cls: PoolClass, note: string, c: Change): Promise<Result<unknown>>;
  removePool(prefix: string, c: Change): Promise<Result<unknown>>;
  listPools(): Promise<Pool[]>;
  addRelay(prefix: string, kind: RelayKind, customer: string, note: string, c: Change): Promise<Result<unknown>>;
  removeRelay(prefix: string, c: Change): Promise<Result<unknown>>;
  listRelays(): Promise<Relay[]>;
  addExemption(prefix: string, customer: string, expiresAt: number | null, c: Change): Promise<Result<unknown>>;
  removeExemption(prefix: string, c: Change): Promise<Result<unknown>>;
  listExemptions(includeExpired?: boolean): Promise<Exemption[]>;
  quarantine(prefix: string, subscriber: string, caseId: string, c: Change): Promise<Result<unknown>>;
  release(prefix: string, c: Change): Promise<Result<unknown>>;
  listQuarantines(): Promise<Quarantine[]>;
  addGarden(prefix: string, proto: GardenProto, ports: string, note: string, c: Change): Promise<Result<unknown>>;
  removeGarden(prefix: string, c: Change): Promise<Result<unknown>>;
  listGarden(): Promise<GardenEntry[]>;
  settings(): Promise<EdgeSettings>;
  setSettings(patch: Partial<EdgeSettings>, c: Change): Promise<Result<unknown>>;
  revision(): Promise<number>;
  snapshot(): Promise<PolicySnapshot>;
  audit(limit?: number): Promise<AuditRecord[]>;
  recordApplied(edge: string, version: string, sets: Record<string, readonly string[]>): Promise<void>;
  lastApplied(edge: string): Promise<{ at: number; version: string; sets: Record<string, string[]> } | null>;
  recordBlocked(edge: string, counts: ReadonlyArray<{ source: string; packets: number; destinations: number }>): Promise<void>;
  pruneBlocked(before: number): Promise<number>;
  recordReport(edge: string, r: EdgeReport): Promise<void>;
  recordEdgeReport(edge: string, r: EdgeReport & { applied?: { version: string; sets: Record<string, readonly string[]> }; blocked: BlockedInput; pruneBefore: number }): Promise<void>;
  edges(): Promise<EdgeStatus[]>;
  blocked(limit?: number): Promise<BlockedCount[]>;
}

type EdgeReport = { version: string; rejected?: NonNullable<EdgeStatus['rejected']>; omitted: number };
type BlockedInput = ReadonlyArray<{ source: string; packets: number; destinations: number }>;

const UPSERT = {
  garden: 'INSERT INTO netpolicy_garden (prefix, proto, ports, note) VALUES (?, ?, ?, ?) ON CONFLICT (prefix, proto, ports) DO UPDATE SET note = excluded.note',
  edgeSetting: "INSERT INTO netpolicy_setting (key, value) VALUES ('edge', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  applied: `INSERT INTO netpolicy_applied (edge, at, version, sets) VALUES (?, ?, ?, ?)
    ON CONFLICT (edge) DO UPDATE SET at = excluded.at, version = excluded.version, sets = excluded.sets`,
  report: `INSERT INTO netpolicy_edge (edge, reported_at, version, rejected_version, rejected_error, rejected_at, omitted) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (edge) DO UPDATE SET reported_at = excluded.reported_at, version = excluded.version, rejected_version = excluded.rejected_version,
      rejected_error = excluded.rejected_error, rejected_at = excluded.rejected_at, omitted = excluded.omitted`,
};
/** A source listed twice keeps its largest counts (SQLite's two-argument max is PostgreSQL's GREATEST). */
const blockedSql = (d: Db['dialect']): string => {
  const max = d === 'sqlite' ? 'max' : 'GREATEST';
  return `INSERT INTO netpolicy_blocked (edge, source, packets, destinations, reported_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (edge, source) DO UPDATE SET packets = ${max}(netpolicy_blocked.packets, excluded.packets),
      destinations = ${max}(netpolicy_blocked.destinations, excluded.destinations)`;
};

/** Hears of every committed change (the event bus: policy.changed); must not throw. */
export interface PolicyEvents {
  changed(e: { action: string; object: string; actor: string; reason: string }): void;
}

export class PolicyStore implements PolicyRepository {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly events: PolicyEvents | undefined;
  /** The schema migration started by the constructor; every method waits for it. */
  readonly ready: Promise<void>;

  constructor(store: Store, clock: Clock, events?: PolicyEvents) {
    this.db = store.db;
    this.clock = clock;
    this.events = events;
    this.ready = store.migrate(MIGRATIONS);
    this.ready.catch(() => {}); // reported by the first method that waits for it
  }

  static async open(store: Store, clock: Clock, events?: PolicyEvents): Promise<PolicyStore> {
    const p = new PolicyStore(store, clock, events);
    await p.ready;
    return p;
  }

  private async all(sql: string, params: Parameters<Db['all']>[1] = []): Promise<Row[]> {
    await this.ready;
    return this.db.all(sql, params);
  }

  private async change(c: Change, action: string, object: string, detail: object, fn: (tx: Db) => Promise<Result<unknown>>): Promise<Result<unknown>> {
    if (!c.actor.trim()) return fail('a change needs an actor (who)');
    if (!c.reason.trim()) return fail('a change needs a reason (why)');
    await this.ready;
    const r = await this.db.transaction(async (tx) => {
      const r = await fn(tx);
      if (!r.ok) return r;
      await tx.run('INSERT INTO netpolicy_audit (at, actor, action, object, reason, detail) VALUES (?, ?, ?, ?, ?, ?)',
        [this.clock.now(), c.actor, action, object, c.reason, JSON.stringify(detail)]);
      await tx.run("UPDATE netpolicy_setting SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'revision'");
      const part = `rev.${PART_OF[action.split('.')[0]] ?? 'rest'}`;
      await tx.run("INSERT INTO netpolicy_setting (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(netpolicy_setting.value AS INTEGER) + 1 AS TEXT)", [part]);
      return r;
    });
    // After the commit: a listener never hears of a change that was rolled back.
    if (r.ok) this.events?.changed({ action, object, actor: c.actor, reason: c.reason });
    return r;
  }

  async addPool(prefix: string, cls: PoolClass, note: string, c: Change): Promise<Result<unknown>> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    const r = parseRange(p.value)!;
    // A pool blocks port 25 for all of it: 0.0.0.0/0 or ::/0 (a typo away from a real prefix)
    // would block the whole Internet at the edge. No provider pool is wider than a /8 or a /16.
    const [bits, min] = r.family === 4 ? [32, 8] : [128, 16];
    if (r.hi - r.lo + 1n > 1n << BigInt(bits - min)) return fail(`pool ${p.value} is wider than /${min}: no address pool is that large (a typo?)`);
    // Classes decide blocking, and the compiler merges only blocked classes: a business pool
    // inside a dynamic one would stay blocked whatever the operator meant. Refuse the ambiguity.
    for (const o of await this.all('SELECT prefix, class FROM netpolicy_pool WHERE class != ? AND prefix != ?', [cls, p.value])) {
      const x = parseRange(str(o.prefix));
      if (x && x.family === r.family && x.lo <= r.hi && r.lo <= x.hi) {
        return fail(`pool ${p.value} (${cls}) overlaps pool ${str(o.prefix)} (${str(o.class)}): split the pools, or use an exemption or a relay entry for the hosts that differ`);
      }
    }
    return this.change(c, 'pool.add', p.value, { class: cls, note }, async (tx) => {
      await tx.run('INSERT INTO netpolicy_pool (prefix, class, note) VALUES (?, ?, ?) ON CONFLICT (prefix) DO UPDATE SET class = excluded.class, note = excluded.note',
        [p.value, cls, note]);
      return ok(undefined);
    });
  }

  removePool(prefix: string, c: Change): Promise<Result<unknown>> {
    return this.removeBy('netpolicy_pool', 'pool.remove', prefix, c);
  }

  private async removeBy(table: string, action: string, prefix: string, c: Change): Promise<Result<unknown>> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    return this.change(c, action, p.value, {}, async (tx) => {
      const r = await tx.run(`DELETE FROM ${table} WHERE prefix = ?`, [p.value]);
      return r.changes ? ok(undefined) : fail(`no such entry: ${p.value}`);
    });
  }

  async listPools(): Promise<Pool[]> {
    return (await this.all('SELECT prefix, class, note FROM netpolicy_pool ORDER BY prefix'))
      .map((r) => ({ prefix: str(r.prefix), class: str(r.class) as PoolClass, note: str(r.note) }));
  }

  async addRelay(prefix: string, kind: RelayKind, customer: string, note: string, c: Change): Promise<Result<unknown>> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    if (kind === 'customer' && !customer.trim()) return fail('a customer relay names its customer');
    return this.change(c, 'relay.add', p.value, { kind, customer, note }, async (tx) => {
      await tx.run('INSERT INTO netpolicy_relay (prefix, kind, customer, note) VALUES (?, ?, ?, ?) ON CONFLICT (prefix) DO UPDATE SET kind = excluded.kind, customer = excluded.customer, note = excluded.note',
        [p.value, kind, customer, note]);
      return ok(undefined);
    });
  }

  removeRelay(prefix: string, c: Change): Promise<Result<unknown>> {
    return this.removeBy('netpolicy_relay', 'relay.remove', prefix, c);
  }

  async listRelays(): Promise<Relay[]> {
    return (await this.all('SELECT prefix, kind, customer, note FROM netpolicy_relay ORDER BY prefix'))
      .map((r) => ({ prefix: str(r.prefix), kind: str(r.kind) as RelayKind, customer: str(r.customer), note: str(r.note) }));
  }

  /** Grants an exemption; expiresAt null means until revoked. The reason of the Change is the exemption's reason. */
  async addExemption(prefix: string, customer: string, expiresAt: number | null, c: Change): Promise<Result<unknown>> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    if (!customer.trim()) return fail('an exemption names its customer');
    const now = this.clock.now();
    if (expiresAt !== null && expiresAt <= now) return fail('expiry is in the past');
    return this.change(c, 'exempt.add', p.value, { customer, expiresAt }, async (tx) => {
      const r = await tx.get<{ id: number }>('INSERT INTO netpolicy_exempt (prefix, customer, reason, granted_by, granted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
        [p.value, customer, c.reason, c.actor, now, expiresAt]);
      return ok(Number(r!.id));
    });
  }

  /** Revokes every exemption of the prefix (abuse revokes by address, not by grant). */
  removeExemption(prefix: string, c: Change): Promise<Result<unknown>> {
    return this.removeBy('netpolicy_exempt', 'exempt.remove', prefix, c);
  }

  async listExemptions(includeExpired = false): Promise<Exemption[]> {
    const now = this.clock.now();
    const rows = includeExpired
      ? await this.all('SELECT * FROM netpolicy_exempt ORDER BY prefix, id')
      : await this.all('SELECT * FROM netpolicy_exempt WHERE expires_at IS NULL OR expires_at > ? ORDER BY prefix, id', [now]);
    return rows.map((r) => ({
      id: num(r.id), prefix: str(r.prefix), customer: str(r.customer), reason: str(r.reason),
      grantedBy: str(r.granted_by), grantedAt: num(r.granted_at), expiresAt: r.expires_at === null ? null : num(r.expires_at),
    }));
  }

  async quarantine(prefix: string, subscriber: string, caseId: string, c: Change): Promise<Result<unknown>> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    if (!subscriber.trim()) return fail('a quarantine names its subscriber');
    return this.change(c, 'quarantine.add', p.value, { subscriber, caseId }, async (tx) => {
      await tx.run('INSERT INTO netpolicy_quarantine (prefix, subscriber, reason, case_id, since, by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (prefix) DO UPDATE SET subscriber = excluded.subscriber, reason = excluded.reason, case_id = excluded.case_id',
        [p.value, subscriber, c.reason, caseId, this.clock.now(), c.actor]);
      return ok(undefined);
    });
  }

  release(prefix: string, c: Change): Promise<Result<unknown>> {
    return this.removeBy('netpolicy_quarantine', 'quarantine.remove', prefix, c);
  }

  async listQuarantines(): Promise<Quarantine[]> {
    return (await this.all('SELECT * FROM netpolicy_quarantine ORDER BY prefix')).map((r) => ({
      prefix: str(r.prefix), subscriber: str(r.subscriber), reason: str(r.reason), caseId: str(r.case_id), since: num(r.since), by: str(r.by),
    }));
  }

  async addGarden(prefix: string, proto: GardenProto, ports: string, note: string, c: Change): Promise<Result<unknown>> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    const pt = checkPorts(ports);
    if (!pt.ok) return pt;
    return this.change(c, 'garden.add', `${p.value} ${proto} ${pt.value}`, { note }, async (tx) => {
      await tx.run(UPSERT.garden, [p.value, proto, pt.value, note]);
      return ok(undefined);
    });
  }

  /** Removes every walled-garden entry for the prefix. */
  removeGarden(prefix: string, c: Change): Promise<Result<unknown>> {
    return this.removeBy('netpolicy_garden', 'garden.remove', prefix, c);
  }

  async listGarden(): Promise<GardenEntry[]> {
    return (await this.all('SELECT * FROM netpolicy_garden ORDER BY prefix, proto, ports'))
      .map((r) => ({ prefix: str(r.prefix), proto: str(r.proto) as GardenProto, ports: str(r.ports), note: str(r.note) }));
  }

  async settings(): Promise<EdgeSettings> {
    const [row] = await this.all("SELECT value FROM netpolicy_setting WHERE key = 'edge'");
    return row ? { ...DEFAULT_SETTINGS, ...(JSON.parse(str(row.value)) as Partial<EdgeSettings>) } : { ...DEFAULT_SETTINGS };
  }

  async setSettings(patch: Partial<EdgeSettings>, c: Change): Promise<Result<unknown>> {
    for (const name of [...(patch.subscriberIfaces ?? []), ...(patch.upstreamIfaces ?? [])]) {
      const r = checkIface(name);
      if (!r.ok) return r;
    }
    const next: EdgeSettings = { ...(await this.settings()), ...patch };
    // A notice address is canonical in the store (the compiled version must not depend on its spelling); "" clears it.
    for (const f of [4, 6] as const) {
      const key = `notice${f}` as const;
      if (patch[key] === undefined) continue;
      if (patch[key] === '') { delete next[key]; continue; }
      const r = checkNotice(patch[key], f);
      if (!r.ok) return r;
      next[key] = r.value;
    }
    return this.change(c, 'settings.set', 'edge', patch, async (tx) => {
      await tx.run(UPSERT.edgeSetting, [JSON.stringify(next)]);
      return ok(undefined);
    });
  }

  /** Changes whenever the stated policy changes; expiries are counted separately (expiredCount). */
  async revision(): Promise<number> {
    return num((await this.all("SELECT value FROM netpolicy_setting WHERE key = 'revision'"))[0].value);
  }

  /** How many exemptions have expired by now: with revision(), a cheap cache key for the compiled policy. */
  async expiredCount(): Promise<number> {
    return num((await this.all('SELECT COUNT(*) AS n FROM netpolicy_exempt WHERE expires_at <= ?', [this.clock.now()]))[0].n);
  }

  /** Per-part change keys for PolicyCompiler; exemptions also move when one expires. */
  async partKeys(): Promise<Record<PartName | 'rest', string>> {
    const revs = new Map<string, string>();
    for (const r of await this.all("SELECT key, value FROM netpolicy_setting WHERE key LIKE 'rev.%'")) revs.set(str(r.key), str(r.value));
    const k = (p: string): string => revs.get(`rev.${p}`) ?? '0';
    return { pools: k('pools'), relays: k('relays'), exemptions: `${k('exemptions')}:${await this.expiredCount()}`, quarantines: k('quarantines'), rest: k('rest') };
  }

  async snapshotOf(parts: ReadonlySet<PartName | 'rest'>): Promise<PolicySnapshot> {
    return {
      at: this.clock.now(),
      revision: await this.revision(),
      pools: parts.has('pools') ? await this.listPools() : [],
      relays: parts.has('relays') ? await this.listRelays() : [],
      exemptions: parts.has('exemptions') ? await this.listExemptions() : [],
      quarantines: parts.has('quarantines') ? await this.listQuarantines() : [],
      garden: parts.has('rest') ? await this.listGarden() : [],
      settings: parts.has('rest') ? await this.settings() : { ...DEFAULT_SETTINGS },
    };
  }

  snapshot(): Promise<PolicySnapshot> {
    return this.snapshotOf(new Set(['pools', 'relays', 'exemptions', 'quarantines', 'rest']));
  }

  async audit(limit = 100): Promise<AuditRecord[]> {
    return (await this.all('SELECT * FROM netpolicy_audit ORDER BY id DESC LIMIT ?', [limit])).map((r) => ({
      id: num(r.id), at: num(r.at), actor: str(r.actor), action: str(r.action), object: str(r.object), reason: str(r.reason), detail: str(r.detail),
    }));
  }

  /** Remembers what an edge runs, so `policy diff` can show what the next apply changes. */
  async recordApplied(edge: string, version: string, sets: Record<string, readonly string[]>, tx?: Db): Promise<void> {
    await this.ready;
    await (tx ?? this.db).run(UPSERT.applied, [edge, this.clock.now(), version, JSON.stringify(sets)]);
  }

  async lastApplied(edge: string): Promise<{ at: number; version: string; sets: Record<string, string[]> } | null> {
    const [r] = await this.all('SELECT * FROM netpolicy_applied WHERE edge = ?', [edge]);
    return r ? { at: num(r.at), version: str(r.version), sets: JSON.parse(str(r.sets)) as Record<string, string[]> } : null;
  }

  /**
   * Replaces an edge's blocked-attempt counters (the edge reports its whole dynamic set each time).
   * A source listed twice keeps its largest counts: a repeated entry must neither fail nor inflate.
   */
  async recordBlocked(edge: string, counts: BlockedInput, tx?: Db): Promise<void> {
    const now = this.clock.now();
    await this.ready;
    await (tx ?? this.db).transaction(async (t) => {
      await t.run('DELETE FROM netpolicy_blocked WHERE edge = ?', [edge]);
      const ins = blockedSql(t.dialect);
      for (const c of counts) await t.run(ins, [edge, c.source, c.packets, c.destinations, now]);
    });
  }

  /** Deletes counters no edge has refreshed since `before`; returns how many. */
  async pruneBlocked(before: number, tx?: Db): Promise<number> {
    await this.ready;
    return (await (tx ?? this.db).run('DELETE FROM netpolicy_blocked WHERE reported_at < ?', [before])).changes;
  }

  /** Remembers an edge's last report; a report without a refusal clears the one before. */
  async recordReport(edge: string, r: EdgeReport, tx?: Db): Promise<void> {
    await this.ready;
    await (tx ?? this.db).run(UPSERT.report,
      [edge, this.clock.now(), r.version, r.rejected?.version ?? '', r.rejected?.error ?? '', r.rejected?.at ?? null, r.omitted]);
  }

  /** One edge report as one transaction: what it applied, its blocked counters, its status, and the prune of stale counters. */
  async recordEdgeReport(edge: string, r: EdgeReport & { applied?: { version: string; sets: Record<string, readonly string[]> }; blocked: BlockedInput; pruneBefore: number }): Promise<void> {
    await this.ready;
    await this.db.transaction(async (tx) => {
      if (r.applied) await this.recordApplied(edge, r.applied.version, r.applied.sets, tx);
      await this.recordBlocked(edge, r.blocked, tx);
      await this.recordReport(edge, r, tx);
      await this.pruneBlocked(r.pruneBefore, tx);
    });
  }

  async edges(): Promise<EdgeStatus[]> {
    return (await this.all('SELECT * FROM netpolicy_edge ORDER BY edge')).map((r) => ({
      edge: str(r.edge), reportedAt: num(r.reported_at), version: str(r.version), omitted: num(r.omitted),
      rejected: r.rejected_error === '' ? null : { version: str(r.rejected_version), error: str(r.rejected_error), at: r.rejected_at === null ? null : num(r.rejected_at) },
    }));
  }

  /** Blocked port-25 attempts per source, strongest first: the zombie signal abuse reads (G6). */
  async blocked(limit = 1000): Promise<BlockedCount[]> {
    return (await this.all('SELECT * FROM netpolicy_blocked ORDER BY destinations DESC, packets DESC, source LIMIT ?', [limit])).map((r) => ({
      edge: str(r.edge), source: str(r.source), packets: num(r.packets), destinations: num(r.destinations), reportedAt: num(r.reported_at),
    }));
  }
}
