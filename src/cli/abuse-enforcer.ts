// The abuse engine's Enforcer over the real parts: the network policy store
// (walled-garden quarantine, port-25 exemptions), the account store (suspend =
// disable: AUTH answers 525 5.7.13) and the spool (hold the suspended accounts'
// queued mail). Each method returns exactly what it changed, so that a release
// undoes that and nothing else: a prefix already quarantined (by the desk, by
// another case) or an account already disabled (by an operator) is left to
// whoever did it. Every policy change is the policy store's audited Change with
// actor "abuse"; account changes and holds are written to the app's audit log
// with the system actor "abuse".
//
// Held mail stays held on unsuspend: mail queued by a compromised account in the
// minutes before the suspension is, as a rule, the attacker's. Releasing it
// automatically would send the spam the suspension stopped. The desk releases
// (portwarden queue release --account A) or deletes it; unsuspend logs how many
// remain and the command. docs/abuse.md says the same.
import type { Clock, Logger } from '../core/index.ts';
import { formatIp, maskIp, parseIp, visible } from '../core/index.ts';
import type { Enforcer } from '../abuse/index.ts';
import type { Account, AccountStatus } from '../auth/index.ts';
import type { Change, Exemption, Quarantine, Result } from '../netpolicy/index.ts';
import { holdMessages, listQueue, type Spool } from '../spool/index.ts';
import type { AuditSink } from '../app/index.ts';

/** What the enforcer needs of the policy store (PolicyStore satisfies it). */
export interface EnforcerPolicy {
  quarantine(prefix: string, subscriber: string, caseId: string, c: Change): Promise<Result<unknown>>;
  release(prefix: string, c: Change): Promise<Result<unknown>>;
  listQuarantines(): Promise<Quarantine[]>;
  addExemption(prefix: string, customer: string, expiresAt: number | null, c: Change): Promise<Result<unknown>>;
  removeExemption(prefix: string, c: Change): Promise<Result<unknown>>;
  listExemptions(includeExpired?: boolean): Promise<Exemption[]>;
  revision(): Promise<number>;
}

/** What the enforcer needs of the account store (AccountStore satisfies it). */
export interface EnforcerAccounts {
  get(login: string): Promise<Account | null>;
  list(opts?: { subscriber?: string; status?: AccountStatus; after?: string; limit?: number }): Promise<Account[]>;
  disable(login: string, reason: string): Promise<void>;
  enable(login: string): Promise<void>;
}

export interface EnforcerParts {
  policy: EnforcerPolicy;
  accounts: EnforcerAccounts;
  /** Absent (a node without a spool): suspend disables the accounts and holds nothing. */
  spool?: Spool;
  audit?: AuditSink;
  clock: Clock;
  logger: Logger;
}

export const ENFORCER_ACTOR = 'abuse';
type Revoked = Array<{ prefix: string; customer: string; expiresAt: number | null }>;

/** RFC 5952 text, a single host as a bare address (the policy store's and the directory's spelling); null when no prefix. */
export function canonicalPrefix(text: string): { key: string; v: 4 | 6; len: number; net: Uint8Array } | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const a = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!a) return null;
  const max = a.v === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(max) : s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return null;
  const len = Number(lenText);
  const m = maskIp(a, len);
  return { key: len === max ? formatIp(m) : `${formatIp(m)}/${len}`, v: a.v, len, net: m.b };
}

/** Whether `inner` lies inside `outer` (equal counts). */
function within(inner: NonNullable<ReturnType<typeof canonicalPrefix>>, outer: NonNullable<ReturnType<typeof canonicalPrefix>>): boolean {
  if (inner.v !== outer.v || inner.len < outer.len) return false;
  const masked = maskIp({ v: inner.v, b: inner.net }, outer.len).b;
  return masked.every((b, i) => b === outer.net[i]);
}

const norm = (s: string): string => s.trim().toLowerCase();

