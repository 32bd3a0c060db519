// The MSA on its own, through its ports, for this folder's tests: a real
// SubmissionHandler behind the real SMTP engine on loopback (implicit TLS),
// with small real implementations of every port: accounts and SASL from auth
// on a temp SQLite store, the real MessageFixer, a real Spool in a temp dir,
// limits on limits' memory store. Only cli/ wires the real server; these
// adapters are the few lines that stand in for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { REPLIES, silentLogger, systemClock } from '../core/index.ts';
import { AccountStore, AUTH_MIGRATIONS, Authenticator, createSaslServer, SASL_MECHANISMS } from '../auth/index.ts';
import { compileLimits, MemoryLimitStore, type LimitPlan, type RuleSpec } from '../limits/index.ts';
import { MessageFixer, buildReceived, protocolName } from '../message/index.ts';
import { SmtpServer, defaultListenerOptions } from '../smtp/index.ts';
import { Spool } from '../spool/index.ts';
import { openStore } from '../store/index.ts';
import { SubmissionHandler, type SubmissionOptions } from './handler.ts';
import type { AccountsPort, FixerPort, LimitContext, LimitsPort, SpoolPort } from './ports.ts';
import { InProcessBus, type TransactionEvent } from '../events/index.ts';

/** One finished transaction as the bus tells it: accepted, held or refused. */
export type TransactionSummary = TransactionEvent & { accepted: boolean; queueId: string | null };

export const HELP = 'https://help.isp.example/limits';

export interface Msa {
  port: number;
  dir: string;
  spool: Spool;
  accounts: AccountStore;
  summaries: TransactionSummary[];
  stop(): Promise<void>;
}

function accountsPort(accounts: AccountStore): AccountsPort {
  return {
    async get(login) {
      const a = await accounts.get(login);
      return a ? { login: a.login, subscriber: a.subscriber, status: a.status, tier: a.tier } : null;
    },
    mayUseAddress: (login, address) => accounts.mayUseAddress(login, address),
  };
}

function spoolPort(spool: Spool): SpoolPort {
  return {
    create: (env) => spool.create({
      mailFrom: { address: env.mailFrom.address, ret: env.mailFrom.params.ret, envid: env.mailFrom.params.envid, smtputf8: env.mailFrom.params.smtputf8 },
      recipients: env.rcptTo.map((r) => ({ address: r.address, notify: r.params.notify, orcpt: r.params.orcpt })),
      account: env.account ?? undefined,
      identity: env.subscriber ?? undefined,
      client: { ip: env.client.ip, port: env.client.port },
      canonical: true,
      attributes: { listener: env.client.listener, ...(env.originalSender !== undefined ? { originalSender: env.originalSender } : {}) },
    }),
  };
}

const fixerPort: FixerPort = {
  create: (input) => new MessageFixer({ hostname: 'msa.isp.example', clock: systemClock }, input),
  received: (input) => buildReceived(input),
  protocolName: (flags) => protocolName(flags),
};

/** Messages per hour per account, in limits' memory store; a refusal is the catalogue's limit reply. */
function limitsPort(messagesPerHour: number): LimitsPort {
  const rules: RuleSpec[] = [{ name: 'mph', scope: 'account', counts: 'messages', per: 'hour', limit: messagesPerHour }];
  const c = compileLimits({ defaultTier: 'residential', tiers: { residential: rules } });
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  const store = new MemoryLimitStore();
  const plans = new WeakMap<LimitContext, LimitPlan>();
  const plan = (ctx: LimitContext): LimitPlan => {
    let p = plans.get(ctx);
    if (!p) { p = c.limits.plan({ account: ctx.account, subscriber: ctx.subscriber ?? undefined, tier: ctx.tier, ip: ctx.ip }); plans.set(ctx, p); }
    return p;
  };
  return {
    async onMail(ctx) {
      const d = await store.check(plan(ctx).messages, 1);
      return d.allowed ? null : REPLIES.limited(d.hit?.rule, d.retryAfterMs, HELP);
    },
    async onRcpt() { return null; },
    async refund(ctx, _recipients, messages) { if (messages) await store.refund(plan(ctx).messages, messages); },
  };
}

/** `tls`: a key and certificate for the implicit-TLS listener (test/lib/cert.ts loopbackCert() in the tests). */
export async function startMsa(tls: { key: string; cert: string }, o: { messagesPerHour?: number; options?: Partial<SubmissionOptions> } = {}): Promise<Msa> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-msa-'));
  const store = await openStore(join(dir, 'state.db'));
  await store.migrate(AUTH_MIGRATIONS);
  const accounts = new AccountStore(store, { logger: silentLogger, scramIterations: 4096 });
  const auth = new Authenticator(accounts, { logger: silentLogger, disabledUrl: HELP, failureFloorMs: 0, scramIterations: 4096 });
  const spool = await Spool.open(join(dir, 'spool'), { logger: silentLogger });
  const summaries: TransactionSummary[] = [];
  const bus = new InProcessBus();
  for (const n of ['message.accepted', 'message.held', 'message.refused'] as const) {
    bus.subscribe(n, (e) => { summaries.push({ ...e, queueId: e.queueId ?? null, accepted: n !== 'message.refused' }); });
  }
  const handler = new SubmissionHandler(
    { hostname: 'msa.isp.example', helpUrl: HELP, postmasterDomains: ['isp.example'], ...o.options },
    {
      accounts: accountsPort(accounts),
      sasl: { mechanisms: SASL_MECHANISMS, start: (mech) => createSaslServer(auth, mech) },
      spool: spoolPort(spool),
      fixer: fixerPort,
      limits: o.messagesPerHour ? limitsPort(o.messagesPerHour) : undefined,
      bus,
      logger: silentLogger,
      clock: systemClock,
    },
  );
  const context = createSecureContext({ key: tls.key, cert: tls.cert });
  const server = new SmtpServer({
    listeners: [defaultListenerOptions({ name: 'submissions', host: '127.0.0.1', port: 0, hostname: 'msa.isp.example', tls: 'implicit' })],
    handler, logger: silentLogger, secureContext: () => context,
  });
  await server.listen();
  return {
    port: server.addresses()[0].port, dir, spool, accounts, summaries,
    async stop() {
      await server.close({ drainMs: 0 });
      await spool.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
