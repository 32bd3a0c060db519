// The outside signals, wired: the abuse mailbox (its own SMTP listener on
// abuse.mailbox.listen, reports under <dataDir>/abuse/reports and in the state
// store) and the DNSBL checker (abuse.dnsbl.zones). Both hand their signals to
// the abuse engine's SignalSink and ask the directory who held an address;
// each comes in through `MailboxWiring` and may be absent: without the engine
// reports are stored, published and listed, only not signalled; without the
// directory they carry no subscriber, and the DNSBL checker, which then has no
// addresses to ask about, does not run (logged). When the directory runs here
// (`holders`), the prefixes it holds now are the checker's addresses and, with
// the netpolicy pools, the provider's own space (`currentPrefixes`, unless the
// wiring gives its own). The report store is opened whether or not the mailbox
// listens, so `reports.*` answers from the server.
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import type { SecureContext } from 'node:tls';
import { formatIp, parseIp, maskIp, systemClock, type Clock, type Logger } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { currentPrefixes, type HolderLookup } from '../directory/index.ts';
import type { AppDeps } from '../app/index.ts';
import { DnsblChecker, ReportStore, dnsblStateStore, startMailbox, type SignalSink } from '../abuse/index.ts';
import type { Service } from './services.ts';

export interface MailboxWiring {
  cfg: Config;
  logger: Logger;
  bus: EventBus;
  store: Store;
  /** The node's TLS context (STARTTLS on the mailbox). */
  secureContext?: () => SecureContext;
  /** The operations' dependencies: the report store is put there (reports.list, reports.show). */
  app?: AppDeps;
  /** Seam for the abuse engine (branch `engine`): where report and dnsbl signals go. Absent: none are sent. */
  sink?: SignalSink;
  /** Seam for the directory (branch `directory`): who held an address at a time. Absent: reports carry no subscriber. */
  holders?: Pick<HolderLookup, 'holdersAt'>;
  /** The directory's prefixes (the provider's space beyond the netpolicy pools), for finding the source in a Received chain. Default with `holders`: the prefixes held now. */
  ownPrefixes?: () => Promise<readonly string[]>;
  /** The addresses in use now (IPv4 hosts, IPv6 addresses or prefixes) the DNSBL checker asks about. Default with `holders`: the prefixes held now; else no DNSBL checks. */
  addressesInUse?: () => Promise<readonly string[]>;
  /** The netpolicy pools (the provider's space). */
  pools?: () => Promise<ReadonlyArray<{ prefix: string }>>;
  clock?: Clock;
  bindError?: (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;
}

/** What `config check` and `start` say about the mailbox and the DNSBL checker. */
export function mailboxProblems(cfg: Config, at: (p: Array<string | number>, m: string) => string): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const m = cfg.abuse.mailbox;
  if (m.listen && m.domains.length === 0) {
    warnings.push(at(['abuse', 'mailbox', 'domains'], 'empty: every recipient is accepted on abuse.mailbox.listen; list the domains whose abuse@ and postmaster@ it is (RFC 2142)'));
  }
  cfg.abuse.dnsbl.servers.forEach((s, i) => {
    try { new Resolver().setServers([s]); } catch {
      errors.push(at(['abuse', 'dnsbl', 'servers', i], `${JSON.stringify(s)} is not an IP address with an optional port (node:dns asks addresses, not names)`));
    }
  });
  return { errors, warnings };
}

/** A membership test over prefixes (one set of masked keys per prefix length: a lookup costs the number of lengths, not of prefixes). */
export class PrefixSet {
  private byLen = new Map<number, Set<string>>();
  private count = 0;

  set(prefixes: Iterable<string>): void {
    const byLen = new Map<number, Set<string>>();
    let count = 0;
    for (const p of prefixes) {
      const [addr, l] = p.split('/');
      const a = parseIp(addr);
      if (!a) continue;
      const max = a.v === 4 ? 32 : 128;
      const len = l === undefined ? max : Number(l);
      if (!Number.isInteger(len) || len < 0 || len > max) continue;
      const key = (a.v === 4 ? 0 : 1000) + len;
      if (!byLen.has(key)) byLen.set(key, new Set());
      byLen.get(key)!.add(formatIp(maskIp(a, len)));
      count++;
    }
    this.byLen = byLen;
    this.count = count;
  }

  get size(): number { return this.count; }

  has(address: string): boolean {
    const a = parseIp(address);
    if (!a) return false;
    for (const [key, nets] of this.byLen) {
      if ((key >= 1000) !== (a.v === 6)) continue;
      if (nets.has(formatIp(maskIp(a, key % 1000)))) return true;
    }
    return false;
  }
}

