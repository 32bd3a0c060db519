import type { Clock, Logger } from '../core/index.ts';
import type { HolderLookup } from '../directory/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Db } from '../store/index.ts';
import type { Rule, Weights } from './rules.ts';

// The abuse engine's contract: signals in, cases and decisions out.
//
// A signal is one observation about an address (or an account) at a time: it is
// joined to the subscriber who held the address *at that time* (directory), its
// amount times the class weight raises the subscriber's case score, and the
// rules of the config turn windowed sums into decisions (notify, quarantine,
// suspend, revoke an exemption). Decisions are enforced through ports the
// wiring supplies (netpolicy, accounts, spool, notices), so this part knows no
// other part's internals.

/** Signal classes; each has a weight in the config (abuse.classes). */
export const SIGNAL_CLASSES = [
  'edge-blocked',      // blocked outbound port-25 attempts seen by an edge (amount = new attempts)
  'edge-destinations', // distinct destinations of those attempts (amount = new destinations)
  'auth-failure',      // failed AUTH from the address (amount 1)
  'auth-lockout',      // brute-force lockout of the address or account
  'limit-hit',         // a sending limit refused or held a message
  'flood',             // a flood rule fired (limit.flood)
  'report',            // an outside complaint (ARF or plain mail to the abuse mailbox)
  'dnsbl',             // the address is listed in a configured DNSBL zone
] as const;
export type SignalClass = (typeof SIGNAL_CLASSES)[number];

export type Detail = Record<string, string | number | boolean | null>;

export interface Signal {
  class: SignalClass;
  /** When it happened (ms), as the source says, not when we heard it. */
  at: number;
  /** Canonical IP address the signal is about; null when it is about an account only. */
  address: string | null;
  /** Source port (behind CGNAT the address alone names no one); null when unknown. */
  port: number | null;
  /** Set when the source already knows the subscriber (an authenticated account's); else the directory is asked. */
  subscriber: string | null;
  account: string | null;
  /** Units of the class (attempts, destinations, failures, 1 for a report). */
  amount: number;
  /** Where it came from: "edge:NAME", "submission", "policy-service", "mailbox:REPORT-ID", "dnsbl:ZONE". */
  origin: string;
  /** Evidence fields as given (client text is encoded by whoever prints it), with where each value came from when it was derived. */
  detail: Detail;
}

/** Ingest is synchronous and cheap (the engine batches); false: the bounded queue is full and the signal was counted as dropped. */
export interface SignalSink { ingest(s: Signal): boolean }

