// The policy model kept in the state store. Every change runs in one
// transaction with its audit record (who, when, what, why) and bumps a
// revision, so that servers can tell an agent "nothing changed" cheaply.
import type { Clock } from '../core/index.ts';
import type { Store, Migration } from '../store/index.ts';
import type { PartName, PolicySource } from './compile.ts';
import { parseRange } from './prefix.ts';
import {
  DEFAULT_SETTINGS, checkIface, checkPorts, checkPrefix, fail, ok,
  type EdgeSettings, type Exemption, type GardenEntry, type GardenProto, type PolicySnapshot, type Pool,
  type PoolClass, type Quarantine, type Relay, type RelayKind, type Result,
} from './model.ts';

export const MIGRATIONS: readonly Migration[] = [{
  id: 'netpolicy/001-model',
  sql: `
    CREATE TABLE netpolicy_pool (prefix TEXT PRIMARY KEY, class TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
    CREATE TABLE netpolicy_relay (prefix TEXT PRIMARY KEY, kind TEXT NOT NULL, customer TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '');
    CREATE TABLE netpolicy_exempt (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, customer TEXT NOT NULL, reason TEXT NOT NULL,
      granted_by TEXT NOT NULL, granted_at INTEGER NOT NULL, expires_at INTEGER);
    CREATE INDEX netpolicy_exempt_prefix ON netpolicy_exempt (prefix);
    CREATE INDEX netpolicy_exempt_expiry ON netpolicy_exempt (expires_at);
    CREATE TABLE netpolicy_quarantine (prefix TEXT PRIMARY KEY, subscriber TEXT NOT NULL, reason TEXT NOT NULL,
      case_id TEXT NOT NULL DEFAULT '', since INTEGER NOT NULL, by TEXT NOT NULL);
    CREATE TABLE netpolicy_garden (prefix TEXT NOT NULL, proto TEXT NOT NULL, ports TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
      PRIMARY KEY (prefix, proto, ports));
    CREATE TABLE netpolicy_setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE netpolicy_audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
      object TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
    CREATE TABLE netpolicy_applied (edge TEXT PRIMARY KEY, at INTEGER NOT NULL, version TEXT NOT NULL, sets TEXT NOT NULL);
    CREATE TABLE netpolicy_blocked (edge TEXT NOT NULL, source TEXT NOT NULL, packets INTEGER NOT NULL, destinations INTEGER NOT NULL,
      reported_at INTEGER NOT NULL, PRIMARY KEY (edge, source));
    INSERT INTO netpolicy_setting (key, value) VALUES ('revision', '0');
  `,
}, {
  id: 'netpolicy/002-edge-status',
  sql: `
    CREATE TABLE netpolicy_edge (edge TEXT PRIMARY KEY, reported_at INTEGER NOT NULL, version TEXT NOT NULL,
      rejected_version TEXT NOT NULL DEFAULT '', rejected_error TEXT NOT NULL DEFAULT '', rejected_at INTEGER,
      omitted INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX netpolicy_blocked_reported ON netpolicy_blocked (reported_at);
  `,
}, {
  // Rows written before checkPrefix returned one canonical spelling hold prefixes as typed
  // (lower-cased only). Rewritten once, in JavaScript because SQL cannot print RFC 5952; where two
  // spellings of one prefix collide, the row rewritten last stands (OR REPLACE).
  id: 'netpolicy/003-canonical-prefixes',
  sql: '',
  run: (db) => {
    for (const table of ['netpolicy_pool', 'netpolicy_relay', 'netpolicy_exempt', 'netpolicy_quarantine', 'netpolicy_garden']) {
      const update = db.prepare(`UPDATE OR REPLACE ${table} SET prefix = ? WHERE prefix = ?`);
      for (const r of db.prepare(`SELECT DISTINCT prefix FROM ${table}`).all() as Row[]) {
        const c = checkPrefix(str(r.prefix));
        if (c.ok && c.value !== r.prefix) update.run(c.value, str(r.prefix));
      }
    }
  },
}];

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

