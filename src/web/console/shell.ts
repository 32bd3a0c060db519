// The console's page shell: layout.ts's page() with the console's nav for the
// signed-in role, who is signed in and the sign-out button, and the hidden
// CSRF field every console form carries (`csrfField`). Page modules use it so
// that every console page looks and behaves the same.
import { html, type Html } from '../html.ts';
import { page } from '../layout.ts';
import type { PageAnswer, StaffPrincipal } from '../types.ts';
import { T } from '../staff/texts.ts';
import { navFor } from './nav.ts';

/** The session's CSRF token as the hidden `_csrf` field (the same in every tab). */
export function csrfField(p: { csrf: string }): Html {
  return html`<input type="hidden" name="_csrf" value="${p.csrf}">`;
}

export interface ConsolePage {
  title: string;
  /** The current path (marked in the nav). */
  path?: string;
  main: Html;
  flash?: Html;
  status?: number;
}

/** A console page for `p` (null: the sign-in pages, without nav). */
export function consolePage(p: StaffPrincipal | null, s: ConsolePage): PageAnswer {
  const account = p
    ? html`<form class="inline" method="post" action="/signout"><span class="muted">${T.signedInAs(p.name, p.role)}</span> ${csrfField(p)}<button type="submit" class="secondary">${T.signOut}</button></form>`
    : undefined;
  return {
    status: s.status,
    body: page({
      lang: T.lang, site: T.site, title: s.title, path: s.path, nav: p ? navFor(p.role) : undefined, account,
      flash: s.flash, main: s.main, footer: p ? html`${T.footer}` : undefined, skipText: T.skip,
    }),
  };
}

export const notice = (text: string): Html => html`<p class="notice" role="status">${text}</p>`;
export const alert = (text: string): Html => html`<p class="error" role="alert">${text}</p>`;
