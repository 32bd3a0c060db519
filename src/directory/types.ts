// The subscriber directory's contract: who a subscriber is, and which addresses
// (and, behind CGNAT, which source ports) it held over time. The abuse engine,
// `trace` and every signal ask "who held ADDRESS[:PORT] at TIME?" through
// `HolderLookup`; the sources (static entries, RADIUS accounting, FreeRADIUS
// detail files, Kea lease files, the API) write through `AddressHistory`.
//
// Times are milliseconds since the epoch. An assignment's `start` is when the
// address was handed out (RADIUS: Event-Timestamp, else arrival minus
// Acct-Delay-Time; Kea: expire − valid_lifetime), never when we heard of it.

/** Where an assignment came from. */
export const ASSIGNMENT_SOURCES = ['static', 'radius', 'kea', 'api'] as const;
export type AssignmentSource = (typeof ASSIGNMENT_SOURCES)[number];

export interface Subscriber {
  /** Stable id, the same namespace as an account's `subscriber` field (lower-cased, trimmed). */
  id: string;
  /** The subscriber's tier (immune tiers in the abuse rules are matched against it). */
  tier: string;
  /** Where notices go (RFC 5321 mailboxes). */
  contacts: string[];
  /** Access identities that name this subscriber in address sources: a RADIUS User-Name, a DHCP hw address, client-id or DUID, as "radius:alice", "hw:aa:bb:cc:dd:ee:ff", "duid:00:01:…". */
  access: string[];
  createdAt: number;
  updatedAt: number;
}

export interface Assignment {
  id: number;
  subscriber: string;
  /** Canonical prefix text (RFC 5952; a single host as a bare address). */
  prefix: string;
  /** CGNAT port block (inclusive); null for the whole address. */
  portLo: number | null;
  portHi: number | null;
  start: number;
  /** null: still held. */
  end: number | null;
  source: AssignmentSource;
  /** RADIUS Acct-Session-Id, Kea lease key, or the API caller's id; null for static ones. */
  session: string | null;
}

export interface AssignInput {
  subscriber: string;
  prefix: string;
  portLo?: number | null;
  portHi?: number | null;
  start: number;
  end?: number | null;
  source: AssignmentSource;
  session?: string | null;
}

/** The answer to "who held it then": empty when nobody did; several only when the question left the port out behind CGNAT. */
export interface Holder { subscriber: string; assignment: Assignment }

/** What signals, `trace` and the abuse engine need. */
export interface HolderLookup {
  holdersAt(address: string, at: number, port?: number | null): Promise<Holder[]>;
  /** The subscriber's assignments held now (quarantine follows these). */
  currentOf(subscriber: string): Promise<Assignment[]>;
  subscriber(id: string): Promise<Subscriber | null>;
}

/** The directory's repository (SQLite and PostgreSQL): what the sources, the operations and the CLI use. */
export interface DirectoryRepository extends HolderLookup {
  /** Creates or updates (only the fields given change); the id is normalised (trimmed, lower-cased) once, here. */
  putSubscriber(s: { id: string; tier?: string; contacts?: string[]; access?: string[] }): Promise<Subscriber>;
  listSubscribers(opts?: { after?: string; limit?: number }): Promise<Subscriber[]>;
  /** The subscriber an access identity ("radius:alice", "hw:…", "duid:…") names, or null. */
  resolveAccess(access: string): Promise<string | null>;
  /** Records an assignment; an open one of the same source and session (or same prefix and source) is updated instead of duplicated. */
  assign(a: AssignInput): Promise<Assignment>;
  /** Ends the open assignment of this source and session (RADIUS Stop, a released lease); returns it, or null when none was open. */
  end(q: { source: AssignmentSource; session?: string | null; prefix?: string; subscriber?: string }, at: number): Promise<Assignment | null>;
  /** Assignments of a subscriber or covering an address, newest first, within [from, to]. */
  history(q: { subscriber?: string; address?: string; from?: number; to?: number; limit?: number }): Promise<Assignment[]>;
  /** Deletes assignments that ended before `before`; returns how many. */
  prune(before: number): Promise<number>;
}
