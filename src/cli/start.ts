// `portwarden start`: wires config → store, accounts, spool, relay, the MSA
// handler and the SMTP engine; SIGHUP reloads certificates, SIGTERM drains.
import { parseArgs } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../core/index.ts';
import { ConfigError, exampleConfig, loadConfigWithSource, splitHostPort, type Config } from '../config/index.ts';
import { openStore } from '../store/index.ts';
import { AUTH_MIGRATIONS, AccountStore, Authenticator, SASL_MECHANISMS, configureHashing, createSaslServer, KnownPrefixTable, loadScramSecret, normalizeLogin } from '../auth/index.ts';
import { MessageFixer, buildReceived, protocolName } from '../message/index.ts';
import { Spool } from '../spool/index.ts';
import { Relay, recipientDomainCheck } from '../relay/index.ts';
import { SmtpServer, defaultListenerOptions } from '../smtp/index.ts';
import { SubmissionHandler, type FixerPort, type SpoolPort, type AccountsPort, type SubmissionEvents } from '../submission/index.ts';
import { AttributionLog } from '../accountability/index.ts';
import { createMetrics, createMetricsServer, type Metrics } from '../metrics/index.ts';
import { readFileSync } from 'node:fs';
import { createControlServer, controlServerRunning, controlSocketPath } from '../control/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, type AppDeps } from '../app/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { buildLimitStore, bruteForce, limitsInEffect, limitsPort, postmasterGate, throttledSasl } from './limits.ts';
import { ensurePrivateDir, tightenDataDir } from './datadir.ts';
import { createLogger } from './logger.ts';
import { configProblems } from './check.ts';
import { ensureCertificate, TlsStore } from './tls.ts';
import { configPath, type Command } from './commands.ts';
import { accountStoreOptions } from './state.ts';

export const startCommand: Command = {
  summary: 'run the submission service (587/465 roles) and the relay',
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: {
      config: { type: 'string' }, init: { type: 'boolean', default: false }, help: { type: 'boolean' } } });
    if (values.help) {
      io.out('usage: portwarden start [--config FILE] [--init]\n  --init  write a default config first when FILE does not exist');
      return 0;
    }
    const file = configPath(values.config, io);
    if (values.init && !existsSync(file)) {
      writeFileSync(file, exampleConfig({ smarthost: '127.0.0.1:10025' }));
      io.err(`portwarden: wrote a default config to ${file}`);
    }
    let loaded: ReturnType<typeof loadConfigWithSource>;
    try {
      loaded = loadConfigWithSource(file);
    } catch (err) {
      if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
      throw err;
    }
    try {
      return await serve(loaded.config, loaded.where);
    } catch (err) {
      if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
      throw err;
    }
  },
};