export function createEnforcer(p: EnforcerParts): Enforcer {
  const { policy, accounts, spool, logger, clock } = p;
  const change = (reason: string): Change => ({ actor: ENFORCER_ACTOR, reason: reason.trim() || 'abuse engine decision' });
  const audit = async (action: string, object: string, reason: string, detail: object): Promise<void> => {
    await p.audit?.write({ at: clock.now(), actorKind: 'system', actor: ENFORCER_ACTOR, from: 'internal', action, object, reason, outcome: 'ok', detail: JSON.stringify(detail) });
  };

  async function accountsOf(subscriber: string): Promise<Account[]> {
    const out = new Map<string, Account>();
    for (const id of new Set([subscriber, norm(subscriber)])) {
      for (let after: string | undefined, i = 0; i < 100; i++) {
        const page = await accounts.list({ subscriber: id, after, limit: 1000 });
        for (const a of page) out.set(a.login, a);
        if (page.length < 1000) break;
        after = page[page.length - 1].login;
      }
    }
    return [...out.values()];
  }

  /** The subscriber's accounts among `named` (null: all of them); an account of someone else is never suspended for this subscriber. */
  async function chosen(subscriber: string, named: string[] | null): Promise<Account[]> {
    if (named === null) return accountsOf(subscriber);
    const out: Account[] = [];
    for (const login of new Set(named)) {
      const a = await accounts.get(login);
      if (!a) { logger.warn({ event: 'abuse-enforce', action: 'suspend', account: visible(login) }, 'no such account; not suspended'); continue; }
      if (norm(a.subscriber) !== norm(subscriber)) {
        // A bot at one subscriber's address guessing another's password names the victim's account: not the victim's fault.
        logger.warn({ event: 'abuse-enforce', action: 'suspend', account: visible(a.login), subscriber: visible(subscriber), owner: visible(a.subscriber) },
          "the account belongs to another subscriber; not suspended");
        continue;
      }
      out.push(a);
    }
    return out;
  }

  return {
    async quarantine(subscriber, caseId, prefixes, reason) {
      const already = new Set((await policy.listQuarantines()).map((q) => q.prefix));
      const newly: string[] = [];
      for (const raw of prefixes) {
        const c = canonicalPrefix(raw);
        if (!c) { logger.warn({ event: 'abuse-enforce', action: 'quarantine', prefix: visible(raw) }, 'not a prefix; skipped'); continue; }
        if (already.has(c.key) || newly.includes(c.key)) continue;
        const r = await policy.quarantine(c.key, subscriber, caseId, change(reason));
        if (r.ok) newly.push(c.key);
        else logger.error({ event: 'abuse-enforce', action: 'quarantine', prefix: c.key, err: r.error }, 'quarantine refused by the policy store');
      }
      return newly;
    },

    async unquarantine(prefixes, reason) {
      for (const raw of prefixes) {
        const key = canonicalPrefix(raw)?.key ?? raw;
        const r = await policy.release(key, change(reason));
        // Released by hand meanwhile (policy quarantine remove): nothing left to undo.
        if (!r.ok && !r.error.startsWith('no such entry')) logger.error({ event: 'abuse-enforce', action: 'unquarantine', prefix: visible(key), err: r.error }, 'release refused by the policy store');
      }
    },

    async suspend(subscriber, named, reason) {
      const list = await chosen(subscriber, named);
      const suspended: string[] = [];
      for (const a of list) {
        if (a.status === 'disabled') {
          // The same reason is this decision's own earlier attempt (it failed after the disable and is retried): ours to undo.
          if (a.disabledReason === reason) suspended.push(a.login);
          continue; // else disabled by someone else: theirs to undo
        }
        await accounts.disable(a.login, reason);
        suspended.push(a.login);
        await audit('abuse.suspend', `account ${a.login}`, reason, { subscriber });
      }
      const held: string[] = [];
      if (spool) {
        for (const a of list) {
          const r = await holdMessages(spool, { account: a.login }, `held by abuse: ${reason}`.replace(/[\r\n]+/g, ' ').slice(0, 200));
          held.push(...r.done);
          if (r.failed.length) logger.error({ event: 'abuse-enforce', action: 'hold', account: visible(a.login), failed: r.failed }, 'some queued messages could not be held');
          if (r.done.length) await audit('abuse.hold', `queue account=${a.login}`, reason, { ids: r.done });
        }
      }
      logger.warn({ event: 'abuse-enforce', action: 'suspend', subscriber: visible(subscriber), accounts: suspended.map((l) => visible(l)), held: held.length });
      return { accounts: suspended, held };
    },

    async unsuspend(logins, reason) {
      for (const login of logins) {
        const a = await accounts.get(login);
        if (!a) continue; // removed meanwhile
        if (a.status === 'disabled') await accounts.enable(login);
        await audit('abuse.unsuspend', `account ${a.login}`, reason, {});
        const stillHeld = spool ? (await listQueue(spool, ['hold'])).filter((m) => norm(m.account ?? '') === a.login).length : 0;
        logger.warn({ event: 'abuse-enforce', action: 'unsuspend', account: visible(a.login), stillHeld },
          stillHeld ? `account enabled; its ${stillHeld} held message(s) stay held for the desk: portwarden queue release --account ${visible(a.login)} (or delete)` : 'account enabled');
      }
    },

    async revokeExemptions(subscriber, prefixes, reason) {
      const mine = prefixes.map(canonicalPrefix).filter((x) => x !== null);
      const all = await policy.listExemptions();
      // The subscriber's own grants, and grants that lie wholly inside its space; a wider grant of another customer stays.
      const hit = new Set(all.filter((e) => {
        if (norm(e.customer) === norm(subscriber)) return true;
        const c = canonicalPrefix(e.prefix);
        return c !== null && mine.some((m) => within(c, m));
      }).map((e) => e.prefix));
      const revoked: Revoked = [];
      for (const prefix of hit) {
        const r = await policy.removeExemption(prefix, change(reason));
        if (!r.ok) { logger.error({ event: 'abuse-enforce', action: 'revoke-exemption', prefix, err: r.error }, 'revocation refused by the policy store'); continue; }
        // removeExemption takes every grant of the prefix: give all of them back on release.
        for (const e of all) if (e.prefix === prefix) revoked.push({ prefix: e.prefix, customer: e.customer, expiresAt: e.expiresAt });
      }
      return revoked;
    },

    async restoreExemptions(list, reason) {
      const now = clock.now();
      const present = new Set((await policy.listExemptions()).map((e) => `${e.prefix} ${norm(e.customer)}`));
      for (const e of list) {
        if (e.expiresAt !== null && e.expiresAt <= now) {
          logger.info({ event: 'abuse-enforce', action: 'restore-exemption', prefix: e.prefix, customer: visible(e.customer) }, 'the exemption expired meanwhile; not restored');
          continue;
        }
        if (present.has(`${e.prefix} ${norm(e.customer)}`)) continue; // granted again by hand meanwhile
        const r = await policy.addExemption(e.prefix, e.customer, e.expiresAt, change(reason));
        if (!r.ok) logger.error({ event: 'abuse-enforce', action: 'restore-exemption', prefix: e.prefix, err: r.error }, 'restoring the exemption was refused by the policy store');
      }
    },

    policyRevision: () => policy.revision(),
  };
}
