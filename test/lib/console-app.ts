// The console's pages on a real app layer for their tests: one SQLite state
// store in a temp dir holding the accounts, the policy store, the audit log,
// the subscriber directory and the abuse engine's cases (the real engine with
// the real enforcer of cli/ over the policy store, accounts and spool), a real
// spool in the same temp dir, the limits with their live state, all behind the
// real HTTP listener (src/http) with @fastify/formbody and CONSOLE_PAGES.
// The sign-in is not under test here: a test gate hands out a StaffPrincipal of
// the role the test chooses and knows one fixed CSRF token.
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { ManualClock, MemoryLogger } from '../../src/core/index.ts';
import { InProcessBus } from '../../src/events/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { AccountStore } from '../../src/auth/index.ts';
import { PolicyStore } from '../../src/netpolicy/index.ts';
import { Spool } from '../../src/spool/index.ts';
import { openDirectory, type OpenedDirectory } from '../../src/directory/index.ts';
import { ABUSE_MIGRATIONS, DEFAULT_RULES, DEFAULT_WEIGHTS, openAbuseEngine, type RunningAbuseEngine, type Signal } from '../../src/abuse/index.ts';
import { compileLimits, MemoryLimitStore } from '../../src/limits/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, loadOperations, type AppDeps, type AuditRow, type StaffRole } from '../../src/app/index.ts';
import { createHttpListener, type HttpListener } from '../../src/http/index.ts';
import { CONSOLE_PAGES, type ConsoleDeps, type SessionGate, type StaffPrincipal } from '../../src/web/index.ts';
import { createEnforcer } from '../../src/cli/abuse-enforcer.ts';
import { DEFAULT_LIMITS, limitsInEffect } from '../../src/cli/limits.ts';
import { tempDir } from './tools.ts';

export const CSRF = 'test-csrf-token-0123456789';

/** Signs in whoever the test says; `null` is nobody. */
export class TestGate implements SessionGate<StaffPrincipal> {
  who: { name: string; role: StaffRole } | null = { name: 'alice', role: 'admin' };
  async current(_req: FastifyRequest): Promise<StaffPrincipal | null> {
    return this.who ? { kind: 'staff', ...this.who, sessionId: 's1', csrf: CSRF } : null;
  }
  csrfOk(_req: FastifyRequest, p: StaffPrincipal, token: unknown): boolean {
    return token === p.csrf;
  }
}

export interface ConsoleRig {
  url: string;
  gate: TestGate;
  app: AppDeps;
  clock: ManualClock;
  spool: Spool;
  directory: OpenedDirectory;
  engine: RunningAbuseEngine;
  kicks: { n: number };
  listener: HttpListener;
  /** Queues a message (committed to the spool like the MSA does). */
  queue(o: { from: string; to: string; account?: string; subject?: string }): Promise<string>;
  /** Charges the account's limits as the MSA does for `messages` messages of `recipients` recipients each (the live state the page shows). */
  send(login: string, messages: number, recipients?: number): Promise<void>;
  /** Feeds the engine blocked port-25 attempts from `address` until it decides (a bot), then flushes. */
  bot(address: string, seconds?: number): Promise<void>;
  audit(): Promise<AuditRow[]>;
  close(): Promise<void>;
}

