// The one page shell of the portal and the console: lang, viewport, a skip link,
// header/nav/main/footer landmarks, one h1, the style sheet inline (no request
// for it, no script needed: forms work without JavaScript). Texts come from the
// caller's texts file; every value is escaped by `html`.
import { html, trusted, type Html } from './html.ts';

const STYLE = trusted(`
:root{color-scheme:light;--fg:#111;--muted:#444;--line:#999;--accent:#0b57d0;--bad:#a4000f;--ok:#0a6b2e}
*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;color:var(--fg);background:#fff}
.skip{position:absolute;left:-999px}.skip:focus{left:1em;top:1em;background:#fff;padding:.5em}
header,main,footer{max-width:72em;margin:0 auto;padding:0 1em}header{border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:1em;align-items:center}
header .site{font-weight:700;margin-right:auto}nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:1em;padding:0;margin:.8em 0}
a{color:var(--accent)}a[aria-current=page]{font-weight:700;text-decoration:none}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:1em 0}th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;vertical-align:top}
th{font-weight:600}caption{text-align:left;font-weight:600;padding:.3em 0}
form.inline{display:inline}label{display:block;margin:.6em 0 .2em;font-weight:600}
input,select,textarea,button{font:inherit;padding:.4em .5em}input,select,textarea{border:1px solid var(--line);max-width:100%}
button{cursor:pointer;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:3px}
button.secondary{background:#fff;color:var(--accent)}
.error{color:var(--bad);font-weight:600}.notice{border-left:4px solid var(--accent);padding:.3em .8em;background:#f3f6fc}
.bad{color:var(--bad)}.ok{color:var(--ok)}.muted{color:var(--muted)}
pre,code{font-family:ui-monospace,monospace;font-size:.92em}pre{background:#f5f5f5;padding:.8em;overflow:auto}
footer{border-top:1px solid var(--line);margin-top:2em;padding-top:1em;color:var(--muted)}
`);

export interface NavItem {
  href: string;
  label: string;
}

export interface PageShell {
  /** The document's language (the texts file's). */
  lang: string;
  /** The site's name (portal: the provider's display name; console: "portwarden console"). */
  site: string;
  title: string;
  /** The current path, marked aria-current in the nav. */
  path?: string;
  nav?: readonly NavItem[];
  /** Right of the nav: who is signed in and the sign-out form (built by the caller). */
  account?: Html;
  /** A flash line above the content (a notice or an error: `html` already). */
  flash?: Html;
  main: Html;
  footer?: Html;
  skipText?: string;
}

export function page(s: PageShell): Html {
  const nav = s.nav?.length
    ? html`<nav aria-label="main"><ul>${s.nav.map((n) => html`<li><a href="${n.href}"${n.href === s.path ? trusted(' aria-current="page"') : ''}>${n.label}</a></li>`)}</ul></nav>`
    : '';
  return html`<!DOCTYPE html>
<html lang="${s.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${s.title} — ${s.site}</title>
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#main">${s.skipText ?? 'Skip to content'}</a>
<header><span class="site">${s.site}</span>${nav}${s.account ?? ''}</header>
<main id="main">
${s.flash ?? ''}
<h1>${s.title}</h1>
${s.main}
</main>
${s.footer ? html`<footer>${s.footer}</footer>` : ''}
</body>
</html>
`;
}
