// What the policy commands need of the policy: PolicyStore's own methods, sync
// or async. PolicyStore is one; the portwarden CLI gives the application
// layer's policy operations in this shape (scoped and audited).
import type {
  EdgeSettings, Exemption, GardenEntry, GardenProto, PolicySnapshot, Pool, PoolClass, Quarantine, Relay, RelayKind, Result,
} from './model.ts';
import type { AuditRecord, BlockedCount, Change, EdgeStatus } from './store.ts';

export type Maybe<T> = T | Promise<T>;
export interface PolicyPort {
  addPool(prefix: string, cls: PoolClass, note: string, c: Change): Maybe<Result<unknown>>;
  removePool(prefix: string, c: Change): Maybe<Result<unknown>>;
  listPools(): Maybe<Pool[]>;
  addRelay(prefix: string, kind: RelayKind, customer: string, note: string, c: Change): Maybe<Result<unknown>>;
  removeRelay(prefix: string, c: Change): Maybe<Result<unknown>>;
  listRelays(): Maybe<Relay[]>;
  addExemption(prefix: string, customer: string, expiresAt: number | null, c: Change): Maybe<Result<unknown>>;
  removeExemption(prefix: string, c: Change): Maybe<Result<unknown>>;
  listExemptions(includeExpired?: boolean): Maybe<Exemption[]>;
  quarantine(prefix: string, subscriber: string, caseId: string, c: Change): Maybe<Result<unknown>>;
  release(prefix: string, c: Change): Maybe<Result<unknown>>;
  listQuarantines(): Maybe<Quarantine[]>;
  addGarden(prefix: string, proto: GardenProto, ports: string, note: string, c: Change): Maybe<Result<unknown>>;
  removeGarden(prefix: string, c: Change): Maybe<Result<unknown>>;
  listGarden(): Maybe<GardenEntry[]>;
  setSettings(patch: Partial<EdgeSettings>, c: Change): Maybe<Result<unknown>>;
  snapshot(): Maybe<PolicySnapshot>;
  audit(limit?: number): Maybe<AuditRecord[]>;
  lastApplied(edge: string): Maybe<{ at: number; version: string; sets: Record<string, string[]> } | null>;
  edges(): Maybe<EdgeStatus[]>;
  blocked(limit?: number): Maybe<BlockedCount[]>;
}

