// The world the "Am I blocked?" tests ask about: a real SQLite state store
// with the policy store (a pool of each class, an exemption with its expiry, a
// quarantine, relays), the real directory (who holds which address, CGNAT
// port blocks), the DNSBL checker's real listing table, and the engine's cases
// as a small fake (its CaseService contract). Only documentation and shared
// (RFC 6598) addresses.
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../../src/core/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { PolicyStore } from '../../src/netpolicy/index.ts';
import { openDirectory, type OpenedDirectory } from '../../src/directory/index.ts';
import { dnsblStateStore } from '../../src/abuse/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, loadOperations, type AppDeps } from '../../src/app/index.ts';
import { createHttpListener, type HttpListener } from '../../src/http/index.ts';
import { PUBLIC_PAGES, type PortalSite, type PublicDeps } from '../../src/web/index.ts';
import formbody from '@fastify/formbody';
import { FakeCases } from './abuse-fakes.ts';
import { tempDir } from './tools.ts';

export const NOW = Date.parse('2026-12-02T18:00:00Z');
export const EXEMPT_UNTIL = Date.parse('2027-03-01T12:00:00Z');

/** One address per situation the page words differently. */
export const ADDR = {
  dynamic: '198.51.100.10',
  dynamic6: '2001:db8:1:5::10',
  exempt: '198.51.100.20',
  customerServer: '198.51.100.25',
  quarantined: '198.51.100.30',
  static: '203.0.113.10',
  business: '203.0.113.140',
  cgnat: '100.64.0.7',
  cgnatShared: '100.65.3.4',
  providerRelay: '192.0.2.25',
  outside: '192.0.2.100',
} as const;

export interface PortalWorld {
  store: Store;
  policy: PolicyStore;
  directory: OpenedDirectory;
  cases: FakeCases;
  clock: ManualClock;
  app: AppDeps;
  audit: AuditLog;
  close(): Promise<void>;
}

export async function portalWorld(): Promise<PortalWorld> {
  const tmp = tempDir('pw-portal-');
  const store = await openStore(join(tmp.path, 'state.db'));
  await store.migrate(AUDIT_MIGRATIONS);
  const clock = new ManualClock(NOW);
  const logger = new MemoryLogger();
  const policy = await PolicyStore.open(store, clock);
  const by = { actor: 'test', reason: 'portal world' };
  const ok = (r: { ok: boolean; error?: string }): void => { if (!r.ok) throw new Error(r.error); };
  ok(await policy.addPool('198.51.100.0/24', 'dynamic', 'residential DHCP', by));
  ok(await policy.addPool('2001:db8:1::/48', 'dynamic', 'residential delegations', by));
  ok(await policy.addPool('203.0.113.0/25', 'static', '', by));
  ok(await policy.addPool('203.0.113.128/25', 'business', '', by));
  ok(await policy.addPool('100.64.0.0/16', 'cgnat', 'CGN pool', by));
  // Shared space marked only "dynamic": still CGNAT to the subscriber.
  ok(await policy.addPool('100.65.0.0/16', 'dynamic', '', by));
  ok(await policy.addExemption(ADDR.exempt, 'erin', EXEMPT_UNTIL, by));
  ok(await policy.addRelay(ADDR.customerServer, 'customer', 'frank', 'contract 7', by));
  ok(await policy.addRelay(ADDR.providerRelay, 'provider', '', 'our relay', by));
  ok(await policy.quarantine(ADDR.quarantined, 'gina', 'case-30', by));
  const directory = await openDirectory(store, { clock, logger, syncMs: 0 });
  const assign = (subscriber: string, prefix: string, portLo: number | null = null, portHi: number | null = null) =>
    directory.assign({ subscriber, prefix, portLo, portHi, start: NOW - 3_600_000, end: null, source: 'api', session: null });
  await assign('alice', ADDR.dynamic);
  await assign('alice', '2001:db8:1:5::/64');
  await assign('erin', ADDR.exempt);
  await assign('gina', ADDR.quarantined);
  await assign('carol', ADDR.cgnat, 1024, 2047);
  await assign('dave', ADDR.cgnat, 4096, 5119);
  const cases = new FakeCases();
  cases.add({ id: 'case-30', subscriber: 'gina', openedAt: NOW - 600_000, evidence: [], active: [{ decision: 'd1', action: 'quarantine', rule: 'bot', at: NOW - 600_000, until: null }] as never });
  const dnsbl = await dnsblStateStore(store);
  await dnsbl.set('xbl.example', ADDR.quarantined, { answer: '127.0.0.4', since: NOW - 1_800_000 });
  const audit = new AuditLog(store.db);
  const app: AppDeps = { clock, logger, audit, policy, directory, cases, dnsbl };
  return {
    store, policy, directory, cases, clock, app, audit,
    async close() { await directory.close(); await store.close(); tmp.remove(); },
  };
}

/** The public portal pages on a listener of the one HTTP factory, as the portal listener registers them. */
export async function servePortal(w: PortalWorld, site: Partial<PortalSite> = {}, host = '127.0.0.1'): Promise<{ listener: HttpListener; port: number; site: PortalSite }> {
  const full: PortalSite = {
    displayName: 'ISP Mail', server: 'smtp.isp.example', starttlsPort: 587, tlsPort: 465, domains: ['isp.example'],
    incoming: [{ type: 'imap', hostname: 'imap.isp.example', port: 993, socketType: 'SSL' }], appleProfile: true, trustedProxies: [],
    noticeUrl: 'https://portal.isp.example/notice', exemptionPath: '/exemption', ...site,
  };
  const listener = createHttpListener({ name: 'portal', logger: w.app.logger });
  await listener.app.register(formbody);
  const operations = new Map((await loadOperations()).map((o) => [o.name, o]));
  const deps: PublicDeps = { app: w.app, audit: w.audit, operations, clock: w.clock, logger: w.app.logger, site: full };
  for (const m of PUBLIC_PAGES) await m(listener.app, deps);
  const port = await listener.listen(host, 0);
  return { listener, port, site: full };
}
