// The decisions behind the policy protocol, free of sockets so that they can be
// tested request by request. One request is a map of Postfix attributes; the
// answer is the text after "action=".
//
// Counting, as the MSA counts: a message is charged at the first recipient
// Postfix asks about in a transaction (the "instance" attribute names the
// transaction), each recipient at its RCPT, all-or-nothing in one store call.
// Postfix never says that a transaction failed; when the service also sits in
// smtpd_data_restrictions or smtpd_end_of_data_restrictions, recipient_count
// there (the recipients Postfix really accepted) gives back what later
// restrictions refused. Transactions that vanish (RSET, QUIT, lost connection)
// keep their charge: over-counting is the safe side of a sending limit.
import { type Clock, type Logger, silentLogger, systemClock } from '../core/index.ts';
import type { LimitPlan, LimitStore, Limits, MaybePromise } from '../limits/index.ts';
import { DUNNO, ERROR_ACTION, LOCKED_ACTION, UNAVAILABLE_ACTION, disabledAction, floodAction, limitedAction, oneLine } from './replies.ts';

export type AccountStatus = 'active' | 'disabled' | 'unknown';

export interface AccountInfo {
  status: AccountStatus;
  subscriber?: string;
  tier?: string;
}

export type PolicyOutcome = 'dunno' | 'held' | 'disabled' | 'locked' | 'limited' | 'flood' | 'unavailable' | 'error';

export interface PolicyEvent {
  state: string;
  login: string;
  ip: string;
  outcome: PolicyOutcome;
  action: string;
  /** For limited/flood: the scope of the refusing key, e.g. "prefix". */
  scope?: string;
}

export interface FloodEvent {
  login: string;
  ip: string;
  ruleId: string;
  /** The rule says: suspend the account (525 5.7.13 at its next AUTH). */
  suspend: boolean;
}

export interface PolicyEngineOptions {
  limits: Limits;
  store: LimitStore;
  /** An 'unknown' login (Postfix authenticated someone we have no record of) is limited in the default tier. */
  accountStatus: (login: string) => MaybePromise<AccountStatus | AccountInfo>;
  lockedOut?: (ip: string, login: string) => MaybePromise<boolean>;
  /** Named in every refusal: where the customer reads what happened. */
  helpUrl: string;
  logger?: Logger;
  /** Tier for accounts whose record names none. Default: the limits' default tier. */
  defaultTier?: string;
  /** Also limit unauthenticated clients (a legacy port-25 submission relay), keyed on client_address, in this tier. */
  anonymous?: { tier: string } | false;
  onFlood?: (ev: FloodEvent) => void;
  /** false: nothing suspends at the first flood (the abuse engine decides, with a case), so the flood reply does not say "suspended". Default true. */
  floodSuspends?: boolean;
  /** Every answer, for metrics and logs. */
  onDecision?: (ev: PolicyEvent) => void;
  clock?: Clock;
  /** A transaction not seen for this long is forgotten. Default 1 hour (well above smtpd timeouts). */
  transactionTtlMs?: number;
  maxTransactions?: number;
}

interface Tx {
  plan: LimitPlan;
  messageCharged: boolean;
  rcpts: number;
  seen: number;
}

export type Attributes = ReadonlyMap<string, string>;

export class PolicyEngine {
  private readonly o: PolicyEngineOptions;
  private readonly helpUrl: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly ttl: number;
  private readonly maxTx: number;
  /** Insertion order = last-seen order (touch re-inserts), so expiry sweeps from the front. */
  private readonly txs = new Map<string, Tx>();

  constructor(opts: PolicyEngineOptions) {
    this.o = opts;
    this.helpUrl = oneLine(opts.helpUrl);
    this.logger = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.ttl = opts.transactionTtlMs ?? 3_600_000;
    this.maxTx = opts.maxTransactions ?? 100_000;
  }

  get openTransactions(): number { return this.txs.size; }

