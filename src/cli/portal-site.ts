// The provider's facts the public portal pages show (web's PortalSite), from the
// config: the same server name, ports and display name the autoconfig answers
// give (autoconfigFor), the hosted domains and incoming servers, whether the
// autoconfig listener serves the signed Apple profile, the trusted proxies and
// the notice page's address. The portal listener (portal-wiring.ts) hands it to
// PUBLIC_PAGES as `site`.
import type { Config } from '../config/index.ts';
import type { PortalSite } from '../web/index.ts';

/** Where the subscriber pages take exemption requests (web/portal/account.ts). */
export const EXEMPTION_PATH = '/exemption';

export function portalSiteFor(cfg: Config): PortalSite {
  const a = cfg.autoconfig, server = a.server ?? cfg.hostname;
  return {
    displayName: a.displayName ?? server,
    server,
    starttlsPort: a.starttlsPort,
    tlsPort: a.tlsPort,
    domains: a.domains.map((d) => d.toLowerCase()),
    incoming: a.incoming,
    appleProfile: !!a.listen,
    trustedProxies: cfg.portal.trustedProxies,
    noticeUrl: cfg.abuse.notices.pageUrl,
    exemptionPath: EXEMPTION_PATH,
  };
}
