// `portwarden start`: wires config → store, accounts, spool, relay, the MSA
// handler and the SMTP engine; SIGHUP reloads certificates, SIGTERM drains.
import { parseArgs } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../core/index.ts';
import { ConfigError, exampleConfig, loadConfigWithSource, splitHostPort, type Config } from '../config/index.ts';
import { openStore } from '../store/index.ts';
import { AccountStore, Authenticator, SASL_MECHANISMS, configureHashing, createSaslServer, KnownPrefixTable, loadScramSecret, normalizeLogin } from '../auth/index.ts';
import { MessageFixer, buildReceived, protocolName } from '../message/index.ts';
import { Spool } from '../spool/index.ts';
import { Relay, recipientDomainCheck } from '../relay/index.ts';
import { SmtpServer, defaultListenerOptions } from '../smtp/index.ts';
import { SubmissionHandler, type FixerPort, type SpoolPort, type AccountsPort } from '../submission/index.ts';
import { AttributionLog, subscribeAttribution } from '../accountability/index.ts';
import { createMetrics, subscribeMetrics, type Metrics } from '../metrics/index.ts';
import { InProcessBus } from '../events/index.ts';
import { readFileSync } from 'node:fs';
import { createControlServer, controlServerRunning, controlSocketPath } from '../control/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, type AppDeps } from '../app/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { buildLimitStore, bruteForce, limitsInEffect, limitsPort, postmasterGate, suspendOnFlood, throttledSasl } from './limits.ts';
import { subscribeLogs } from './log-events.ts';
import { ensurePrivateDir, tightenDataDir } from './datadir.ts';
import { createLogSink } from './logger.ts';
import { configProblems } from './check.ts';
import { ensureCertificate, TlsStore } from './tls.ts';
import { configPath, type Command } from './commands.ts';
import { accountStoreOptions, storeConfig } from './state.ts';
import { startHttp } from './http.ts';

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
  const logSink = createLogSink(cfg.log);
  const logger = logSink.logger;
  // At once: logrotate's SIGHUP during the start must reopen the log, not end the process (the default action).
  process.on('SIGHUP', () => logSink.reopen());
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

  const store = await openStore(storeConfig(cfg));
  logger.info({ event: 'store', kind: store.dialect, location: store.location });
  const a = cfg.auth;
  configureHashing({ concurrency: a.hashConcurrency || undefined, queue: a.hashQueue });
  const accounts = await AccountStore.open(store, { logger, ...accountStoreOptions(cfg) });
  const authenticator = new Authenticator(accounts, { logger, disabledUrl: cfg.submission.helpUrl, rehashOnLogin: a.rehashOnLogin,
    failureFloorMs: a.failureFloorMs, scramIterations: a.scramIterations, scramSecret: loadScramSecret(cfg.dataDir) });
  // One server per data directory: a second one's recovery would delete the first's half-written files.
  const controlPath = controlSocketPath(cfg.dataDir);
  if (await controlServerRunning(controlPath)) throw new Error(`another portwarden is running on ${cfg.dataDir} (${controlPath} answers)`);
  const spool = await Spool.open(join(cfg.dataDir, 'spool'), { logger });
  const attribution = await AttributionLog.open(store, { retentionDays: cfg.accountability.retentionDays, logger, batchMs: cfg.accountability.batchMs });
  const pruneTimer = setInterval(() => void attribution.prune().catch((err: unknown) => logger.error({ event: 'attribution', err: String(err) }, 'attribution prune failed')), 3_600_000).unref();
  const metrics: Metrics = createMetrics({ queueSizes: () => { const st = spool.stats(); return { active: st.active, deferred: st.deferred, hold: st.hold, corrupt: st.corrupt }; }, logger });
  const limitStore = buildLimitStore(cfg, logger);
  // The one event bus: parts publish, these subscribe.
  const bus = new InProcessBus({ logger });
  subscribeLogs(bus, logger);
  subscribeMetrics(bus, metrics);
  subscribeAttribution(bus, attribution);
  suspendOnFlood(bus, accounts, logger);
  const bf = bruteForce(cfg, limitStore, logger, normalizeLogin,
    cfg.limits.store === 'redis' ? undefined : await KnownPrefixTable.open(store), where, bus);
  const limitsGate = limitsOn ? limitsPort(limits, limitStore, cfg.submission.helpUrl, bus) : undefined;
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
    bus,
  });

  const handler = new SubmissionHandler(
    { hostname: cfg.hostname, helpUrl: cfg.submission.helpUrl, postmasterDomains: cfg.submission.postmasterDomains },
    {
      accounts: accountsPort(accounts),
      sasl: throttledSasl({
        mechanisms: SASL_MECHANISMS,
        start: (mech, hooks) => createSaslServer(authenticator, mech, {
          gate: hooks.gate,
          onResult: (o) => hooks.onOutcome(o),
        }),
      }, bf, bus),
      limits: limitsGate,
      decision: limitsGate,
      postmaster: postmasterGate(limitStore, cfg.submission.postmasterRate, bus),
      bus,
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
  await store.migrate(AUDIT_MIGRATIONS);
  let policyStore: PolicyStore | undefined;
  const app: AppDeps = {
    clock: systemClock, logger, audit: new AuditLog(store.db), accounts, attribution, spool, relay,
    get policy() { return (policyStore ??= new PolicyStore(store, systemClock, { changed: (e) => bus.publish('policy.changed', e) })); },
    tiers: { names: limits.tierNames, defaultTier: limits.defaultTier },
    limits: limitsOn ? (account) => limitsInEffect(limits, limitStore, accounts, account) : undefined, limitsEnabled: limitsOn,
  };
  const control = await createControlServer({ spool, relay, logger, path: controlPath, audit: app.audit, app });
  let relayRunning = false;
  const http = await startHttp({ cfg, logger, tls, metrics, store, spoolDir: spool.dir, edgeTokens: problems.edgeTokens, relayRunning: () => relayRunning, bindError, bus, app });
  // Optional services load their code only when configured.
  const policy = cfg.policyService.listen ? (await import('../postfix/index.ts')).createPolicyServer({
    limits, store: limitStore, helpUrl: cfg.submission.helpUrl, logger,
    allow: cfg.policyService.allow, maxConnections: cfg.policyService.maxConnections,
    accountStatus: async (login) => { const a = await accounts.get(login); return a ? { status: a.status, subscriber: a.subscriber, tier: a.tier } : 'unknown'; },
    lockedOut: async (ip, login) => (await bf.before(ip, login)).action === 'locked',
    onFlood: (e) => { if (e.login) bus.publish('limit.flood', { rule: e.ruleId, account: e.login, subscriber: null, clientIp: e.ip, suspend: e.suspend, source: 'policy-service' }); },
  }) : null;
  if (policy && cfg.policyService.listen) {
    const { host, port } = splitHostPort(cfg.policyService.listen);
    const bound = await policy.listen(port, host).catch((err: NodeJS.ErrnoException) => { throw bindError('policy', host, port, err); });
    logger.info({ event: 'listening', listener: 'policy', host, port: bound });
  }
  // Delivery starts once every socket is bound: a start that fails to bind sends nothing.
  relay.start();
  relayRunning = true;
  http.bound();
  for (const a of server.addresses()) logger.info({ event: 'listening', listener: a.listener, host: a.host, port: a.port });
  logger.info({ event: 'started', pid: process.pid, dataDir: cfg.dataDir });

  process.on('SIGHUP', () => {
    try {
      tls.reload();
      http.reload();
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
      await http.close();
      relayRunning = false;
      await relay.stop();
      clearInterval(pruneTimer);
      await attribution.close().catch((err: unknown) => logger.error({ event: 'attribution', err: String(err) }, 'attribution flush failed'));
      await limitStore.close();
      await spool.close();
      await store.close();
      logger.info({ event: 'stopped' });
      await logSink.close();
      resolve(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
}

/** A failed bind stops the start (main.ts exits 1) with one line naming the listener and address. */
export function bindError(what: string, host: string, port: number, err: NodeJS.ErrnoException): Error {
  const why = err.code === 'EADDRINUSE' ? 'address already in use'
    : err.code === 'EACCES' ? 'permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE: see README "Ports 587 and 465 without root")'
    : err.code === 'EADDRNOTAVAIL' ? 'no such address on this host'
    : err.message;
  return new Error(`cannot listen for ${what} on ${host.includes(':') ? `[${host}]` : host}:${port}: ${why}`);
}

function parseHostPort(hp: string, tls: 'none' | 'opportunistic' | 'required', verify: boolean, user?: string, pass?: string) {
  return { ...splitHostPort(hp), tls, rejectUnauthorized: verify, auth: user && pass ? { user, pass } : undefined };
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