/** Hears of every committed change (the event bus: policy.changed); must not throw. */
export interface PolicyEvents {
  changed(e: { action: string; object: string; actor: string; reason: string }): void;
}

export class PolicyStore implements PolicySource {
  readonly store: Store;
  private readonly clock: Clock;
  private readonly events: PolicyEvents | undefined;

  constructor(store: Store, clock: Clock, events?: PolicyEvents) {
    this.store = store;
    this.clock = clock;
    this.events = events;
    store.migrate(MIGRATIONS);
  }

  private q(sql: string) { return this.store.db.prepare(sql); }

  private change(c: Change, action: string, object: string, detail: object, fn: () => Result<unknown>): Result<unknown> {
    if (!c.actor.trim()) return fail('a change needs an actor (who)');
    if (!c.reason.trim()) return fail('a change needs a reason (why)');
    const r = this.store.transaction(() => {
      const r = fn();
      if (!r.ok) return r;
      this.q('INSERT INTO netpolicy_audit (at, actor, action, object, reason, detail) VALUES (?, ?, ?, ?, ?, ?)')
        .run(this.clock.now(), c.actor, action, object, c.reason, JSON.stringify(detail));
      this.q("UPDATE netpolicy_setting SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'").run();
      const part = `rev.${PART_OF[action.split('.')[0]] ?? 'rest'}`;
      this.q("INSERT INTO netpolicy_setting (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1").run(part);
      return r;
    });
    // After the commit: a listener never hears of a change that was rolled back.
    if (r.ok) this.events?.changed({ action, object, actor: c.actor, reason: c.reason });
    return r;
  }

