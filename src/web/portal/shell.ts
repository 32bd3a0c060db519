// The public portal pages' shell: the provider's name, the nav between the
// guides and "Am I blocked?", the footer line; every page answer goes through
// here so each carries the same landmarks and headers (web/respond.ts).
import { html, type Html } from '../html.ts';
import { page } from '../layout.ts';
import type { PageAnswer, PortalSite } from '../types.ts';
import { PORTAL_TEXTS as T } from './texts.ts';

export const NAV = [{ href: '/guides', label: T.nav.guides }, { href: '/blocked', label: T.nav.blocked }] as const;

export function portalPage(site: PortalSite, path: string, title: string, main: Html, status = 200): PageAnswer {
  return {
    status,
    body: page({ lang: T.lang, site: site.displayName, title, path, nav: NAV, main, skipText: T.skip, footer: html`<p>${T.footer(site.displayName)}</p>` }),
  };
}

export function errorPage(site: PortalSite, path: string): PageAnswer {
  return portalPage(site, path, T.errorTitle, html`<p>${T.errorText}</p>`, 503);
}
