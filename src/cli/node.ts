// One portwarden node as an ordered list of services (`Services` starts them in
// order and stops them in reverse): the store and what lives in it, the spool,
// the limits and the event bus with its subscribers, the relay, the SMTP
// listeners, the control socket, the HTTP listeners, the Postfix policy service,
// and last the delivery, so that a start that fails to bind sends nothing and a
// stop closes the doors before it stops the relay and closes the files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { systemClock, type Logger } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { AccountStore, Authenticator, SASL_MECHANISMS, configureHashing, createSaslServer, KnownPrefixTable, loadScramSecret, normalizeLogin } from '../auth/index.ts';
import { Spool } from '../spool/index.ts';
import { Relay, recipientDomainCheck } from '../relay/index.ts';
import { SmtpServer } from '../smtp/index.ts';
import { SubmissionHandler } from '../submission/index.ts';
import { AttributionLog, subscribeAttribution } from '../accountability/index.ts';
import { createMetrics, subscribeMetrics, type Metrics } from '../metrics/index.ts';
import { InProcessBus } from '../events/index.ts';
import { createControlServer, controlServerRunning, controlSocketPath } from '../control/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, EXEMPTION_MIGRATIONS, ExemptionRepository, STAFF_MIGRATIONS, StaffRepository, dnsResolver, type AppDeps } from '../app/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { buildLimitStore, bruteForce, limitsInEffect, limitsPort, postmasterGate, suspendOnFlood, throttledSasl, type LimitsGate } from './limits.ts';
import type { BruteForceTracker, Limits, LimitStore } from '../limits/index.ts';
import { subscribeLogs } from './log-events.ts';
import type { configProblems } from './check.ts';
import type { TlsStore } from './tls.ts';
import { accountStoreOptions, storeConfig } from './state.ts';
import { startHttp, type HttpLayer } from './http.ts';
import { accountsPort, fixerPort, listenerOptions, relayRoute, spoolPort } from './ports.ts';
import type { Service } from './services.ts';
import { noticeService } from './notice-wiring.ts';
import { autoconfigService } from './autoconfig-wiring.ts';
import { consoleService, type ConsoleService } from './console-wiring.ts';
import { sourcesService } from './sources-wiring.ts';
import { abuseService, floodSubscriberRuns } from './abuse-wiring.ts';
import { directoryService } from './directory-wiring.ts';
import type { OpenedDirectory } from '../directory/index.ts';
import { mailboxService } from './mailbox-wiring.ts';
import { statsService } from './stats-wiring.ts';
import type { StatsRecorder } from '../stats/index.ts';
import { portalService, type PortalHandle } from './portal-wiring.ts';
import { exemptionsService } from './exemptions-wiring.ts';

