// What the engine's pieces share: the options, the store, the rule book, the
// in-memory subscriber states, the edge tracker and the counters; and the
// errors a CaseService call answers with (codes of the app's catalogue, so the
// operations pass them on as they are).
import type { AbuseEngineOptions, ActionKind } from '../types.ts';
import type { RuleBook } from './scoring.ts';
import type { SubState } from './state.ts';
import type { CaseStore, DecisionRow } from './store.ts';

export type CaseErrorCode = 'not-found' | 'conflict' | 'invalid-value';
export class CaseError extends Error {
  readonly code: CaseErrorCode;
  constructor(code: CaseErrorCode, message: string) {
    super(message);
    this.name = 'CaseError';
    this.code = code;
  }
}

export type UnattributedReason = 'no-holder' | 'ambiguous' | 'no-address' | 'lookup-error';

/** Counters since start (the wiring may turn them into metrics). */
export interface AbuseStats {
  /** Accepted into the queue. */
  ingested: number;
  /** Refused: the queue was full. */
  dropped: number;
  /** Refused: not a signal (unknown class, non-finite time or amount). */
  invalid: number;
  /** Joined, scored and stored (attributed or not). */
  processed: number;
  /** Not attributed to anyone, by reason (kept in abuse_unattributed). */
  unattributed: Record<UnattributedReason, number>;
  /** Lost: the store refused the batch they were in. */
  failed: number;
  casesOpened: number;
  /** Decisions taken, by action (immune ones included). */
  decisions: Record<ActionKind, number>;
  immune: number;
  /** Enforcement calls that failed (retried by the sweep). */
  enforceFailures: number;
}

export function newStats(): AbuseStats {
  return {
    ingested: 0, dropped: 0, invalid: 0, processed: 0, failed: 0, casesOpened: 0, immune: 0, enforceFailures: 0,
    unattributed: { 'no-holder': 0, ambiguous: 0, 'no-address': 0, 'lookup-error': 0 },
    decisions: { notify: 0, quarantine: 0, suspend: 0, 'revoke-exemption': 0 },
  };
}

/** Decisions with a policy revision, not yet released, and the edges seen enforcing them. */
export class EdgeTracker {
  readonly live = new Map<number, { caseId: number; at: number; revision: number; edges: Set<string> }>();

  track(d: DecisionRow, edges: Iterable<string> = []): void {
    if (d.revision === null || d.state !== 'active') return;
    this.live.set(d.id, { caseId: d.caseId, at: d.at, revision: d.revision, edges: new Set(edges) });
  }
  untrack(id: number): void { this.live.delete(id); }
  /** Decisions this acknowledgement newly covers. */
  due(edge: string, revision: number): number[] {
    const out: number[] = [];
    for (const [id, t] of this.live) if (t.revision <= revision && !t.edges.has(edge)) out.push(id);
    return out;
  }
}

export interface Ctx {
  readonly o: AbuseEngineOptions;
  readonly store: CaseStore;
  readonly book: RuleBook;
  readonly subs: Map<string, SubState>;
  readonly edges: EdgeTracker;
  readonly stats: AbuseStats;
}

export const normSubscriber = (s: string): string => s.trim().toLowerCase();
