// What the operations need from the parts. Every front end builds one AppDeps
// with what it has: the CLI opens the state store (accounts, policy,
// attribution, audit) but has no spool or relay; the server's control socket
// and HTTP API have everything. An operation whose dependency is absent
// answers `unavailable`, never a crash.
import type { AccountStore } from '../auth/index.ts';
import type { AttributionLog } from '../accountability/index.ts';
import type { Clock, Logger } from '../core/index.ts';
import type { PolicyStore } from '../netpolicy/index.ts';
import type { DirectoryRepository } from '../directory/index.ts';
import type { CaseService, DnsblListings, ReportStore } from '../abuse/index.ts';
import type { Spool } from '../spool/index.ts';
import type { Points, PointsQuery } from '../stats/index.ts';
import { AppError } from './errors.ts';
import type { AuditLog } from './audit.ts';
import type { TokenRepository } from './tokens.ts';
import type { StaffRepository } from './staff.ts';
import type { ExemptionDesk } from './exemptions.ts';

/** What the queue actions need from the relay: "deliver deferred mail now" (only inside the server). */
export interface RelayKick {
  kick(): Promise<void>;
}

/** The configured limit tiers: an account's tier must be one of them. */
export interface TierPolicy {
  names: readonly string[];
  defaultTier: string;
}

/** The rules in effect for an account and (in the server) their live state. */
export type LimitsLookup = (account: string) => Promise<unknown>;

export interface AppDeps {
  clock: Clock;
  logger: Logger;
  audit?: AuditLog;
  accounts?: AccountStore;
  /** Absent: any tier is taken as given, and a missing one is the store's default. */
  tiers?: TierPolicy | (() => TierPolicy);
  policy?: PolicyStore;
  attribution?: AttributionLog;
  spool?: Spool;
  relay?: RelayKick;
  limits?: LimitsLookup;
  /** false: limits are disabled in the configuration (the limits op says so). */
  limitsEnabled?: boolean;
  /** The admin API's bearer tokens (tokens.* operations). */
  tokens?: TokenRepository;
  /** Subscribers and their address history (directory part). */
  directory?: DirectoryRepository;
  /** The abuse engine's cases (only where the engine runs: the server, or the CLI on the shared store). */
  cases?: CaseService;
  /** The abuse mailbox's stored reports (the state store's rows; the raw files on the node that took them). */
  reports?: Pick<ReportStore, 'list' | 'get' | 'raw' | 'fileOf'>;
  /** The console's staff users, their sign-in locks and sessions (staff.* operations). */
  staff?: StaffRepository;
  /** The hourly statistics (the server's recorder, which writes what it holds before it reads; the CLI reads the store). */
  stats?: { points(q: PointsQuery): Promise<Points> };
  /** Outside DNSBL listings of our addresses, as the DNSBL checker recorded them (only with abuse.dnsbl.zones). */
  dnsbl?: DnsblListings;
  /** Port-25 exemption requests: their store, the checks' settings and DNS (exemptions.* operations). */
  exemptions?: ExemptionDesk;
}

const WHAT: Record<string, string> = {
  audit: 'the audit log', accounts: 'the account store', policy: 'the network policy store', attribution: 'the attribution log',
  spool: 'the queue (only the running server has it)', relay: 'the relay (only the running server has it)',
  limits: 'the sending limits (only the running server has their state)',
  directory: 'the subscriber directory', stats: 'the hourly statistics', cases: 'the abuse cases', reports: 'the abuse mailbox\'s reports', staff: 'the staff users',
  dnsbl: 'the DNSBL checker\'s listings', exemptions: 'the exemption requests',
};

/** The dependency, or `unavailable` naming it. */
export function need<K extends keyof AppDeps>(deps: AppDeps, key: K): NonNullable<AppDeps[K]> {
  const v = deps[key];
  if (v === undefined || v === null) throw new AppError('unavailable', `${WHAT[key] ?? key} is not available here`);
  return v as NonNullable<AppDeps[K]>;
}
