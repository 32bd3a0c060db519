// The retire part's contract (issue 14, REQUIREMENTS K1–K5): an old alias
// domain (a shell host's name kept as a mail domain) on its way out, the users
// who objected and still receive there, and what a recipient under it gets.
// decide.ts answers from these records alone (pure, in memory: the socketmap
// serves ≥ 20 k lookups/s from a snapshot); the repository keeps them in the
// store; the postfix part serves the answers over socketmap and tcp_table.

/** By date, in this order; `gone` only when nobody is kept (else the domain stays in refuse). */
export type RetirePhase = 'announced' | 'warn' | 'tempfail' | 'refuse' | 'gone';
export const RETIRE_PHASES: readonly RetirePhase[] = ['announced', 'warn', 'tempfail', 'refuse', 'gone'];

export interface RetiredDomain {
  /** Lower-case A-label, no trailing dot (auth's canonicalDomain). */
  domain: string;
  /** When each phase begins (ms since the epoch), non-decreasing; `refuseAt` is the objection deadline. goneAt null: never automatically. */
  warnAt: number;
  tempfailAt: number;
  refuseAt: number;
  goneAt: number | null;
  /** Set when the desk took the domain back out of retirement (K5's re-enable path): from then on nothing is decided for it. */
  cancelledAt: number | null;
  /** The domain users move to, named in the notices (never in SMTP replies). */
  successor: string | null;
  createdAt: number;
  actor: string;
  reason: string;
}

/** A user under a retired domain who objected (kept) or who moved and asked senders to be told (reveal). */
export interface RetiredUser {
  domain: string;
  /** Lower-case local part (the one form used everywhere). */
  localPart: string;
  /** Kept: mail to localPart@domain is still accepted, and the alias map rewrites it to deliverTo. */
  keep: boolean;
  /** The address the user receives at now (their mailbox). */
  deliverTo: string;
  /** Only when the user asked: refused senders are told deliverTo (551 5.1.6); otherwise never revealed (K2). */
  reveal: boolean;
  /** Who recorded it (the user through the portal, a staff member, the CLI) and why (K5: who was kept and why). */
  actor: string;
  reason: string;
  at: number;
}

/** What a recipient under a retired domain gets at RCPT, at one moment. */
export type RetireAnswer =
  /** The domain is not retired (or retirement was cancelled): portwarden has no opinion. */
  | { kind: 'none' }
  /** Accepted; deliverTo is the kept user's mailbox (the alias map's answer), null when the phase still accepts everyone. */
  | { kind: 'accept'; phase: RetirePhase; deliverTo: string | null }
  /** Phase warn: accepted, and Postfix logs the warning (access(5) WARN). */
  | { kind: 'warn'; phase: 'warn'; text: string }
  | { kind: 'tempfail'; phase: 'tempfail'; reply: import('../core/index.ts').Reply }
  | { kind: 'refuse'; phase: 'refuse' | 'gone'; reply: import('../core/index.ts').Reply };

/** A domain's records as the decision needs them. */
export interface RetiredEntry {
  domain: RetiredDomain;
  /** By local part. */
  users: ReadonlyMap<string, RetiredUser>;
}
