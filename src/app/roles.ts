// What each console role may do, and what a signed-in subscriber may do. Every
// role reads what the operations show (the console is the desk's window), except
// the admin-only areas; changes are allowed by operation-name prefix. A
// subscriber runs only operations that declare `subscriber: true`, and those
// act on the subscriber's own data (the operation checks ctx.actor.subscriber).
import type { Actor, StaffRole } from './actor.ts';

/** Areas only admin may even read: credentials of machines and of people. */
const ADMIN_ONLY = ['tokens.', 'staff.'];

/** Changes per role: "area." covers the area, a full name one operation. */
const CHANGES: Record<StaffRole, readonly string[]> = {
  desk: ['cases.', 'exemptions.', 'queue.hold', 'queue.release', 'accounts.disable', 'accounts.enable'],
  postmaster: ['accounts.', 'subscribers.', 'addresses.', 'queue.', 'cases.', 'exemptions.', 'reports.'],
  netops: ['policy.', 'addresses.', 'exemptions.'],
  admin: ['*'],
};

const covers = (rules: readonly string[], name: string): boolean =>
  rules.some((r) => r === '*' || r === name || (r.endsWith('.') && name.startsWith(r)));

export function roleAllows(role: StaffRole, op: { name: string; mutates: boolean }): boolean {
  if (role === 'admin') return true;
  if (covers(ADMIN_ONLY, op.name)) return false;
  return !op.mutates || covers(CHANGES[role], op.name);
}

/** The refusal text when `actor` may not run `op`, or null when it may (token scopes are checked by invoke). */
export function actorRefusal(actor: Actor, op: { name: string; mutates: boolean; subscriber?: boolean }): string | null {
  if (actor.kind === 'staff') {
    if (!actor.role) return `${op.name}: a staff actor without a role`;
    return roleAllows(actor.role, op) ? null : `${op.name} is not allowed to the ${actor.role} role`;
  }
  if (actor.kind === 'subscriber') return op.subscriber ? null : `${op.name} is not a subscriber's operation`;
  return null;
}
