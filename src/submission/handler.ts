// The MSA policy (RFC 6409): answers every phase the SMTP engine asks about.
// AUTH before MAIL, envelope and header senders bound to the account, message
// fixups, durable spool; every transaction logged with who sent it.
import type { Readable } from 'node:stream';
import { accept, pump, refuse, REPLIES, replyKeyOf, type Logger, type Reply, type Verdict, type Clock } from '../core/index.ts';
import { BodyError, RCPT_OK, type MailFrom, type RcptTo, type SaslExchange, type SessionInfo, type SmtpHandler, type Transaction } from '../smtp/index.ts';
import type { OriginatorField } from '../message/index.ts';
import { bindOriginators } from './binding.ts';
import type { EventBus, ReplyInfo } from '../events/index.ts';
import type { AccountsPort, DecisionPort, FixerPort, LimitContext, LimitsPort, PostmasterPort, SaslPort, SpoolPort, SpoolWriterPort, SubmissionDecision } from './ports.ts';

export interface SubmissionOptions {
  hostname: string;
  /** Where a customer reads about a refusal (limits, disabled account). */
  helpUrl: string;
  /** RFC 6409 §6.4: unauthenticated sessions may mail postmaster@ these domains only. */
  postmasterDomains: readonly string[];
}

export interface SubmissionDeps {
  accounts: AccountsPort;
  sasl: SaslPort;
  spool: SpoolPort;
  fixer: FixerPort;
  limits?: LimitsPort;
  /** Rate of the postmaster exception per client address; without it the exception is unlimited. */
  postmaster?: PostmasterPort;
  /** The relay's refusal of a recipient domain it will not deliver to (MX mode: address literals), answered at RCPT. */
  recipientDomain?: (domain: string) => Reply | null;
  /** Where the MSA says what happened: sessions, recipients, and one event per finished transaction. */
  bus?: EventBus;
  /** Accept, hold or refuse a message that passed every check (limits with action hold, later the abuse engine). */
  decision?: DecisionPort;
  logger: Logger;
  clock: Clock;
}

const R = REPLIES;

interface TxState {
  subscriber: string | null;
  limitCtx: LimitContext | null;
  rcptTaken: number;
  messageTaken: boolean;
  /** The postmaster exception charged this transaction already. */
  postmasterAdmitted: boolean;
}

/** A reply as the events carry it; a refusal names its catalogue entry (refusals counted by reason). */
function replyInfo(r: Reply): ReplyInfo {
  const key = r.code >= 400 ? replyKeyOf(r) : null;
  return key ? { code: r.code, enhanced: r.enhanced, key } : { code: r.code, enhanced: r.enhanced };
}

export class SubmissionHandler implements SmtpHandler {
  private readonly opts: SubmissionOptions;
  private readonly deps: SubmissionDeps;
  private readonly txState = new WeakMap<SessionInfo, TxState>();

  constructor(opts: SubmissionOptions, deps: SubmissionDeps) {
    this.opts = opts;
    this.deps = deps;
  }

  connect(session: SessionInfo): Verdict {
    this.deps.bus?.publish('session.opened', { session: session.id, listener: session.listener, clientIp: session.remoteAddress });
    return accept();
  }

  close(session: SessionInfo): void {
    this.deps.bus?.publish('session.closed', { session: session.id, listener: session.listener, clientIp: session.remoteAddress });
  }

  authMechanisms(): readonly string[] {
    return this.deps.sasl.mechanisms;
  }

  authStart(session: SessionInfo, mechanism: string): SaslExchange | null {
    // The SASL port publishes auth.succeeded / auth.failed: it alone knows why an exchange failed.
    return this.deps.sasl.start(mechanism, session);
  }

  /** A MAIL refused here ends the message: it is logged and counted like one refused after DATA. */
  async mailFrom(session: SessionInfo, from: MailFrom): Promise<Verdict> {
    const started = this.deps.clock.now();
    const v = await this.mailVerdict(session, from);
    return v.ok ? v : this.finish(session, { mailFrom: from, rcptTo: [], bodyMode: null }, null, v, started, null);
  }