const REFRESH_MS = 5 * 60_000;
const PRUNE_MS = 3_600_000;

/** The mailbox and the DNSBL checker as one service of the node. */
export function mailboxService(get: () => MailboxWiring): Service {
  const stops: Array<() => Promise<void> | void> = [];
  return {
    name: 'abuse-mailbox',
    start: async () => {
      const given = get();
      const held = given.holders ? () => currentPrefixes(given.store.db) : undefined;
      const w: MailboxWiring = { ...given, ownPrefixes: given.ownPrefixes ?? held, addressesInUse: given.addressesInUse ?? held };
      const { cfg, logger } = w;
      const clock = w.clock ?? systemClock;
      const reports = await ReportStore.open(w.store, join(cfg.dataDir, 'abuse', 'reports'));
      if (w.app) w.app.reports = reports;
      // Retention: a report is kept as long as the address history it is joined to (directory.retentionDays).
      const prune = (): void => void reports.prune(clock.now() - cfg.directory.retentionDays * 86_400_000)
        .then((n) => { if (n) logger.info({ event: 'abuse-mailbox', pruned: n }, 'old reports deleted'); })
        .catch((err: unknown) => logger.error({ event: 'abuse-mailbox', err: String(err) }, 'report prune failed'));
      prune();
      const pruneTimer = setInterval(prune, PRUNE_MS).unref();
      stops.push(() => clearInterval(pruneTimer));
      if (cfg.abuse.mailbox.listen) await listen(w, reports, clock, stops);
      if (cfg.abuse.dnsbl.zones.length) await startDnsbl(w, clock, stops);
    },
    stop: async () => { for (const s of stops.splice(0).reverse()) await s(); },
  };
}

async function listen(w: MailboxWiring, reports: ReportStore, clock: Clock, stops: Array<() => Promise<void> | void>): Promise<void> {
  const { cfg, logger } = w;
  const own = new PrefixSet();
  const refresh = async (): Promise<void> => {
    const [pools, dir] = await Promise.all([
      w.pools ? w.pools().catch((err: unknown) => { logger.error({ event: 'abuse-mailbox', err: String(err) }, 'cannot read the netpolicy pools'); return []; }) : [],
      w.ownPrefixes ? w.ownPrefixes().catch((err: unknown) => { logger.error({ event: 'abuse-mailbox', err: String(err) }, 'cannot read the directory\'s prefixes'); return []; }) : [],
    ]);
    own.set([...pools.map((p) => p.prefix), ...dir]);
  };
  await refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS).unref();
  stops.push(() => clearInterval(timer));
  const { host, port } = splitHostPort(cfg.abuse.mailbox.listen!);
  const m = await startMailbox(
    { hostname: cfg.hostname, domains: cfg.abuse.mailbox.domains, maxReportBytes: cfg.abuse.mailbox.maxReportBytes, host, port, secureContext: w.secureContext },
    { store: reports, isOwn: (a) => own.has(a), holders: w.holders, sink: w.sink, bus: w.bus, logger, clock },
  ).catch((err: NodeJS.ErrnoException) => { throw w.bindError ? w.bindError('abuse-mailbox', host, port, err) : err; });
  stops.push(() => m.close());
  logger.info({ event: 'listening', listener: 'abuse-mailbox', host, port: m.port, ownPrefixes: own.size, engine: !!w.sink, directory: !!w.holders });
}

async function startDnsbl(w: MailboxWiring, clock: Clock, stops: Array<() => Promise<void> | void>): Promise<void> {
  const { cfg, logger } = w;
  if (!w.addressesInUse) {
    logger.warn({ event: 'dnsbl' }, 'abuse.dnsbl.zones is set but the directory is not running here: no addresses to check; the DNSBL checker is not started');
    return;
  }
  const d = cfg.abuse.dnsbl;
  const state = await dnsblStateStore(w.store);
  // policy.explain ("Am I blocked?") reads the standing listings.
  if (w.app) { const app = w.app; app.dnsbl = state; stops.push(() => { if (app.dnsbl === state) app.dnsbl = undefined; }); }
  const checker = new DnsblChecker({
    zones: d.zones, servers: d.servers, intervalMs: d.intervalMinutes * 60_000, addresses: w.addressesInUse, state,
    bus: w.bus, sink: w.sink, logger, clock,
  });
  checker.start();
  stops.push(() => checker.stop());
  logger.info({ event: 'dnsbl', zones: d.zones, servers: d.servers.length ? d.servers : 'system', intervalMinutes: d.intervalMinutes, engine: !!w.sink }, 'DNSBL checker started');
}
