// Who asked: every mutation's audit record names an actor, the place the
// request came from, and the reason given.

export type ActorKind = 'operator' | 'token' | 'system';

export interface Actor {
  kind: ActorKind;
  /** operator: the Unix user (or "root"); token: the token's name; system: the part acting ("limits", "relay"). */
  name: string;
  /** Where the request came from: "cli", "control", or the HTTP client's address. */
  from: string;
  /** Token scope (token actors only). */
  scope?: Scope;
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
