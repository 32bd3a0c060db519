// Notices and the notice page, wired: the NoticeSender the abuse engine is
// handed (templates from abuse.notices.templateDir checked at start, link
// tokens signed with <dataDir>/notice-secret, messages committed to our own
// spool so the relay delivers them), and the walled garden's notice listener
// on abuse.noticeListen (plain HTTP; any Host, any path).
import { once } from 'node:events';
import { systemClock, type Clock, type Logger } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Spool } from '../spool/index.ts';
import type { HolderLookup } from '../directory/index.ts';
import { loadNoticeSecret, loadTemplates, NoticeDesk, NoticeMailer, NoticeTokens, TemplateError, type CaseService, type NoticeSpool } from '../abuse/index.ts';
import type { Service } from './services.ts';

/** The spool as the NoticeMailer sees it: one recipient per message, committed (fsynced) before the id is returned. */
export function noticeSpoolPort(spool: Spool): NoticeSpool {
  return {
    async queue(e, message) {
      const w = spool.create({
        mailFrom: { address: e.mailFrom, ...(e.smtputf8 ? { smtputf8: true } : {}) },
        recipients: [{ address: e.to }],
        attributes: e.attributes,
        canonical: true, // noticeMessage writes CRLF lines only
      });
      try {
        if (!w.stream.write(message)) await once(w.stream, 'drain');
        await w.commit();
      } catch (err) {
        await w.abort();
        throw err;
      }
      return w.id;
    },
  };
}

export function noticeTokens(cfg: Config, clock: Clock = systemClock): NoticeTokens {
  return new NoticeTokens({ secret: loadNoticeSecret(cfg.dataDir), ttlHours: cfg.abuse.notices.tokenTtlHours, clock });
}

/** The NoticeSender for the abuse engine. Throws TemplateError for a bad template (start refuses). */
export function createNoticeSender(o: { cfg: Config; spool: Spool; bus?: EventBus; logger: Logger; clock?: Clock }): NoticeMailer {
  const n = o.cfg.abuse.notices;
  return new NoticeMailer({
    from: n.from, pageUrl: n.pageUrl, hostname: o.cfg.hostname, templates: loadTemplates(n.templateDir),
    tokens: noticeTokens(o.cfg, o.clock), spool: noticeSpoolPort(o.spool), bus: o.bus, clock: o.clock, logger: o.logger,
  });
}

/** What `config check` and `start` refuse about notices: a bad template (file:line named), a From that is no mailbox, a page URL that is no URL. */
export function noticeProblems(cfg: Config, at: (p: Array<string | number>, m: string) => string): string[] {
  const n = cfg.abuse.notices;
  const out: string[] = [];
  try { loadTemplates(n.templateDir); } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    out.push(at(['abuse', 'notices', 'templateDir'], err.message));
  }
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test((/<([^<>]*)>\s*$/.exec(n.from)?.[1] ?? n.from).trim())) out.push(at(['abuse', 'notices', 'from'], `${JSON.stringify(n.from)} is not a mailbox`));
  try { new URL(n.pageUrl); } catch { out.push(at(['abuse', 'notices', 'pageUrl'], `${JSON.stringify(n.pageUrl)} is not a URL`)); }
  return out;
}

export interface NoticeWiring {
  cfg: Config;
  logger: Logger;
  bus: EventBus;
  /** Absent where the engine does not run: the page is then not started (logged). */
  cases?: CaseService;
  directory?: Pick<HolderLookup, 'holdersAt'>;
  clock?: Clock;
  /** Turns a failed bind into start's one-line error. */
  bindError?: (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;
}

/** The notice listener as a service of the node; nothing when abuse.noticeListen is unset. */
export function noticeService(get: () => NoticeWiring): Service {
  let close: (() => Promise<void>) | undefined;
  return {
    name: 'notice-page',
    start: async () => {
      const w = get();
      const listen = w.cfg.abuse.noticeListen;
      if (!listen) return;
      if (!w.cases || !w.directory) {
        w.logger.warn({ event: 'notice-page' }, 'abuse.noticeListen is set but the abuse engine or the directory is not running here; the notice page is not started');
        return;
      }
      close = await startNoticePage({ ...w, cases: w.cases, directory: w.directory, listen });
    },
    stop: () => close?.(),
  };
}

/** Binds the notice page; resolves with its close function (and the port, for tests). */
export async function startNoticePage(w: NoticeWiring & { cases: CaseService; directory: Pick<HolderLookup, 'holdersAt'>; listen: string }): Promise<(() => Promise<void>) & { port: number }> {
  const { createHttpListener, noticeRoutes } = await import('../http/index.ts');
  const n = w.cfg.abuse.notices;
  const desk = new NoticeDesk({ tokens: noticeTokens(w.cfg, w.clock), cases: w.cases, holders: w.directory, bus: w.bus, clock: w.clock });
  const l = createHttpListener({ name: 'notice', logger: w.logger, maxConnections: 256 });
  noticeRoutes(l.app, { desk, contact: /<([^<>]*)>\s*$/.exec(n.from)?.[1] ?? n.from, portalUrl: n.pageUrl, logger: w.logger });
  const { host, port } = splitHostPort(w.listen);
  const bound = await l.listen(host, port).catch((err: NodeJS.ErrnoException) => { throw w.bindError ? w.bindError('notice', host, port, err) : err; });
  w.logger.info({ event: 'listening', listener: 'notice', host, port: bound });
  return Object.assign(() => l.close(), { port: bound });
}
