// Who asked: every mutation's audit record names an actor, the place the
// request came from, and the reason given.

export type ActorKind = 'operator' | 'token' | 'system' | 'staff' | 'subscriber';

/** The console's staff roles (issue 13 §9); what each may do is decided by roleAllows (roles.ts). */
export const STAFF_ROLES = ['desk', 'postmaster', 'netops', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface Actor {
  kind: ActorKind;
  /** operator: the Unix user (or "root"); token: the token's name; system: the part acting ("limits", "relay"); staff: the staff user; subscriber: the account's login. */
  name: string;
  /** Where the request came from: "cli", "control", or the HTTP client's address. */
  from: string;
  /** Token scope (token actors only). */
  scope?: Scope;
  /** Staff role (staff actors only): the console signed this person in. */
  role?: StaffRole;
  /** subscriber actors: the subscriber the signed-in submission account belongs to (the portal's own requests). */
  subscriber?: string | null;
}

export const SCOPES = ['read', 'operate', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** admin ⊃ operate ⊃ read. */
export function scopeAllows(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

export interface Context {
  actor: Actor;
  /** Why (free text; required by some operations, recorded in the audit). */
  reason?: string;
}

export function systemActor(part: string): Actor {
  return { kind: 'system', name: part, from: 'internal' };
}