export async function serve(cfg: Config, where: (path: Array<string | number>) => string = () => 'config'): Promise<number> {
  const logger = createLogger(cfg.log.level);
  // Everything `config check` reports, before anything starts (check.ts).
  const problems = await configProblems(cfg, where);
  for (const w of problems.warnings) logger.warn({ event: 'config', warning: w });
  if (problems.errors.length) throw new ConfigError(problems.errors);
  const limitsOn = cfg.limits.enabled;
  const limits = problems.limits!;
  // Whatever this process creates (SQLite's -wal/-shm, the generated certificate, temporary files) is its own alone.
  process.umask(0o077);
  ensurePrivateDir(cfg.dataDir);
  tightenDataDir(cfg.dataDir, logger);
  const tls = new TlsStore(ensureCertificate(cfg.dataDir, cfg.hostname, cfg.tls));
  logger.info({ event: 'tls', subject: tls.info.subject, validTo: tls.info.validTo, sha256: tls.info.fingerprint256 });

  const store = openStore(join(cfg.dataDir, 'state.db'));
  store.migrate(AUTH_MIGRATIONS);
  const a = cfg.auth;
  configureHashing({ concurrency: a.hashConcurrency || undefined, queue: a.hashQueue });
  const accounts = new AccountStore(store, { logger, ...accountStoreOptions(cfg) });
  const authenticator = new Authenticator(accounts, { logger, disabledUrl: cfg.submission.helpUrl, rehashOnLogin: a.rehashOnLogin,
    failureFloorMs: a.failureFloorMs, scramIterations: a.scramIterations, scramSecret: loadScramSecret(cfg.dataDir) });
  // One server per data directory: a second one's recovery would delete the first's half-written files.
  const controlPath = controlSocketPath(cfg.dataDir);
  if (await controlServerRunning(controlPath)) throw new Error(`another portwarden is running on ${cfg.dataDir} (${controlPath} answers)`);
  const spool = await Spool.open(join(cfg.dataDir, 'spool'), { logger });
  const attribution = new AttributionLog(store, { retentionDays: cfg.accountability.retentionDays, logger, batchMs: cfg.accountability.batchMs });
  const pruneTimer = setInterval(() => attribution.prune(), 3_600_000).unref();
  const metrics: Metrics = createMetrics({ queueSizes: () => { const st = spool.stats(); return { active: st.active, deferred: st.deferred, hold: st.hold, corrupt: st.corrupt }; }, logger });
  const limitStore = buildLimitStore(cfg, logger);
  const bf = bruteForce(cfg, limitStore, logger, normalizeLogin,
    cfg.limits.store === 'redis' ? undefined : new KnownPrefixTable(store), where, (ev) => metrics.lockout(ev.scope));
  const events: SubmissionEvents = {
    session: (listener, change) => (change === 'open' ? metrics.sessionOpened(listener) : metrics.sessionClosed(listener)),
    recipient: (r) => metrics.recipient(r),
    transaction(t) {
      metrics.transaction(t.listener, t.ms);
      metrics.message(t.reply ?? { code: 250 });
      if (t.accepted && t.queueId && t.account) {
        attribution.record({ time: t.at, queueId: t.queueId, messageId: t.messageId, account: t.account, subscriber: t.subscriber,
          clientIp: t.clientIp, clientPort: t.clientPort, listener: t.listener, tlsVersion: t.tlsVersion, tlsCipher: t.tlsCipher,
          authMechanism: t.mechanism, sender: t.sender, recipientCount: t.recipients, size: t.size ?? 0 });
      }
    },
  };
  let sign: ((m: import('node:stream').Readable) => Promise<string>) | undefined;
  if (cfg.dkim.length) {
    const { DkimSigner } = await import('../dkim/index.ts');
    const signer = new DkimSigner({
      keys: cfg.dkim.map((k) => ({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, subdomains: k.subdomains, privateKeyPem: readFileSync(k.keyFile, 'utf8') })),
      logger,
    });
    sign = (m) => signer.sign(m);
    logger.info({ event: 'dkim', keys: cfg.dkim.map((k) => `${k.selector}._domainkey.${k.domain}`) });
  }
  const relay = new Relay({
    sign,
    spool,
    logger,
    ehloName: cfg.hostname,
    route: cfg.relay.mode === 'mx'
      ? { kind: 'mx', perDomain: cfg.relay.perDomain, tls: cfg.relay.tls === 'none' ? 'none' : 'opportunistic', allowPrivate: cfg.relay.allowPrivateDestinations }
      : { kind: 'smarthost', ...parseHostPort(cfg.relay.smarthost!, cfg.relay.tls, cfg.relay.verifyCertificate, cfg.relay.user, cfg.relay.password),
        ...(cfg.relay.caFile ? { ca: readFileSync(cfg.relay.caFile, 'utf8') } : {}) },
    concurrency: cfg.relay.concurrency,
    retry: { schedule: cfg.relay.retrySchedule, maxAge: cfg.relay.maxQueueLifetime },
    dsn: { hostname: cfg.hostname, delayWarning: cfg.relay.delayWarning },
    events: { recipient: (o) => metrics.relayOutcome(o), attempt: (o, ms) => metrics.relayAttempt(o, ms) },
  });

  const handler = new SubmissionHandler(
    { hostname: cfg.hostname, helpUrl: cfg.submission.helpUrl, postmasterDomains: cfg.submission.postmasterDomains },
    {
      accounts: accountsPort(accounts),
      sasl: throttledSasl({
        mechanisms: SASL_MECHANISMS,
        start: (mech, hooks) => createSaslServer(authenticator, mech, {
          gate: hooks.gate,
          onResult: (o) => {
            hooks.onOutcome(o);
            metrics.authAttempt(o.mechanism, o.ok ? 'success' : o.fail === 'locked' || o.fail === 'disabled' ? o.fail : o.fail === 'temporary' ? 'error' : 'failure');
          },
        }),
      }, bf, (mech) => metrics.authAttempt(mech, 'locked')),
      limits: limitsOn ? limitsPort(limits, limitStore, cfg.submission.helpUrl, logger, {
        onFlood(ctx) {
          accounts.disable(ctx.account, 'mail flood detected');
          logger.warn({ event: 'suspended', account: ctx.account, subscriber: ctx.subscriber, ip: ctx.ip, reason: 'flood' });
        },
        onDecision: (d) => metrics.limitDecision(d),
      }) : undefined,
      postmaster: postmasterGate(limitStore, cfg.submission.postmasterRate, logger),
      events,
      recipientDomain: recipientDomainCheck({ mode: cfg.relay.mode, allowPrivate: cfg.relay.allowPrivateDestinations }),
      spool: spoolPort(spool),
      fixer: fixerPort(cfg),
      logger,
      clock: systemClock,
    },
  );
  const server = new SmtpServer({
    listeners: cfg.listeners.map((l) => defaultListenerOptions({
      name: l.name,
      host: l.host,
      port: l.port,
      hostname: cfg.hostname,
      tls: l.tls,
      requireTls: l.requireTls ?? l.tls === 'starttls',
      authRequiresTls: true,
      bareLf: l.bareLf,
      forbidUnauthPipelining: false,
      maxConnections: l.maxConnections,
      maxConnectionsPerIp: l.maxConnectionsPerIp,
      maxConnectionsPerNetwork: l.maxConnectionsPerNetwork,
      ipv4NetworkPrefix: l.ipv4NetworkPrefix,
      ipv6NetworkPrefix: l.ipv6NetworkPrefix,
      maxMessageSize: cfg.smtp.maxMessageSize,
      maxRecipients: cfg.smtp.maxRecipients,
      idleTimeout: cfg.smtp.idleTimeout,
      maxSessionTime: cfg.smtp.maxSessionTime,
      preAuthIdleTimeout: cfg.smtp.preAuthIdleTimeout,
      preAuthSessionTime: cfg.smtp.preAuthSessionTime,
      maxReplyBacklog: cfg.smtp.maxReplyBacklog,
      maxErrors: cfg.smtp.maxErrors,
      smtputf8: cfg.smtp.smtputf8,
      chunking: cfg.smtp.chunking,
    })),
    handler,
    logger,
    secureContext: tls.context,
  });
  await server.listen().catch((err: NodeJS.ErrnoException & { port?: number }) => {
    const l = cfg.listeners.find((x) => x.port === err.port) ?? cfg.listeners[0];
    throw bindError(l.name, l.host, err.port ?? l.port, err);
  });
  // The operations' dependencies, one set for every front end in this process (control socket, admin API).
  await store.adb.migrate(AUDIT_MIGRATIONS);
  let policyStore: PolicyStore | undefined;
  const app: AppDeps = {
    clock: systemClock, logger, audit: new AuditLog(store.adb), accounts, attribution, spool, relay,
    get policy() { return (policyStore ??= new PolicyStore(store, systemClock)); },
    tiers: { names: limits.tierNames, defaultTier: limits.defaultTier },
    limits: limitsOn ? (account) => limitsInEffect(limits, limitStore, accounts, account) : undefined, limitsEnabled: limitsOn,
  };
  const control = await createControlServer({ spool, relay, logger, path: controlPath, audit: app.audit, app });
  const http = cfg.metrics.listen ? createMetricsServer(metrics, { logger }) : null;
  if (http && cfg.metrics.listen) {
    const { host, port } = splitHostPort(cfg.metrics.listen);
    await listenHttp(http, 'metrics', host, port);
    logger.info({ event: 'listening', listener: 'metrics', host, port: (http.address() as { port: number }).port });
  }
  // Optional services load their code only when configured.
  const policy = cfg.policyService.listen ? (await import('../postfix/index.ts')).createPolicyServer({
    limits, store: limitStore, helpUrl: cfg.submission.helpUrl, logger,
    allow: cfg.policyService.allow, maxConnections: cfg.policyService.maxConnections,
    accountStatus: (login) => { const a = accounts.get(login); return a ? { status: a.status, subscriber: a.subscriber, tier: a.tier } : 'unknown'; },
    lockedOut: async (ip, login) => (await bf.before(ip, login)).action === 'locked',
    onFlood: (e) => { if (e.suspend && e.login) accounts.disable(e.login, 'mail flood detected (policy service)'); },
  }) : null;
  let edgeApi: import('node:https').Server | null = null;
  if (cfg.netpolicy.listen && cfg.netpolicy.tokenFile) {
    const { createPolicyHttpsServer } = await import('../netpolicy/index.ts');
    const np = cfg.netpolicy;
    edgeApi = createPolicyHttpsServer({
      store, clock: systemClock, logger, tokens: problems.edgeTokens!, tls: tls.options(), maxConnections: np.maxConnections,
      maxReportBytes: np.maxReportBytes, maxReportEntries: np.maxReportEntries, reportRetentionMs: np.reportRetentionDays * 86_400_000,
    });
    const { host, port } = splitHostPort(np.listen!);
    await listenHttp(edgeApi, 'netpolicy', host, port);
    logger.info({ event: 'listening', listener: 'netpolicy', host, port: (edgeApi.address() as { port: number }).port, tls: true, spkiPin: tls.info.spkiPin });
  }
  if (policy && cfg.policyService.listen) {
    const { host, port } = splitHostPort(cfg.policyService.listen);
    const bound = await policy.listen(port, host).catch((err: NodeJS.ErrnoException) => { throw bindError('policy', host, port, err); });
    logger.info({ event: 'listening', listener: 'policy', host, port: bound });
  }
  // Delivery starts once every socket is bound: a start that fails to bind sends nothing.
  relay.start();
  for (const a of server.addresses()) logger.info({ event: 'listening', listener: a.listener, host: a.host, port: a.port });
  logger.info({ event: 'started', pid: process.pid, dataDir: cfg.dataDir });

  process.on('SIGHUP', () => {
    try {
      tls.reload();
      edgeApi?.setSecureContext(tls.options());
      logger.info({ event: 'reload', subject: tls.info.subject, validTo: tls.info.validTo, sha256: tls.info.fingerprint256 });
    } catch (err) {
      logger.error({ event: 'reload', err: String(err) }, 'reload failed; keeping the old certificate');
    }
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'stopping', signal, sessions: server.sessionCount() });
      await server.close({ drainMs: 10_000 });
      await control.close();
      await policy?.close();
      http?.close();
      edgeApi?.close();
      await relay.stop();
      clearInterval(pruneTimer);
      attribution.close();
      await limitStore.close();
      await spool.close();
      store.close();
      logger.info({ event: 'stopped' });
      resolve(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
}

/** A failed bind stops the start (main.ts exits 1) with one line naming the listener and address. */
function bindError(what: string, host: string, port: number, err: NodeJS.ErrnoException): Error {
  const why = err.code === 'EADDRINUSE' ? 'address already in use'
    : err.code === 'EACCES' ? 'permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE: see README "Ports 587 and 465 without root")'
    : err.code === 'EADDRNOTAVAIL' ? 'no such address on this host'
    : err.message;
  return new Error(`cannot listen for ${what} on ${host.includes(':') ? `[${host}]` : host}:${port}: ${why}`);
}

function listenHttp(srv: import('node:net').Server, what: string, host: string, port: number): Promise<void> {
  return new Promise<void>((res, rej) => {
    const fail = (err: NodeJS.ErrnoException) => rej(bindError(what, host, port, err));
    srv.once('error', fail);
    srv.listen(port, host, () => { srv.off('error', fail); res(); });
  });
}

function parseHostPort(hp: string, tls: 'none' | 'opportunistic' | 'required', verify: boolean, user?: string, pass?: string) {
  return { ...splitHostPort(hp), tls, rejectUnauthorized: verify, auth: user && pass ? { user, pass } : undefined };
}

function accountsPort(accounts: AccountStore): AccountsPort {
  return {
    get(login) {
      const a = accounts.get(login);
      return a ? { login: a.login, subscriber: a.subscriber, status: a.status, tier: a.tier } : null;
    },
    mayUseAddress: (login, address) => accounts.mayUseAddress(login, address),
  };
}

function spoolPort(spool: Spool): SpoolPort {
  return {
    create(env) {
      const p = env.mailFrom.params;
      return spool.create({
        mailFrom: { address: env.mailFrom.address, ret: p.ret, envid: p.envid, smtputf8: p.smtputf8, body: p.body, size: p.size },
        recipients: env.rcptTo.map((r) => ({ address: r.address, notify: r.params.notify, orcpt: r.params.orcpt })),
        account: env.account ?? undefined,
        identity: env.subscriber ?? undefined,
        client: { ip: env.client.ip, port: env.client.port },
        canonical: true, // the MessageFixer's output: CRLF only (a stray CR or LF became a space)
        attributes: {
          listener: env.client.listener,
          ...(env.client.helo ? { helo: env.client.helo } : {}),
          ...(env.client.tls ? { tls: env.client.tls } : {}),
          ...(env.client.mechanism ? { mechanism: env.client.mechanism } : {}),
          ...(env.originalSender !== undefined ? { originalSender: env.originalSender } : {}),
        },
      });
    },
  };
}

function fixerPort(cfg: Config): FixerPort {
  const sub = cfg.submission;
  const options = {
    hostname: cfg.hostname, malformedHeaderAction: sub.malformedHeaderAction, clock: systemClock,
    maxReceived: sub.maxReceived, maxAddressFieldBytes: sub.maxAddressFieldBytes, maxAddressFields: sub.maxAddressFields,
  };
  return {
    create: (input) => new MessageFixer(options, { received: input.received, queueId: input.queueId, smtputf8: input.smtputf8 }),
    received: (input) => buildReceived(input),
    protocolName: (flags) => protocolName(flags),
  };
}