export async function consoleRig(): Promise<ConsoleRig> {
  const tmp = tempDir('pw-console-');
  const store: Store = await openStore({ kind: 'sqlite', path: join(tmp.path, 'state.db') });
  await store.migrate(AUDIT_MIGRATIONS);
  await store.migrate(ABUSE_MIGRATIONS);
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 12, 0, 0));
  const logger = new MemoryLogger();
  const audit = new AuditLog(store.db);
  const accounts = new AccountStore(store, { clock, minPasswordLength: 10, scramIterations: 4096 });
  const policy = new PolicyStore(store, clock);
  const spool = await Spool.open(join(tmp.path, 'spool'), { logger, clock });
  const directory = await openDirectory(store, { clock, logger });
  const enforcer = createEnforcer({ policy, accounts, spool, audit, clock, logger });
  const engine = await openAbuseEngine({
    db: store.db, clock, logger, bus: new InProcessBus({ logger }), directory, enforcer, rules: DEFAULT_RULES, weights: DEFAULT_WEIGHTS,
    halfLifeMinutes: 360, closeAfterDays: 14, queueSize: 10_000,
  });
  const compiled = compileLimits(DEFAULT_LIMITS);
  if (!compiled.ok) throw new Error('default limits do not compile');
  const limitStore = new MemoryLimitStore({ clock });
  const kicks = { n: 0 };
  const app: AppDeps = {
    clock, logger, audit, accounts, policy, spool, directory, cases: engine.cases,
    tiers: { names: Object.keys(DEFAULT_LIMITS.tiers), defaultTier: DEFAULT_LIMITS.defaultTier ?? 'residential' },
    relay: { kick: async () => { kicks.n++; } },
    limits: (login) => limitsInEffect(compiled.limits, limitStore, accounts, login), limitsEnabled: true,
  };
  const gate = new TestGate();
  const operations = new Map((await loadOperations()).map((o) => [o.name, o]));
  const web: ConsoleDeps = { app, audit, operations, clock, logger, gate };
  const listener = createHttpListener({ name: 'console', logger });
  await listener.app.register(formbody);
  for (const m of CONSOLE_PAGES) await m(listener.app, web);
  const port = await listener.listen('127.0.0.1', 0);
  return {
    url: `http://127.0.0.1:${port}`, gate, app, clock, spool, directory, engine, kicks, listener,
    async queue(o) {
      const w = spool.create({ mailFrom: { address: o.from }, recipients: [{ address: o.to }], account: o.account });
      w.stream.end(`From: <${o.from}>\r\nTo: <${o.to}>\r\nSubject: ${o.subject ?? 'hello'}\r\n\r\nbody\r\n`);
      await w.commit();
      return w.id;
    },
    async send(login, messages, recipients = 1) {
      const a = await accounts.get(login);
      const plan = compiled.limits.plan({ account: login, subscriber: a?.subscriber, tier: a?.tier, ip: '192.0.2.1' });
      for (let i = 0; i < messages; i++) {
        limitStore.check(plan.messages, 1);
        limitStore.check(plan.recipients, recipients);
      }
    },
    async bot(address, seconds = 120) {
      for (let i = 0; i < seconds; i++) {
        const s: Signal = { at: clock.now(), address, port: null, subscriber: null, account: null, amount: 5, origin: 'edge:bng1', detail: {}, class: 'edge-blocked' };
        engine.ingest(s);
        engine.ingest({ ...s, class: 'edge-destinations', amount: 2 });
        await engine.flush();
        clock.advance(1000);
      }
    },
    audit: async () => (await audit.list({ limit: 1000 })).entries,
    async close() {
      await listener.close();
      await engine.stop();
      await spool.close();
      await directory.close();
      await store.close();
      tmp.remove();
    },
  };
}

/** A form POST as a browser sends it (the fixed CSRF unless `csrf: false`); answers status, location and body. */
export async function post(url: string, fields: Record<string, string | string[]>, o: { csrf?: boolean } = {}): Promise<{ status: number; location: string | null; body: string }> {
  const body = new URLSearchParams();
  if (o.csrf !== false) body.append('_csrf', CSRF);
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  const r = await fetch(url, { method: 'POST', body, redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: r.status, location: r.headers.get('location'), body: await r.text() };
}

export async function get(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const r = await fetch(url, { redirect: 'manual' });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

/** The page's main element (past the nav). */
export const main = (body: string): string => body.slice(body.indexOf('<main'), body.indexOf('</main>'));
/** The error text beside the field with this id. */
export const errorOf = (body: string, id: string): string | undefined =>
  new RegExp(`<div class="error" id="${id}-error" role="alert">([^<]*)</div>`).exec(body)?.[1];
/** The value an input with this id shows (as escaped in the page). */
export const valueOf = (body: string, id: string): string | undefined => new RegExp(`id="${id}"[^>]* value="([^"]*)"`).exec(body)?.[1];

/** The newest audit row, in brief. */
export async function lastAudit(r: ConsoleRig) {
  const [row] = await r.audit();
  return `${row.actorKind}:${row.actor}@${row.from} ${row.action} ${row.object} ${row.outcome} ${row.reason}`;
}

/** A rig closed after the test. */
export async function withRig(t: { after(fn: () => unknown): void }): Promise<ConsoleRig> {
  const r = await consoleRig();
  t.after(() => r.close());
  return r;
}