  /** The action for one request, or null when the request is not one this protocol allows (caller closes). */
  async decide(a: Attributes): Promise<string | null> {
    if (a.get('request') !== 'smtpd_access_policy') return null;
    const state = (a.get('protocol_state') ?? '').toUpperCase();
    const login = a.get('sasl_username') ?? '';
    const ip = a.get('client_address') ?? '';
    const done = (outcome: PolicyOutcome, action: string, scope?: string): string => {
      this.o.onDecision?.({ state, login, ip, outcome, action, scope });
      return action;
    };
    try {
      if (state === 'DATA' || state === 'END-OF-MESSAGE') {
        await this.settle(a, state === 'END-OF-MESSAGE');
        return done('dunno', DUNNO);
      }
      if (state !== 'RCPT' && state !== 'MAIL') return done('dunno', DUNNO);
      let account: string, subscriber: string | undefined, tier: string | undefined, detail = true;
      if (login) {
        const raw = await this.o.accountStatus(login);
        const info: AccountInfo = typeof raw === 'string' ? { status: raw } : raw;
        if (info.status === 'disabled') return done('disabled', disabledAction(this.helpUrl));
        if (this.o.lockedOut && (await this.o.lockedOut(ip, login))) return done('locked', LOCKED_ACTION);
        account = login;
        subscriber = info.subscriber;
        tier = info.tier ?? this.o.defaultTier;
      } else if (this.o.anonymous && ip) {
        // Brackets cannot occur in a login, so an address never shares a bucket with an account.
        account = `[${ip}]`;
        tier = this.o.anonymous.tier;
        detail = false;
      } else {
        return done('dunno', DUNNO);
      }
      if (state === 'MAIL') return done('dunno', DUNNO);
      return await this.charge(a, { account, subscriber, tier, ip }, detail, done);
    } catch (err) {
      this.logger.error({ event: 'policy', err: String(err), state, login, ip }, 'policy decision failed');
      return done('error', ERROR_ACTION);
    }
  }

  private async charge(a: Attributes, ctx: { account: string; subscriber?: string; tier?: string; ip: string }, detail: boolean,
    done: (outcome: PolicyOutcome, action: string, scope?: string) => string): Promise<string> {
    const now = this.clock.now();
    this.expire(now);
    const instance = a.get('instance');
    const key = instance ? `${instance}\0${ctx.account}` : null;
    let tx = key ? this.txs.get(key) : undefined;
    if (!tx) tx = { plan: this.o.limits.plan(ctx), messageCharged: false, rcpts: 0, seen: now };
    let keys = tx.messageCharged ? tx.plan.recipients : [...tx.plan.messages, ...tx.plan.recipients];
    let d = await this.o.store.check(keys, 1);
    // A rule with action hold does not refuse: the others are checked (and charged) without it,
    // and if they pass, Postfix's HOLD puts the message in its hold queue. Bounded: one rule per round.
    let held: string | undefined;
    while (!d.allowed && d.hit?.rule?.action === 'hold') {
      const id = d.hit.rule.id;
      held ??= id;
      keys = keys.filter((k) => k.rule?.id !== id);
      d = await this.o.store.check(keys, 1);
    }
    if (key) {
      this.txs.delete(key);
      tx.seen = now;
      this.txs.set(key, tx);
      if (this.txs.size > this.maxTx) this.txs.delete(this.txs.keys().next().value!);
    }
    if (d.allowed) {
      tx.messageCharged = true;
      tx.rcpts++;
      return held ? done('held', `HOLD held: over limit ${held}`, d.hit?.rule?.scope) : done('dunno', DUNNO);
    }
    const scope = d.hit?.rule?.scope;
    if (d.outcome === 'flood') {
      const rule = d.hit?.rule;
      this.logger.warn({ event: 'policy', outcome: 'flood', account: ctx.account, ip: ctx.ip, rule: rule?.id }, 'mail flood');
      if (rule) this.o.onFlood?.({ login: ctx.account, ip: ctx.ip, ruleId: rule.id, suspend: rule.suspend });
      return done('flood', floodAction(this.helpUrl, this.o.floodSuspends !== false && rule?.suspend === true), scope);
    }
    if (d.outcome === 'unavailable') return done('unavailable', UNAVAILABLE_ACTION);
    return done('limited', limitedAction(d, this.helpUrl, detail), scope);
  }

  /** DATA / END-OF-MESSAGE: give back recipients Postfix did not accept after all. */
  private async settle(a: Attributes, end: boolean): Promise<void> {
    const instance = a.get('instance');
    if (!instance) return;
    const login = a.get('sasl_username') || `[${a.get('client_address') ?? ''}]`;
    const key = `${instance}\0${login}`;
    const tx = this.txs.get(key);
    if (!tx) return;
    if (end) this.txs.delete(key);
    const accepted = Number(a.get('recipient_count'));
    if (!Number.isInteger(accepted) || accepted < 0 || accepted >= tx.rcpts) return;
    const extra = tx.rcpts - accepted;
    tx.rcpts = accepted;
    await this.o.store.refund(tx.plan.recipients, extra);
    if (accepted === 0 && tx.messageCharged) {
      tx.messageCharged = false;
      await this.o.store.refund(tx.plan.messages, 1);
    }
  }

  private expire(now: number): void {
    for (const [k, tx] of this.txs) {
      if (now - tx.seen < this.ttl) break;
      this.txs.delete(k);
    }
  }
}
