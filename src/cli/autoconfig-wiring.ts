// Mail client autoconfig wired: the autoconfig part's answers for
// autoconfig.domains, on autoconfig.listen (plain HTTP, what Thunderbird tries
// first at autoconfig.<domain>; HTTPS for Outlook is the web front's, which
// holds the certificates for autodiscover.<domain>: docs/autoconfig.md).
import { readFileSync } from 'node:fs';
import { Autoconfig, pemSigner, type Signer } from '../autoconfig/index.ts';
import { ensureCertificate } from './tls.ts';
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

/** The profile signer: autoconfig.profileCert/profileKey, else the node's TLS certificate and key (the generated one at worst). */
export async function profileSignerFor(cfg: Config): Promise<Signer> {
  const a = cfg.autoconfig;
  if (a.profileCert && !a.profileKey) throw new Error('autoconfig.profileCert is set without autoconfig.profileKey');
  if (a.profileKey && !a.profileCert) throw new Error('autoconfig.profileKey is set without autoconfig.profileCert');
  const files = a.profileCert && a.profileKey ? { cert: a.profileCert, key: a.profileKey } : ensureCertificate(cfg.dataDir, cfg.hostname, cfg.tls);
  try {
    return await pemSigner(readFileSync(files.cert, 'utf8'), readFileSync(files.key, 'utf8'), a.profileChain ? readFileSync(a.profileChain, 'utf8') : '');
  } catch (err) {
    throw new Error(`the Apple mail profile signer (${files.cert}): ${(err as Error).message}`);
  }
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
      const profileSigner = await profileSignerFor(w.cfg);
      w.logger.info({ event: 'autoconfig' }, `Apple mail profiles (/mobileconfig) are signed by ${profileSigner.subject.replace(/\n/g, ', ').replace(/[^\x20-\x7e]/g, '?')}`);
      autoconfigRoutes(l.app, { autoconfig: autoconfigFor(w.cfg), profileSigner });
      const { host, port } = splitHostPort(listen);
      const bound = await l.listen(host, port).catch((err: NodeJS.ErrnoException) => { throw w.bindError ? w.bindError('autoconfig', host, port, err) : err; });
      w.logger.info({ event: 'listening', listener: 'autoconfig', host, port: bound });
      close = () => l.close();
    },
    stop: () => close?.(),
  };
}