  addPool(prefix: string, cls: PoolClass, note: string, c: Change): Result<unknown> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    const r = parseRange(p.value)!;
    // A pool blocks port 25 for all of it: 0.0.0.0/0 or ::/0 (a typo away from a real prefix)
    // would block the whole Internet at the edge. No provider pool is wider than a /8 or a /16.
    const [bits, min] = r.family === 4 ? [32, 8] : [128, 16];
    if (r.hi - r.lo + 1n > 1n << BigInt(bits - min)) return fail(`pool ${p.value} is wider than /${min}: no address pool is that large (a typo?)`);
    // Classes decide blocking, and the compiler merges only blocked classes: a business pool
    // inside a dynamic one would stay blocked whatever the operator meant. Refuse the ambiguity.
    for (const o of this.q('SELECT prefix, class FROM netpolicy_pool WHERE class != ? AND prefix != ?').all(cls, p.value) as Row[]) {
      const x = parseRange(str(o.prefix));
      if (x && x.family === r.family && x.lo <= r.hi && r.lo <= x.hi) {
        return fail(`pool ${p.value} (${cls}) overlaps pool ${str(o.prefix)} (${str(o.class)}): split the pools, or use an exemption or a relay entry for the hosts that differ`);
      }
    }
    return this.change(c, 'pool.add', p.value, { class: cls, note }, () => {
      this.q('INSERT INTO netpolicy_pool (prefix, class, note) VALUES (?, ?, ?) ON CONFLICT (prefix) DO UPDATE SET class = excluded.class, note = excluded.note')
        .run(p.value, cls, note);
      return ok(undefined);
    });
  }

  removePool(prefix: string, c: Change): Result<unknown> {
    return this.removeBy('netpolicy_pool', 'pool.remove', prefix, c);
  }

  private removeBy(table: string, action: string, prefix: string, c: Change): Result<unknown> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    return this.change(c, action, p.value, {}, () => {
      const r = this.q(`DELETE FROM ${table} WHERE prefix = ?`).run(p.value);
      return r.changes ? ok(undefined) : fail(`no such entry: ${p.value}`);
    });
  }

  listPools(): Pool[] {
    return this.q('SELECT prefix, class, note FROM netpolicy_pool ORDER BY prefix').all()
      .map((r: Row) => ({ prefix: str(r.prefix), class: str(r.class) as PoolClass, note: str(r.note) }));
  }

  addRelay(prefix: string, kind: RelayKind, customer: string, note: string, c: Change): Result<unknown> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    if (kind === 'customer' && !customer.trim()) return fail('a customer relay names its customer');
    return this.change(c, 'relay.add', p.value, { kind, customer, note }, () => {
      this.q('INSERT INTO netpolicy_relay (prefix, kind, customer, note) VALUES (?, ?, ?, ?) ON CONFLICT (prefix) DO UPDATE SET kind = excluded.kind, customer = excluded.customer, note = excluded.note')
        .run(p.value, kind, customer, note);
      return ok(undefined);
    });
  }

  removeRelay(prefix: string, c: Change): Result<unknown> {
    return this.removeBy('netpolicy_relay', 'relay.remove', prefix, c);
  }

  listRelays(): Relay[] {
    return this.q('SELECT prefix, kind, customer, note FROM netpolicy_relay ORDER BY prefix').all()
      .map((r: Row) => ({ prefix: str(r.prefix), kind: str(r.kind) as RelayKind, customer: str(r.customer), note: str(r.note) }));
  }

  /** Grants an exemption; expiresAt null means until revoked. The reason of the Change is the exemption's reason. */
  addExemption(prefix: string, customer: string, expiresAt: number | null, c: Change): Result<unknown> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    if (!customer.trim()) return fail('an exemption names its customer');
    const now = this.clock.now();
    if (expiresAt !== null && expiresAt <= now) return fail('expiry is in the past');
    return this.change(c, 'exempt.add', p.value, { customer, expiresAt }, () => {
      const r = this.q('INSERT INTO netpolicy_exempt (prefix, customer, reason, granted_by, granted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(p.value, customer, c.reason, c.actor, now, expiresAt);
      return ok(Number(r.lastInsertRowid));
    });
  }

  /** Revokes every exemption of the prefix (abuse revokes by address, not by grant). */
  removeExemption(prefix: string, c: Change): Result<unknown> {
    return this.removeBy('netpolicy_exempt', 'exempt.remove', prefix, c);
  }

  listExemptions(includeExpired = false): Exemption[] {
    const now = this.clock.now();
    const rows = includeExpired
      ? this.q('SELECT * FROM netpolicy_exempt ORDER BY prefix, id').all()
      : this.q('SELECT * FROM netpolicy_exempt WHERE expires_at IS NULL OR expires_at > ? ORDER BY prefix, id').all(now);
    return rows.map((r: Row) => ({
      id: num(r.id), prefix: str(r.prefix), customer: str(r.customer), reason: str(r.reason),
      grantedBy: str(r.granted_by), grantedAt: num(r.granted_at), expiresAt: r.expires_at === null ? null : num(r.expires_at),
    }));
  }

  quarantine(prefix: string, subscriber: string, caseId: string, c: Change): Result<unknown> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    if (!subscriber.trim()) return fail('a quarantine names its subscriber');
    return this.change(c, 'quarantine.add', p.value, { subscriber, caseId }, () => {
      this.q('INSERT INTO netpolicy_quarantine (prefix, subscriber, reason, case_id, since, by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (prefix) DO UPDATE SET subscriber = excluded.subscriber, reason = excluded.reason, case_id = excluded.case_id')
        .run(p.value, subscriber, c.reason, caseId, this.clock.now(), c.actor);
      return ok(undefined);
    });
  }

  release(prefix: string, c: Change): Result<unknown> {
    return this.removeBy('netpolicy_quarantine', 'quarantine.remove', prefix, c);
  }

  listQuarantines(): Quarantine[] {
    return this.q('SELECT * FROM netpolicy_quarantine ORDER BY prefix').all().map((r: Row) => ({
      prefix: str(r.prefix), subscriber: str(r.subscriber), reason: str(r.reason), caseId: str(r.case_id), since: num(r.since), by: str(r.by),
    }));
  }

  addGarden(prefix: string, proto: GardenProto, ports: string, note: string, c: Change): Result<unknown> {
    const p = checkPrefix(prefix);
    if (!p.ok) return p;
    const pt = checkPorts(ports);
    if (!pt.ok) return pt;
    return this.change(c, 'garden.add', `${p.value} ${proto} ${pt.value}`, { note }, () => {
      this.q('INSERT OR REPLACE INTO netpolicy_garden (prefix, proto, ports, note) VALUES (?, ?, ?, ?)').run(p.value, proto, pt.value, note);
      return ok(undefined);
    });
  }

  /** Removes every walled-garden entry for the prefix. */
  removeGarden(prefix: string, c: Change): Result<unknown> {
    return this.removeBy('netpolicy_garden', 'garden.remove', prefix, c);
  }

  listGarden(): GardenEntry[] {
    return this.q('SELECT * FROM netpolicy_garden ORDER BY prefix, proto, ports').all()
      .map((r: Row) => ({ prefix: str(r.prefix), proto: str(r.proto) as GardenProto, ports: str(r.ports), note: str(r.note) }));
  }

  settings(): EdgeSettings {
    const row = this.q("SELECT value FROM netpolicy_setting WHERE key = 'edge'").get() as Row | undefined;
    return row ? { ...DEFAULT_SETTINGS, ...(JSON.parse(str(row.value)) as Partial<EdgeSettings>) } : { ...DEFAULT_SETTINGS };
  }

  setSettings(patch: Partial<EdgeSettings>, c: Change): Result<unknown> {
    for (const name of [...(patch.subscriberIfaces ?? []), ...(patch.upstreamIfaces ?? [])]) {
      const r = checkIface(name);
      if (!r.ok) return r;
    }
    const next = { ...this.settings(), ...patch };
    return this.change(c, 'settings.set', 'edge', patch, () => {
      this.q("INSERT OR REPLACE INTO netpolicy_setting (key, value) VALUES ('edge', ?)").run(JSON.stringify(next));
      return ok(undefined);
    });
  }

  /** Changes whenever the stated policy changes; expiries are counted separately (expiredCount). */
  revision(): number {
    return num((this.q("SELECT value FROM netpolicy_setting WHERE key = 'revision'").get() as Row).value);
  }

  /** How many exemptions have expired by now: with revision(), a cheap cache key for the compiled policy. */
  expiredCount(): number {
    return num((this.q('SELECT COUNT(*) AS n FROM netpolicy_exempt WHERE expires_at <= ?').get(this.clock.now()) as Row).n);
  }

  /** Per-part change keys for PolicyCompiler; exemptions also move when one expires. */
  partKeys(): Record<PartName | 'rest', string> {
    const revs = new Map<string, string>();
    for (const r of this.q("SELECT key, value FROM netpolicy_setting WHERE key LIKE 'rev.%'").all() as Row[]) revs.set(str(r.key), str(r.value));
    const k = (p: string): string => revs.get(`rev.${p}`) ?? '0';
    return { pools: k('pools'), relays: k('relays'), exemptions: `${k('exemptions')}:${this.expiredCount()}`, quarantines: k('quarantines'), rest: k('rest') };
  }

  snapshotOf(parts: ReadonlySet<PartName | 'rest'>): PolicySnapshot {
    return {
      at: this.clock.now(),
      revision: this.revision(),
      pools: parts.has('pools') ? this.listPools() : [],
      relays: parts.has('relays') ? this.listRelays() : [],
      exemptions: parts.has('exemptions') ? this.listExemptions() : [],
      quarantines: parts.has('quarantines') ? this.listQuarantines() : [],
      garden: parts.has('rest') ? this.listGarden() : [],
      settings: parts.has('rest') ? this.settings() : { ...DEFAULT_SETTINGS },
    };
  }

  snapshot(): PolicySnapshot {
    return {
      at: this.clock.now(),
      revision: this.revision(),
      pools: this.listPools(),
      relays: this.listRelays(),
      exemptions: this.listExemptions(),
      quarantines: this.listQuarantines(),
      garden: this.listGarden(),
      settings: this.settings(),
    };
  }

  audit(limit = 100): AuditRecord[] {
    return this.q('SELECT * FROM netpolicy_audit ORDER BY id DESC LIMIT ?').all(limit).map((r: Row) => ({
      id: num(r.id), at: num(r.at), actor: str(r.actor), action: str(r.action), object: str(r.object), reason: str(r.reason), detail: str(r.detail),
    }));
  }

  /** Remembers what an edge runs, so `policy diff` can show what the next apply changes. */
  recordApplied(edge: string, version: string, sets: Record<string, readonly string[]>): void {
    this.q('INSERT OR REPLACE INTO netpolicy_applied (edge, at, version, sets) VALUES (?, ?, ?, ?)')
      .run(edge, this.clock.now(), version, JSON.stringify(sets));
  }

  lastApplied(edge: string): { at: number; version: string; sets: Record<string, string[]> } | null {
    const r = this.q('SELECT * FROM netpolicy_applied WHERE edge = ?').get(edge) as Row | undefined;
    return r ? { at: num(r.at), version: str(r.version), sets: JSON.parse(str(r.sets)) as Record<string, string[]> } : null;
  }

  /**
   * Replaces an edge's blocked-attempt counters (the edge reports its whole dynamic set each time).
   * A source listed twice keeps its largest counts: a repeated entry must neither fail nor inflate.
   */
  recordBlocked(edge: string, counts: ReadonlyArray<{ source: string; packets: number; destinations: number }>): void {
    const now = this.clock.now();
    this.store.transaction(() => {
      this.q('DELETE FROM netpolicy_blocked WHERE edge = ?').run(edge);
      const ins = this.q(`INSERT INTO netpolicy_blocked (edge, source, packets, destinations, reported_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (edge, source) DO UPDATE SET packets = max(packets, excluded.packets), destinations = max(destinations, excluded.destinations)`);
      for (const c of counts) ins.run(edge, c.source, c.packets, c.destinations, now);
    });
  }

  /** Deletes counters no edge has refreshed since `before`; returns how many. */
  pruneBlocked(before: number): number {
    return Number(this.q('DELETE FROM netpolicy_blocked WHERE reported_at < ?').run(before).changes);
  }

  /** Remembers an edge's last report; a report without a refusal clears the one before. */
  recordReport(edge: string, r: { version: string; rejected?: NonNullable<EdgeStatus['rejected']>; omitted: number }): void {
    this.q(`INSERT OR REPLACE INTO netpolicy_edge (edge, reported_at, version, rejected_version, rejected_error, rejected_at, omitted)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(edge, this.clock.now(), r.version, r.rejected?.version ?? '', r.rejected?.error ?? '', r.rejected?.at ?? null, r.omitted);
  }

  edges(): EdgeStatus[] {
    return this.q('SELECT * FROM netpolicy_edge ORDER BY edge').all().map((r: Row) => ({
      edge: str(r.edge), reportedAt: num(r.reported_at), version: str(r.version), omitted: num(r.omitted),
      rejected: r.rejected_error === '' ? null : { version: str(r.rejected_version), error: str(r.rejected_error), at: r.rejected_at === null ? null : num(r.rejected_at) },
    }));
  }

  /** Blocked port-25 attempts per source, strongest first: the zombie signal abuse reads (G6). */
  blocked(limit = 1000): BlockedCount[] {
    return this.q('SELECT * FROM netpolicy_blocked ORDER BY destinations DESC, packets DESC, source LIMIT ?').all(limit).map((r: Row) => ({
      edge: str(r.edge), source: str(r.source), packets: num(r.packets), destinations: num(r.destinations), reportedAt: num(r.reported_at),
    }));
  }
}