export const ACTION_KINDS = ['notify', 'quarantine', 'suspend', 'revoke-exemption'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export type CaseState = 'open' | 'closed';

/** An action in force on a case (a notify is in force until its renotify time). */
export interface ActiveAction {
  decision: string;
  action: ActionKind;
  rule: string;
  at: number;
  /** When it lapses by itself; null: until released. */
  until: number | null;
}

export interface CaseSummary {
  id: string;
  subscriber: string;
  state: CaseState;
  openedAt: number;
  closedAt: number | null;
  /** The decayed score at `scoreAt`. */
  score: number;
  scoreAt: number;
  lastSignalAt: number | null;
  active: ActiveAction[];
  selfReleases: number;
  deskReleases: number;
  /** How many times each rule fired on this subscriber before (escalation counts these). */
  recurrences: Record<string, number>;
}

export interface Evidence {
  id: number;
  caseId: string;
  class: SignalClass;
  address: string | null;
  port: number | null;
  account: string | null;
  origin: string;
  /** Signals of one class from one origin and address within a minute are one evidence row: their amounts add up. */
  amount: number;
  count: number;
  firstAt: number;
  lastAt: number;
  detail: Detail;
}

export const TIMELINE_KINDS = ['opened', 'decision', 'enforced', 'notice', 'note', 'release', 'immune', 'expired', 'closed', 'reopened'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineEntry { at: number; kind: TimelineKind; actor: string; text: string; data: Detail }

export interface CaseDetail extends CaseSummary { evidence: Evidence[]; timeline: TimelineEntry[] }

export interface SelfReleaseCheck { allowed: boolean; why: string; quietSince: number | null; left: number }

/** What operations, the notice page and the CLI use. Every mutation names its actor and is audited by the app layer. */
export interface CaseService {
  list(filter?: { state?: CaseState; subscriber?: string; after?: string; limit?: number }): Promise<CaseSummary[]>;
  show(id: string): Promise<CaseDetail | null>;
  /** The open case of the subscriber, if any. */
  openOf(subscriber: string): Promise<CaseSummary | null>;
  note(id: string, text: string, actor: string): Promise<CaseSummary>;
  /** Desk release (any time) or self release (only when selfReleaseCheck allows). Restores the previous policy, exemptions included. */
  release(id: string, actor: string, reason: string, kind: 'desk' | 'self'): Promise<CaseSummary>;
  /** Desk quarantine of a subscriber (opens a case when none is open). */
  quarantine(subscriber: string, actor: string, reason: string, durationS?: number | null): Promise<CaseSummary>;
  selfReleaseCheck(id: string): Promise<SelfReleaseCheck>;
}

/** Enforcement ports, supplied by the wiring (cli/). Each returns what it changed, so a release can undo exactly that. */
export interface Enforcer {
  /** Quarantine these prefixes (netpolicy walled garden); returns the prefixes newly quarantined. */
  quarantine(subscriber: string, caseId: string, prefixes: string[], reason: string): Promise<string[]>;
  unquarantine(prefixes: string[], reason: string): Promise<void>;
  /** Suspend the subscriber's accounts (AUTH answers 525 5.7.13) and hold their queued mail; returns the accounts suspended and queue ids held. */
  suspend(subscriber: string, accounts: string[] | null, reason: string): Promise<{ accounts: string[]; held: string[] }>;
  unsuspend(accounts: string[], reason: string): Promise<void>;
  /** Remove the subscriber's port-25 exemptions; returns them so a release can put them back. */
  revokeExemptions(subscriber: string, prefixes: string[], reason: string): Promise<Array<{ prefix: string; customer: string; expiresAt: number | null }>>;
  restoreExemptions(list: Array<{ prefix: string; customer: string; expiresAt: number | null }>, reason: string): Promise<void>;
  /** The policy revision in force after the last change (the engine records it per decision; an edge's `edge.applied` with a revision at or past it is that decision enforced there: `case.enforced`). */
  policyRevision(): Promise<number>;
}

/** A notice to the subscriber's contacts (through portwarden's own spool and relay). */
export interface NoticeRequest {
  kind: ActionKind | 'released' | 'exemption-renewal';
  caseId: string;
  subscriber: string;
  contacts: string[];
  /** Plain-words evidence summary lines (never a raw report). */
  evidence: string[];
  until: number | null;
  selfRelease: SelfReleaseCheck;
  /** The link the notice carries instead of the case page's (the exemption renewal's portal page). */
  link?: string;
}
export interface NoticeSender { send(n: NoticeRequest): Promise<{ queueIds: string[] }> }

/** What `openAbuseEngine(opts)` (src/abuse/engine.ts) takes. */
export interface AbuseEngineOptions {
  /** The state store (abuse/ migrations: cases, evidence, timeline, decisions). */
  db: Db;
  clock: Clock;
  logger: Logger;
  /** The engine publishes case.* and subscribes to edge.applied (case.enforced) and directory.assigned (quarantine follows a new lease). */
  bus: EventBus;
  directory: HolderLookup;
  enforcer: Enforcer;
  /** Absent: decisions are taken and audited, no notice is mailed (the timeline says so). */
  notices?: NoticeSender;
  rules: Rule[];
  weights: Weights;
  halfLifeMinutes: number;
  closeAfterDays: number;
  queueSize: number;
}

/** The running engine: a signal sink, the case service, and its lifecycle. */
export interface AbuseEngine extends SignalSink {
  readonly cases: CaseService;
  /** Processes every queued signal and runs due sweeps (tests and shutdown). */
  flush(): Promise<void>;
  /** Signals dropped because the queue was full, since start. */
  dropped(): number;
  stop(): Promise<void>;
}
