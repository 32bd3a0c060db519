// The notice page's HTML: plain, accessible (one h1, landmarks, a real button,
// lang set), no script, no password field and no login form. Every value from
// the store or the request is escaped here (esc), texts come from
// notice-texts.ts.
import { plainTime, type NoticeCaseView } from '../abuse/index.ts';
import { NOTICE_TEXTS as T } from './notice-texts.ts';

/** HTML-escapes text for element content and quoted attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`)
    // Controls and bidi overrides say nothing a reader needs and can reorder what they see.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\uFFFD');
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5;color:#111;background:#fff}'
  + 'h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.5em}button{font-size:1em;padding:.6em 1em}.meta{color:#333}'
  + 'footer{margin-top:2em;border-top:1px solid #999;padding-top:1em}';

function page(title: string, main: string, desk: string): string {
  return `<!DOCTYPE html>
<html lang="${esc(T.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)} — ${esc(T.siteTitle)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${main}
</main>
<footer>
<h2>${esc(T.deskHeading)}</h2>
<p>${esc(desk)}</p>
<p>${esc(T.safety)}</p>
</footer>
</body>
</html>
`;
}

const list = (tag: 'ul' | 'ol', items: readonly string[]): string => `<${tag}>\n${items.map((i) => `<li>${esc(i)}</li>`).join('\n')}\n</${tag}>`;

function meta(v: NoticeCaseView): string {
  return `<p class="meta">${esc(T.caseLabel)}: <strong>${esc(v.caseId)}</strong><br>${esc(T.customerLabel)}: ${esc(v.subscriber)}</p>`;
}

function body(v: NoticeCaseView): string {
  const strong = v.actions.find((a) => a !== 'notify');
  const parts = [meta(v), `<p>${esc(strong ? T.intro[strong] : v.actions.length ? T.intro.notify : T.intro.clear)}</p>`];
  parts.push(`<h2>${esc(T.seenHeading)}</h2>`, v.evidence.length ? list('ul', v.evidence) : `<p>${esc(T.seenNone)}</p>`);
  if (v.actions.length) {
    parts.push(`<h2>${esc(T.todoHeading)}</h2>`, list('ol', T.todo));
    if (strong) parts.push(`<h2>${esc(T.untilHeading)}</h2>`, `<p>${esc(v.until === null ? T.untilNever : T.until(plainTime(v.until)))}</p>`);
  }
  if (strong) parts.push(releaseSection(v));
  return parts.join('\n');
}

function releaseSection(v: NoticeCaseView): string {
  const s = v.selfRelease;
  if (!s.allowed) return `<h2>${esc(T.releaseHeading)}</h2>\n<p>${esc(T.releaseNotNow)} ${esc(s.why)}</p>`;
  // No action attribute: the form posts back to this very URL (any host, any path, the link's ?t= kept).
  return `<h2>${esc(T.releaseHeading)}</h2>
<p>${esc(T.releaseExplain)}${s.left > 0 ? ` ${esc(T.releaseLeft(s.left))}` : ''}</p>
<form method="post">
<input type="hidden" name="csrf" value="${esc(v.csrf)}">
<input type="hidden" name="case" value="${esc(v.caseId)}">
<button type="submit">${esc(T.releaseButton)}</button>
</form>`;
}

export interface Rendered { status: number; html: string }

export const noticeHtml = {
  view(v: NoticeCaseView, desk: string): Rendered {
    const title = v.actions.some((a) => a !== 'notify') ? T.titles.restricted : v.actions.length ? T.titles.notified : T.titles.clear;
    return { status: 200, html: page(title, body(v), T.desk(desk)) };
  },
  released(v: NoticeCaseView, desk: string): Rendered {
    return { status: 200, html: page(T.titles.released, `${meta(v)}\n<p>${esc(T.releasedText)}</p>`, T.desk(desk)) };
  },
  refused(v: NoticeCaseView, why: string, desk: string): Rendered {
    return { status: 409, html: page(T.titles.refused, `${meta(v)}\n<p>${esc(T.refusedText)} ${esc(why)}</p>`, T.desk(desk)) };
  },
  csrf(desk: string): Rendered { return { status: 403, html: page(T.titles.csrf, `<p>${esc(T.csrfText)}</p>`, T.deskNoCase(desk)) }; },
  badLink(why: string, status: number, desk: string): Rendered { return { status, html: page(T.titles.link, `<p>${esc(T.linkText(why))}</p>`, T.deskNoCase(desk)) }; },
  ambiguous(desk: string): Rendered { return { status: 200, html: page(T.titles.none, `<p>${esc(T.ambiguousText)}</p>`, T.deskNoCase(desk)) }; },
  none(desk: string): Rendered { return { status: 200, html: page(T.titles.none, `<p>${esc(T.noneText)}</p>`, T.deskNoCase(desk)) }; },
  error(desk: string): Rendered { return { status: 503, html: page(T.titles.error, `<p>${esc(T.errorText)}</p>`, T.deskNoCase(desk)) }; },
};
