// Mail client autoconfig wired: the autoconfig part's answers for
// autoconfig.domains, on autoconfig.listen (plain HTTP, what Thunderbird tries
// first at autoconfig.<domain>; HTTPS for Outlook is the web front's, which
// holds the certificates for autodiscover.<domain>: docs/autoconfig.md).
import { Autoconfig } from '../autoconfig/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { Service } from './services.ts';

export interface AutoconfigWiring {
  cfg: Config;
  logger: Logger;
  bindError?: (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;
}

/** The answers for this configuration (also what `dns records` uses for names and ports). */
export function autoconfigFor(cfg: Config): Autoconfig {
  const a = cfg.autoconfig, server = a.server ?? cfg.hostname;
  return new Autoconfig({ domains: a.domains, server, starttlsPort: a.starttlsPort, tlsPort: a.tlsPort, displayName: a.displayName ?? server, incoming: a.incoming });
}

/** The autoconfig listener as a service of the node; nothing when autoconfig.listen is unset. */
export function autoconfigService(get: () => AutoconfigWiring): Service {
  let close: (() => Promise<void>) | undefined;
  return {
    name: 'autoconfig',
    start: async () => {
      const w = get();
      const listen = w.cfg.autoconfig.listen;
      if (!listen) return;
      if (!w.cfg.autoconfig.domains.length) w.logger.warn({ event: 'autoconfig' }, 'autoconfig.listen is set but autoconfig.domains is empty: every request is answered 404');
      if (!w.cfg.autoconfig.incoming.length) w.logger.warn({ event: 'autoconfig' }, 'autoconfig.incoming is empty: Thunderbird refuses an autoconfig answer without an incoming (IMAP/POP3) server');
      const { createHttpListener, autoconfigRoutes } = await import('../http/index.ts');
      const l = createHttpListener({ name: 'autoconfig', logger: w.logger, maxConnections: w.cfg.autoconfig.maxConnections });
      autoconfigRoutes(l.app, { autoconfig: autoconfigFor(w.cfg) });
      const { host, port } = splitHostPort(listen);
      const bound = await l.listen(host, port).catch((err: NodeJS.ErrnoException) => { throw w.bindError ? w.bindError('autoconfig', host, port, err) : err; });
      w.logger.info({ event: 'listening', listener: 'autoconfig', host, port: bound });
      close = () => l.close();
    },
    stop: () => close?.(),
  };
}