type Problems = Awaited<ReturnType<typeof configProblems>>;
type BindError = (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;

export class PortwardenNode {
  readonly bus: InProcessBus;
  private readonly cfg: Config;
  private readonly logger: Logger;
  private readonly tls: TlsStore;
  private readonly problems: Problems;
  private readonly where: (path: Array<string | number>) => string;
  private readonly bindError: BindError;
  private store!: Store;
  private accounts!: AccountStore;
  private authenticator!: Authenticator;
  private attribution!: AttributionLog;
  private pruneTimer: NodeJS.Timeout | undefined;
  private spool!: Spool;
  private metrics!: Metrics;
  private limitStore!: LimitStore;
  private bf!: BruteForceTracker;
  private limitsGate: LimitsGate | undefined;
  private relay!: Relay;
  private server!: SmtpServer;
  private app!: AppDeps;
  private http: HttpLayer | undefined;
  private directory: OpenedDirectory | undefined;
  private relayRunning = false;
  private readonly console: ConsoleService = consoleService(() => ({ cfg: this.cfg, logger: this.logger, tls: this.tls, app: this.app, bindError: this.bindError }));
  private stats: StatsRecorder | undefined;
  private policyStore: PolicyStore | undefined;
  private portal: PortalHandle | undefined;

  constructor(o: { cfg: Config; logger: Logger; tls: TlsStore; problems: Problems; where: (path: Array<string | number>) => string; bindError: BindError }) {
    this.cfg = o.cfg;
    this.logger = o.logger;
    this.tls = o.tls;
    this.problems = o.problems;
    this.where = o.where;
    this.bindError = o.bindError;
    this.bus = new InProcessBus({ logger: o.logger });
  }

  private get limits(): Limits { return this.problems.limits!; }

  /** In start order; stopped in reverse. */
  services(): Service[] {
    const abuse = abuseService(() => ({ cfg: this.cfg, logger: this.logger, bus: this.bus, store: this.store, app: this.app, accounts: this.accounts, spool: this.spool, metrics: this.metrics }));
    return [
      { name: 'store', start: () => this.openStore(), stop: () => this.closeStore() },
      { name: 'spool', start: () => this.openSpool(), stop: () => this.spool.close() },
      { name: 'limits', start: () => this.startLimits(), stop: () => this.limitStore.close() },
      // Before the listeners (every message counted), stopped after them (the last counts written).
      statsService(() => ({ cfg: this.cfg, logger: this.logger, bus: this.bus, store: this.store, spool: this.spool, policy: this.policy() }), (r) => { this.stats = r; }),
      directoryService(() => ({ store: this.store, cfg: this.cfg, logger: this.logger, bus: this.bus }), (d) => { this.directory = d; }),
      { name: 'relay', start: () => this.buildRelay(), stop: () => { this.relayRunning = false; return this.relay.stop(); } },
      { name: 'smtp', start: () => this.listenSmtp(), stop: () => this.server.close({ drainMs: 10_000 }) },
      this.controlService(),
      abuse,
      { name: 'http', start: () => this.startHttp(), stop: () => this.http?.close() },
      noticeService(() => ({ cfg: this.cfg, logger: this.logger, bus: this.bus, cases: this.app.cases, directory: this.app.directory, bindError: this.bindError })),
      autoconfigService(() => ({ cfg: this.cfg, logger: this.logger, bindError: this.bindError })),
      this.console,
      portalService(() => ({ cfg: this.cfg, logger: this.logger, tls: this.tls, store: this.store, bus: this.bus, app: this.app, accounts: this.accounts,
        authenticator: this.authenticator, bf: this.bf, bindError: this.bindError }), (h) => { this.portal = h; }),
      sourcesService(() => ({ cfg: this.cfg, logger: this.logger, bus: this.bus, directory: this.directory, bindError: this.bindError })),
      // Seams (mailbox-wiring.ts): sink = the abuse engine; holders, ownPrefixes, addressesInUse = the directory.
      mailboxService(() => ({ cfg: this.cfg, logger: this.logger, bus: this.bus, store: this.store, secureContext: this.tls.context, app: this.app, pools: () => this.app.policy!.listPools(), holders: this.app.directory, sink: abuse.sink(), bindError: this.bindError })),
      this.policyService(),
      exemptionsService(() => ({ cfg: this.cfg, logger: this.logger, bus: this.bus, spool: this.spool, app: this.app })),
      { name: 'delivery', start: () => this.startDelivery(), stop: () => {} },
    ];
  }

  /** The sessions open now (the stopping log line names them). */
  sessionCount(): number { return this.server?.sessionCount() ?? 0; }

  /** SIGHUP: the new certificate for every TLS listener. */
  reloadTls(): void {
    this.tls.reload();
    this.http?.reload();
    this.console.reload();
    this.portal?.reload();
  }

  private async openStore(): Promise<void> {
    const { cfg, logger } = this;
    this.store = await openStore(storeConfig(cfg));
    logger.info({ event: 'store', kind: this.store.dialect, location: this.store.location });
    const a = cfg.auth;
    configureHashing({ concurrency: a.hashConcurrency || undefined, queue: a.hashQueue });
    this.accounts = await AccountStore.open(this.store, { logger, ...accountStoreOptions(cfg) });
    this.authenticator = new Authenticator(this.accounts, { logger, disabledUrl: cfg.submission.helpUrl, rehashOnLogin: a.rehashOnLogin,
      failureFloorMs: a.failureFloorMs, scramIterations: a.scramIterations, scramSecret: loadScramSecret(cfg.dataDir) });
    this.attribution = await AttributionLog.open(this.store, { retentionDays: cfg.accountability.retentionDays, logger, batchMs: cfg.accountability.batchMs });
    this.pruneTimer = setInterval(() => void this.attribution.prune().catch((err: unknown) =>
      logger.error({ event: 'attribution', err: String(err) }, 'attribution prune failed')), 3_600_000).unref();
    await this.store.migrate([...AUDIT_MIGRATIONS, ...STAFF_MIGRATIONS, ...EXEMPTION_MIGRATIONS]);
  }

  private async closeStore(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.attribution?.close().catch((err: unknown) => this.logger.error({ event: 'attribution', err: String(err) }, 'attribution flush failed'));
    await this.store.close();
  }

  /** One server per data directory: a second one's recovery would delete the first's half-written files. */
  private async openSpool(): Promise<void> {
    const controlPath = controlSocketPath(this.cfg.dataDir);
    if (await controlServerRunning(controlPath)) throw new Error(`another portwarden is running on ${this.cfg.dataDir} (${controlPath} answers)`);
    this.spool = await Spool.open(join(this.cfg.dataDir, 'spool'), { logger: this.logger });
  }

  /** The limit store, the brute-force tracker, the metrics, and the bus's subscribers. */
  private async startLimits(): Promise<void> {
    const { cfg, logger, bus, spool } = this;
    this.metrics = createMetrics({ queueSizes: () => { const st = spool.stats(); return { active: st.active, deferred: st.deferred, hold: st.hold, corrupt: st.corrupt }; }, logger });
    this.limitStore = buildLimitStore(cfg, logger);
    subscribeLogs(bus, logger);
    subscribeMetrics(bus, this.metrics);
    subscribeAttribution(bus, this.attribution);
    if (floodSubscriberRuns(cfg)) suspendOnFlood(bus, this.accounts, logger); // else the abuse engine's rules suspend
    this.bf = bruteForce(cfg, this.limitStore, logger, normalizeLogin,
      cfg.limits.store === 'redis' ? undefined : await KnownPrefixTable.open(this.store), this.where, bus);
    this.limitsGate = cfg.limits.enabled ? limitsPort(this.limits, this.limitStore, cfg.submission.helpUrl, bus, floodSubscriberRuns(cfg)) : undefined;
  }

  private async buildRelay(): Promise<void> {
    const { cfg, logger } = this;
    let sign: ((m: Readable) => Promise<string>) | undefined;
    if (cfg.dkim.length) {
      const { DkimSigner } = await import('../dkim/index.ts');
      const signer = new DkimSigner({
        keys: cfg.dkim.map((k) => ({ domain: k.domain, selector: k.selector, algorithm: k.algorithm, subdomains: k.subdomains, privateKeyPem: readFileSync(k.keyFile, 'utf8') })),
        logger,
      });
      sign = (m) => signer.sign(m);
      logger.info({ event: 'dkim', keys: cfg.dkim.map((k) => `${k.selector}._domainkey.${k.domain}`) });
    }
    this.relay = new Relay({
      sign, spool: this.spool, logger, ehloName: cfg.hostname, route: relayRoute(cfg), concurrency: cfg.relay.concurrency,
      retry: { schedule: cfg.relay.retrySchedule, maxAge: cfg.relay.maxQueueLifetime },
      dsn: { hostname: cfg.hostname, delayWarning: cfg.relay.delayWarning },
      bus: this.bus,
    });
  }

  private async listenSmtp(): Promise<void> {
    const { cfg, logger, bus } = this;
    const handler = new SubmissionHandler(
      { hostname: cfg.hostname, helpUrl: cfg.submission.helpUrl, postmasterDomains: cfg.submission.postmasterDomains },
      {
        accounts: accountsPort(this.accounts),
        sasl: throttledSasl({
          mechanisms: SASL_MECHANISMS,
          start: (mech, hooks) => createSaslServer(this.authenticator, mech, { gate: hooks.gate, onResult: (o) => hooks.onOutcome(o) }),
        }, this.bf, bus),
        limits: this.limitsGate,
        decision: this.limitsGate,
        postmaster: postmasterGate(this.limitStore, cfg.submission.postmasterRate, bus),
        bus,
        recipientDomain: recipientDomainCheck({ mode: cfg.relay.mode, allowPrivate: cfg.relay.allowPrivateDestinations }),
        spool: spoolPort(this.spool),
        fixer: fixerPort(cfg),
        logger,
        clock: systemClock,
      },
    );
    this.server = new SmtpServer({ listeners: listenerOptions(cfg), handler, logger, secureContext: this.tls.context });
    await this.server.listen().catch((err: NodeJS.ErrnoException & { port?: number }) => {
      const l = cfg.listeners.find((x) => x.port === err.port) ?? cfg.listeners[0];
      throw this.bindError(l.name, l.host, err.port ?? l.port, err);
    });
  }

  /** The policy store, made when first asked for (its changes published on the bus). */
  private policy(): PolicyStore {
    return (this.policyStore ??= new PolicyStore(this.store, systemClock, { changed: (e) => this.bus.publish('policy.changed', e) }));
  }

  /** The operations' dependencies (one set for the control socket and the admin API) and the control socket. */
  private controlService(): Service {
    let close: (() => Promise<void>) | undefined;
    return {
      name: 'control',
      start: async () => {
        const { cfg, logger, store, limits, limitStore, accounts } = this;
        const policy = (): PolicyStore => this.policy();
        const limitsOn = cfg.limits.enabled;
        this.app = {
          clock: systemClock, logger, audit: new AuditLog(store.db), accounts, attribution: this.attribution, spool: this.spool, relay: this.relay,
          get policy() { return policy(); },
          tiers: { names: limits.tierNames, defaultTier: limits.defaultTier },
          limits: limitsOn ? (account) => limitsInEffect(limits, limitStore, accounts, account) : undefined, limitsEnabled: limitsOn,
          directory: this.directory, stats: this.stats,
          staff: new StaffRepository(store.db),
          exemptions: { repo: new ExemptionRepository(store.db, () => systemClock.now()), settings: cfg.exemptions, dns: dnsResolver(cfg.exemptions.resolvers) },
        };
        const control = await createControlServer({ spool: this.spool, relay: this.relay, logger, path: controlSocketPath(cfg.dataDir), audit: this.app.audit, app: this.app });
        close = () => control.close();
      },
      stop: () => close?.(),
    };
  }

  private async startHttp(): Promise<void> {
    const { cfg, logger, tls, bus } = this;
    this.http = await startHttp({ cfg, logger, tls, metrics: this.metrics, store: this.store, spoolDir: this.spool.dir, edgeTokens: this.problems.edgeTokens,
      relayRunning: () => this.relayRunning, bindError: this.bindError, bus, app: this.app });
  }

  /** The Postfix policy service; its code loads only when configured. */
  private policyService(): Service {
    let close: (() => Promise<void>) | undefined;
    return {
      name: 'policy-service',
      start: async () => {
        const { cfg, logger, bus } = this;
        if (!cfg.policyService.listen) return;
        const policy = (await import('../postfix/index.ts')).createPolicyServer({
          limits: this.limits, store: this.limitStore, helpUrl: cfg.submission.helpUrl, logger,
          allow: cfg.policyService.allow, maxConnections: cfg.policyService.maxConnections, floodSuspends: floodSubscriberRuns(cfg),
          accountStatus: async (login) => { const a = await this.accounts.get(login); return a ? { status: a.status, subscriber: a.subscriber, tier: a.tier } : 'unknown'; },
          lockedOut: async (ip, login) => (await this.bf.before(ip, login)).action === 'locked',
          onFlood: (e) => { if (e.login) bus.publish('limit.flood', { rule: e.ruleId, account: e.login, subscriber: null, clientIp: e.ip, suspend: e.suspend, source: 'policy-service' }); },
        });
        const { host, port } = splitHostPort(cfg.policyService.listen);
        close = () => policy.close();
        const bound = await policy.listen(port, host).catch((err: NodeJS.ErrnoException) => { throw this.bindError('policy', host, port, err); });
        logger.info({ event: 'listening', listener: 'policy', host, port: bound });
      },
      stop: () => close?.(),
    };
  }

  /** Delivery starts once every socket is bound: a start that fails to bind sends nothing. */
  private startDelivery(): void {
    this.relay.start();
    this.relayRunning = true;
    this.http?.bound();
    for (const a of this.server.addresses()) this.logger.info({ event: 'listening', listener: a.listener, host: a.host, port: a.port });
  }
}
