// The console's areas, in one list: the nav of every console page and the home
// page's links come from here. An area's page module (CONSOLE_PAGES) serves its
// path; `admin: true` areas are listed to admins only (roles.ts: staff.* and
// tokens.* are admin-only even to read). The labels and blurbs are texts.
import type { StaffRole } from '../../app/index.ts';
import type { NavItem } from '../layout.ts';

export interface ConsoleArea extends NavItem {
  /** One line on the home page: what is there. */
  blurb: string;
  admin?: boolean;
}

export const CONSOLE_AREAS: readonly ConsoleArea[] = [
  { href: '/accounts', label: 'Accounts', blurb: 'Submission accounts: search, create, disable, addresses, tier, the limits in effect.' },
  { href: '/subscribers', label: 'Subscribers', blurb: 'Subscribers, their accounts and the addresses they held.' },
  { href: '/queue', label: 'Queue', blurb: 'Mail waiting to leave: show, hold, release, delete.' },
  { href: '/cases', label: 'Cases', blurb: 'Zombie cases: timeline, evidence, notes, release, quarantine.' },
  { href: '/exemptions', label: 'Exemptions', blurb: 'Port-25 exemption requests waiting for a decision.' },
  { href: '/policy', label: 'Network policy', blurb: 'Pools, relays, exemptions, quarantine, edges and their applied versions.' },
  { href: '/audit', label: 'Audit log', blurb: 'Every change: who, when, from where, what, why.' },
  { href: '/charts', label: 'Charts', blurb: 'Mail accepted and refused, limit hits, blocked port-25 attempts, cases, queue size.' },
  { href: '/staff', label: 'Staff', blurb: 'Console users: add, disable, reset a lost authenticator.', admin: true },
];

/** The areas a role sees, in order. */
export function areasFor(role: StaffRole): ConsoleArea[] {
  return CONSOLE_AREAS.filter((a) => !a.admin || role === 'admin');
}

/** The nav of a page (the home link first). */
export function navFor(role: StaffRole): NavItem[] {
  return [{ href: '/', label: 'Home' }, ...areasFor(role).map(({ href, label }) => ({ href, label }))];
}
