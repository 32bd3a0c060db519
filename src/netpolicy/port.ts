// What the policy commands need of the policy: a part of PolicyStore's own
// repository interface. PolicyStore is one; the portwarden CLI gives the
// application layer's policy operations in this shape (scoped and audited).
import type { PolicyRepository } from './store.ts';

export type PolicyPort = Pick<PolicyRepository,
  | 'addPool' | 'removePool' | 'listPools' | 'addRelay' | 'removeRelay' | 'listRelays'
  | 'addExemption' | 'removeExemption' | 'listExemptions' | 'quarantine' | 'release' | 'listQuarantines'
  | 'addGarden' | 'removeGarden' | 'listGarden' | 'setSettings' | 'snapshot' | 'audit' | 'lastApplied' | 'edges' | 'blocked'>;