  async rcptTo(session: SessionInfo, tx: Transaction, rcpt: RcptTo): Promise<Verdict> {
    const v = await this.rcptVerdict(session, tx, rcpt);
    const r = v.reply ?? RCPT_OK;
    this.deps.bus?.publish('recipient.answered', { session: session.id, listener: session.listener, reply: replyInfo(r) });
    return v;
  }

  private async mailVerdict(session: SessionInfo, from: MailFrom): Promise<Verdict> {
    const state: TxState = { subscriber: null, limitCtx: null, rcptTaken: 0, messageTaken: false, postmasterAdmitted: false };
    this.txState.set(session, state);
    if (!session.auth) {
      // Only the RFC 6409 §6.4 postmaster exception lets an unauthenticated session start a transaction.
      return this.opts.postmasterDomains.length ? accept() : refuse(R.authRequired);
    }
    const identity = session.auth.identity;
    const account = await this.deps.accounts.get(identity);
    if (!account || account.status !== 'active') {
      return refuse(R.senderDisabled(this.opts.helpUrl));
    }
    state.subscriber = account.subscriber;
    if (from.address !== '' && !(await this.deps.accounts.mayUseAddress(identity, from.address))) {
      return refuse(R.senderNotOwned(identity));
    }
    if (this.deps.limits) {
      state.limitCtx = { account: identity, subscriber: account.subscriber, tier: account.tier, ip: session.remoteAddress };
      const refusal = await this.deps.limits.onMail(state.limitCtx);
      if (refusal) return refuse(refusal);
      state.messageTaken = true;
    }
    return accept();
  }

  private async rcptVerdict(session: SessionInfo, _tx: Transaction, rcpt: RcptTo): Promise<Verdict> {
    if (rcpt.domain === '' && rcpt.localPart.toLowerCase() === 'postmaster') {
      // RFC 5321 §4.5.1: <Postmaster> without a domain must be accepted.
      rcpt.address = `postmaster@${this.opts.postmasterDomains[0] ?? this.opts.hostname}`;
      rcpt.domain = this.opts.postmasterDomains[0] ?? this.opts.hostname;
    }
    if (!session.auth) {
      const pm = rcpt.localPart.toLowerCase() === 'postmaster' && this.opts.postmasterDomains.includes(rcpt.domain.toLowerCase());
      if (!pm) return refuse(R.authRequired);
      // One charge per message, at its first recipient; a refused message is not given back.
      const state = this.txState.get(session);
      if (this.deps.postmaster && state && !state.postmasterAdmitted) {
        const refusal = await this.deps.postmaster.admit(session.remoteAddress);
        if (refusal) return refuse(refusal);
        state.postmasterAdmitted = true;
      }
      return accept();
    }
    if (!rcpt.domain.startsWith('[') && !rcpt.domain.includes('.')) return refuse(R.notFqdn);
    const undeliverable = this.deps.recipientDomain?.(rcpt.domain);
    if (undeliverable) return refuse(undeliverable);
    const state = this.txState.get(session);
    if (this.deps.limits && state?.limitCtx) {
      const refusal = await this.deps.limits.onRcpt(state.limitCtx);
      if (refusal) return refuse(refusal);
      state.rcptTaken++;
    }
    return accept();
  }

  async data(session: SessionInfo, tx: Transaction, body: Readable): Promise<Verdict> {
    const started = this.deps.clock.now();
    const identity = session.auth?.identity ?? null;
    // MAIL already looked the account up (and refused a disabled one).
    const subscriber = this.txState.get(session)?.subscriber ?? null;
    let writer: SpoolWriterPort;
    try {
      writer = await this.deps.spool.create({
        ...this.envelopeOf(session, tx),
        account: identity,
        subscriber,
        client: {
          ip: session.remoteAddress,
          port: session.remotePort,
          helo: session.helo,
          tls: session.tls ? `${session.tls.protocol} ${session.tls.cipher}` : null,
          mechanism: session.auth?.mechanism ?? null,
          listener: session.listener,
        },
        receivedAt: started,
      });
    } catch (err) {
      body.resume();
      this.deps.logger.error({ event: 'spool', err: String(err) }, 'cannot create queue file');
      return this.finish(session, tx, null, refuse(R.storage), started, null);
    }
    const f = this.deps.fixer;
    const utf8 = !!tx.mailFrom.params.smtputf8;
    const received = f.received({
      heloName: session.helo ?? session.remoteAddress,
      clientIp: session.remoteAddress,
      hostname: this.opts.hostname,
      protocol: f.protocolName({ esmtp: session.esmtp, tls: !!session.tls, auth: !!session.auth, utf8 }),
      tls: session.tls ? { version: session.tls.protocol, cipher: session.tls.cipher } : undefined,
      authId: identity ?? undefined,
      queueId: writer.id,
      forRcpt: tx.rcptTo.length === 1 ? tx.rcptTo[0].address : undefined,
      date: new Date(started),
      utf8,
    });
    const fixer = f.create({ received, queueId: writer.id, smtputf8: utf8 });
    try {
      await pump(body, fixer, writer.stream);
    } catch (err) {
      await writer.abort().catch(() => {});
      if (err instanceof BodyError) return this.finish(session, tx, writer.id, refuse(err.reply), started, null);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO') {
        this.deps.logger.error({ event: 'spool', queueId: writer.id, err: String(err) }, 'write failed');
        return this.finish(session, tx, writer.id, refuse(R.storage), started, null);
      }
      if (code === 'ERR_STREAM_PREMATURE_CLOSE') return this.finish(session, tx, writer.id, refuse(R.internal), started, null);
      throw err;
    }
    const result = fixer.result;
    let verdict: Verdict;
    try {
      verdict = await this.checkHeaders(session, result.reject ?? null, result.originators);
    } catch (err) {
      await writer.abort().catch(() => {}); // the account store failed: nothing half-written stays behind
      throw err;
    }
    if (!verdict.ok) {
      await writer.abort().catch(() => {});
      return this.finish(session, tx, writer.id, verdict, started, result);
    }
    let decision: SubmissionDecision = { action: 'accept' };
    try {
      decision = await this.decide(session, tx, writer.id, result);
    } catch (err) {
      this.deps.logger.error({ event: 'decision', queueId: writer.id, err: String(err) }, 'decision failed');
      decision = { action: 'refuse', reply: R.internal };
    }
    if (decision.action === 'refuse') {
      await writer.abort().catch(() => {});
      return this.finish(session, tx, writer.id, refuse(decision.reply), started, result);
    }
    const hold = decision.action === 'hold' ? decision.reason : undefined;
    try {
      await writer.commit(hold !== undefined ? { hold } : undefined);
    } catch (err) {
      this.deps.logger.error({ event: 'spool', queueId: writer.id, err: String(err) }, 'commit failed');
      await writer.abort().catch(() => {});
      // The spool's error carries its reply (452 4.3.1 disk full, 451 4.3.0 other I/O).
      const r = (err as { reply?: Reply }).reply;
      return this.finish(session, tx, writer.id, refuse(r ?? R.storage), started, result);
    }
    // A held message gets the same 250: the client's part is done; the provider decides what follows.
    return this.finish(session, tx, writer.id, accept(R.queued(writer.id)), started, result, hold);
  }

  private decide(session: SessionInfo, tx: Transaction, queueId: string, result: { messageId: string; size: number }): SubmissionDecision | Promise<SubmissionDecision> {
    const d = this.deps.decision;
    if (!d) return { action: 'accept' };
    const state = this.txState.get(session);
    return d.decide({
      queueId, account: session.auth?.identity ?? null, subscriber: state?.subscriber ?? null, clientIp: session.remoteAddress,
      limits: state?.limitCtx ?? null, sender: tx.mailFrom.address, recipients: tx.rcptTo.length, size: result.size, messageId: result.messageId,
    });
  }

  /**
   * The postmaster exception never causes a bounce (issue 10 item 16): the
   * sender is unauthenticated, so its reverse-path is unproven and a notice to
   * it would be backscatter. Queued with the null reverse-path (RFC 5321 §4.5.5:
   * no hop ever notifies it) and NOTIFY=NEVER; the address stays in the log.
   */
  private envelopeOf(session: SessionInfo, tx: Transaction): { mailFrom: Transaction['mailFrom']; rcptTo: Transaction['rcptTo']; originalSender?: string } {
    if (session.auth) return { mailFrom: tx.mailFrom, rcptTo: tx.rcptTo };
    const { ret: _ret, envid: _envid, auth: _auth, ...params } = tx.mailFrom.params;
    return {
      mailFrom: { address: '', localPart: '', domain: '', utf8: false, params },
      rcptTo: tx.rcptTo.map((r) => ({ ...r, params: { ...r.params, notify: ['NEVER' as const] } })),
      originalSender: tx.mailFrom.address,
    };
  }

  reset(session: SessionInfo): void {
    const state = this.txState.get(session);
    this.txState.delete(session);
    if (state?.limitCtx && this.deps.limits && (state.rcptTaken || state.messageTaken)) {
      this.deps.limits.refund(state.limitCtx, state.rcptTaken, state.messageTaken ? 1 : 0).catch((err) => {
        this.deps.logger.warn({ event: 'limits', err: String(err) }, 'refund failed');
      });
    }
  }

  /** RFC 6409 §6.1 and issue 10 item 2: every originator field belongs to the account (binding.ts). */
  private async checkHeaders(session: SessionInfo, reject: Reply | null, originators: readonly OriginatorField[]): Promise<Verdict> {
    if (reject) return refuse(reject);
    if (!session.auth) return accept(); // postmaster exception: nothing to bind to
    const identity = session.auth.identity;
    const refusal = await bindOriginators(originators, identity, (a) => this.deps.accounts.mayUseAddress(identity, a));
    return refusal ? refuse(refusal) : accept();
  }

  private finish(session: SessionInfo, tx: Transaction, queueId: string | null, verdict: Verdict, started: number,
    result: { messageId: string; size: number; repairs: string[] } | null, held?: string): Verdict {
    const r = verdict.reply;
    // A message we took in counts toward the limits whether we queued it or refused
    // its content (5xx): otherwise refused messages would be free (issue 10 item 9).
    // Only our own temporary failures (4xx: disk, internal, aborted) are given back.
    const state = this.txState.get(session);
    if (state && (verdict.ok || (r && r.code >= 500))) { state.rcptTaken = 0; state.messageTaken = false; }
    const bus = this.deps.bus;
    if (!bus) return verdict;
    const ev = {
      at: started, session: session.id, listener: session.listener, clientIp: session.remoteAddress, clientPort: session.remotePort,
      account: session.auth?.identity ?? null, subscriber: state?.subscriber ?? null, mechanism: session.auth?.mechanism ?? null,
      tlsVersion: session.tls?.protocol ?? null, tlsCipher: session.tls?.cipher ?? null,
      sender: tx.mailFrom.address, recipients: tx.rcptTo.length, size: result?.size ?? null, messageId: result?.messageId ?? null,
      repairs: result?.repairs ?? [], reply: r ? replyInfo(r) : null, ms: this.deps.clock.now() - started,
    };
    if (!verdict.ok) bus.publish('message.refused', { ...ev, queueId });
    else if (held !== undefined) bus.publish('message.held', { ...ev, queueId: queueId!, reason: held });
    else bus.publish('message.accepted', { ...ev, queueId: queueId! });
    return verdict;
  }
}
