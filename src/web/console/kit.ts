// What the console's pages share: the signed-in person, the page shell with
// the nav, GET and POST routes that run operations as that person (CSRF on
// every POST, 303 after a change, an AppError shown next to its form with the
// input kept), form fields with their error, tables, paging and times.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, asAppError } from '../../app/index.ts';
import { html, trusted, type Html } from '../html.ts';
import { seeOther, sendPage } from '../respond.ts';
import { runAs } from '../run.ts';
import type { ConsoleDeps, StaffPrincipal } from '../types.ts';
import { COMMON, ERROR_WORDS, FIELDS, forbiddenWords } from './texts.ts';
import { navFor } from './nav.ts';
import { consolePage } from './shell.ts';

/** A form's fields as text (the first value of a repeated field). */
export type Form = Record<string, string>;

/** A refused change: which form, why, and what the person typed (shown again). */
export interface Failure { form: string; error: AppError; input: Form; body?: unknown }

/** What a page's render function gets. */
export interface View {
  req: FastifyRequest;
  me: StaffPrincipal;
  deps: ConsoleDeps;
  /** The query string's fields. */
  query: Form;
  failure?: Failure;
}

const MAX_FIELD = 100_000;

export function formOf(body: unknown): Form {
  const out: Form = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first.slice(0, MAX_FIELD);
  }
  return out;
}

/** Every value of a repeated field (checkboxes). */
export function allOf(body: unknown, name: string): string[] {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
}

/** Runs operation `name` as the viewer (role check and audit are invoke()'s). */
export function run<T = Record<string, unknown>>(v: Pick<View, 'deps' | 'me' | 'req'>, name: string, input: Record<string, unknown>, reason?: string): Promise<T> {
  return runAs<T>(v.deps, v.me, v.req.ip, name, input, reason);
}

/** A read that may be refused (a part not running here): the value or the error, for a section to show in words. */
export async function attempt<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: AppError }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    if (e instanceof AppError) return { ok: false, error: e };
    throw e;
  }
}

/** Form text without the empty fields: an empty field is "not given" (the operation's default). */
export function given(f: Form, ...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of names) if (f[k] !== undefined && f[k].trim() !== '') out[k] = f[k].trim();
  return out;
}

export const listOf = (s: string | undefined): string[] => (s ?? '').split(/[\s,]+/).filter(Boolean);

/** "YYYY-MM-DD HH:MM[:SS]" or the datetime-local "YYYY-MM-DDTHH:MM" as UTC; undefined when empty. */
export function timeField(f: Form, name: string): number | undefined {
  const s = (f[name] ?? '').trim();
  if (!s) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?(?: ?(?:UTC|Z))?$/.exec(s);
  const t = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00'}Z`) : Number.NaN;
  if (!Number.isFinite(t)) throw new AppError('invalid-value', COMMON.badTime, { field: name });
  return t;
}

/** The form's reason, required (the policy store and the desk's changes are always explained). */
export function reasonOf(f: Form): string {
  const r = (f.reason ?? '').trim();
  if (!r) throw new AppError('bad-request', 'reason is required', { field: 'reason' });
  return r;
}

export function intField(f: Form, name: string): number | undefined {
  const s = (f[name] ?? '').trim();
  if (!s) return undefined;
  if (!/^\d{1,15}$/.test(s)) throw new AppError('invalid-value', COMMON.badNumber, { field: name });
  return Number(s);
}

/** "2026-12-02 12:00:00 UTC". */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return COMMON.never;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The value a datetime-local field shows for ms (UTC). */
export const timeValue = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '' : new Date(ms).toISOString().slice(0, 16));

const CODE_FIELD: Partial<Record<AppError['code'], string>> = {
  'invalid-login': 'login', 'invalid-address': 'address', 'invalid-password': 'password', 'invalid-hash': 'hash', 'invalid-prefix': 'prefix',
};

/** The form field an error is about, if any. */
export function fieldOf(e: AppError): string | undefined {
  const f = e.detail?.field;
  if (typeof f === 'string' && f) return f.split('.')[0];
  return CODE_FIELD[e.code];
}

/** An error in words: the role refusal as "your role (desk) may not …", a field's schema refusal with its label. */
export function say(e: AppError, role: string, op?: string): string {
  if (e.code === 'forbidden') return forbiddenWords(role, op ?? /^([\w.]+) /.exec(e.message)?.[1] ?? '');
  if (e.code === 'internal') return COMMON.internal;
  const field = fieldOf(e);
  const label = field ? FIELDS[field] ?? field : undefined;
  const msg = e.message.replace(/^[\w.]+: /, '');
  if (e.code === 'bad-request' && label) {
    if (/fewer than 1 character|required propert|is required/.test(msg)) return COMMON.required(label);
    if (/more than \d+ character/.test(msg)) return COMMON.tooLong(label);
    return COMMON.badField(label, msg.replace(new RegExp(`^${field} `), ''));
  }
  return `${ERROR_WORDS[e.code]}: ${msg}`;
}

export const csrf = (me: StaffPrincipal): Html => html`<input type="hidden" name="_csrf" value="${me.csrf}">`;

export interface FieldOpts {
  label?: string;
  value?: string;
  type?: 'text' | 'password' | 'number' | 'datetime-local' | 'search' | 'email';
  required?: boolean;
  hint?: string;
  /** A select of these values (value, label). */
  options?: ReadonlyArray<readonly [string, string]>;
  textarea?: boolean;
}

/** A labelled input; on a failure of this form it shows what was typed and, if the error is about it, the error beside it. */
export function field(form: string, name: string, v: Pick<View, 'failure' | 'me'>, o: FieldOpts = {}): Html {
  const id = `${form}-${name}`;
  const mine = v.failure?.form === form ? v.failure : undefined;
  const bad = mine && fieldOf(mine.error) === name;
  const value = o.type === 'password' ? '' : mine ? mine.input[name] ?? '' : o.value ?? '';
  const described = [o.hint ? `${id}-hint` : '', bad ? `${id}-error` : ''].filter(Boolean).join(' ');
  const attrs = html`id="${id}" name="${name}"${o.required ? trusted(' required') : ''}${bad ? trusted(' aria-invalid="true"') : ''}${described ? html` aria-describedby="${described}"` : ''}`;
  const control = o.options
    ? html`<select ${attrs}>${o.options.map(([val, label]) => html`<option value="${val}"${val === value ? trusted(' selected') : ''}>${label}</option>`)}</select>`
    : o.textarea ? html`<textarea ${attrs} rows="3">${value}</textarea>`
    : html`<input ${attrs} type="${o.type ?? 'text'}" value="${value}"${o.type === 'password' ? trusted(' autocomplete="new-password"') : ''}>`;
  return html`<div class="field"><label for="${id}">${o.label ?? FIELDS[name] ?? name}</label>
${o.hint ? html`<div class="muted" id="${id}-hint">${o.hint}</div>` : ''}${control}
${bad ? html`<div class="error" id="${id}-error" role="alert">${say(mine.error, v.me.role)}</div>` : ''}</div>`;
}

/** The form-level error (one not about a single field) of a failed form. */
export function formError(form: string, v: Pick<View, 'failure' | 'me'>): Html {
  const f = v.failure;
  if (!f || f.form !== form) return html``;
  const field = fieldOf(f.error);
  if (field && f.input[field] !== undefined) return html``;
  return html`<p class="error" role="alert" id="${form}-error">${say(f.error, v.me.role)}</p>`;
}

/** A POST form with the session's CSRF token; `form` names it for errors. */
export function postForm(form: string, action: string, v: Pick<View, 'failure' | 'me'>, body: Html | Html[], button: string, o: { inline?: boolean; secondary?: boolean } = {}): Html {
  return html`<form method="post" action="${action}"${o.inline ? trusted(' class="inline"') : ''} aria-label="${button}">${csrf(v.me)}${formError(form, v)}${body}
<button type="submit"${o.secondary ? trusted(' class="secondary"') : ''}>${button}</button></form>`;
}

export function table(caption: string, heads: readonly string[], rows: ReadonlyArray<ReadonlyArray<Html | string | number>>, empty = COMMON.none): Html {
  if (!rows.length) return html`<p><strong>${caption}:</strong> ${empty}</p>`;
  return html`<table><caption>${caption}</caption><thead><tr>${heads.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** Facts about one thing as a two-column table: a row heading per fact (blank facts left out). */
export function facts(caption: string, rows: ReadonlyArray<readonly [string, Html | string | number]>): Html {
  return html`<table><caption>${caption}</caption><tbody>${rows.filter(([, x]) => x !== '').map(([k, x]) => html`<tr><th scope="row">${k}</th><td>${x}</td></tr>`)}</tbody></table>`;
}

/** A link to the next page: the same query with `after` set. */
export function nextLink(path: string, query: Form, next: string | number | undefined): Html {
  const first = query.after ? html`<a href="${path}?${qs({ ...query, after: '' })}">${COMMON.first}</a> ` : '';
  if (next === undefined) return html`<p>${first}</p>`;
  return html`<p>${first}<a href="${path}?${qs({ ...query, after: String(next) })}" rel="next">${COMMON.next}</a></p>`;
}

export const qs = (q: Record<string, string>): string =>
  new URLSearchParams(Object.entries(q).filter(([, v]) => v !== '')).toString();

export const path = (...parts: string[]): string => parts.map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/');

/** A flash line from the query's `done` (a fixed key of the page's texts: never client text). */
export function flash(v: View, texts: Record<string, string>): Html | undefined {
  const t = v.query.done ? texts[v.query.done] : undefined;
  return typeof t === 'string' ? html`<p class="notice" role="status">${t}</p>` : undefined;
}

export function shell(v: Pick<View, 'me' | 'req'>, title: string, main: Html, note?: Html): Html {
  // The frame's shell (shell.ts): the role's areas, who is signed in, and the sign-out button.
  const path = v.req.url.split('?')[0];
  const hit = navFor(v.me.role).filter((n) => n.href !== '/' && (path === n.href || path.startsWith(`${n.href}/`)));
  return consolePage(v.me, { title, path: hit.length ? hit[hit.length - 1].href : path, main, flash: note }).body;
}

function bare(title: string, text: string): Html {
  return consolePage(null, { title, main: html`<p class="error">${text}</p>` }).body;
}

async function signedIn(req: FastifyRequest, reply: FastifyReply, deps: ConsoleDeps): Promise<StaffPrincipal | null> {
  const me = await deps.gate.current(req);
  if (!me) sendPage(reply, { status: 401, body: bare(COMMON.notSignedInTitle, COMMON.notSignedIn) });
  return me;
}

/** A page that could not be built: its error in words with the error's status. */
function failed(reply: FastifyReply, deps: ConsoleDeps, v: Pick<View, 'me' | 'req'>, err: unknown): FastifyReply {
  const e = asAppError(err);
  if (!(err instanceof AppError)) deps.logger.error({ event: 'web', path: v.req.url.slice(0, 200), err: String(err) }, 'console: page failed');
  return sendPage(reply, { status: e.status, body: shell(v, COMMON.errorTitle, html`<p class="error" role="alert">${say(e, v.me.role)}</p>`) });
}

export type Render = (v: View) => Promise<Html>;

const queryOf = (req: FastifyRequest): Form => formOf(req.query);

/** GET `url`: the page as the signed-in person. */
export function getPage(app: FastifyInstance, deps: ConsoleDeps, url: string, render: Render): void {
  app.get(url, async (req, reply) => {
    const me = await signedIn(req, reply, deps);
    if (!me) return reply;
    const v: View = { req, me, deps, query: queryOf(req) };
    try {
      return sendPage(reply, { body: await render(v) });
    } catch (err) {
      return failed(reply, deps, v, err);
    }
  });
}

/**
 * POST `url`: CSRF first, then `change` (which runs the operations and answers the place to go);
 * a refusal renders `again` with the failure, the input kept, at the error's status.
 */
export function postAction(app: FastifyInstance, deps: ConsoleDeps, url: string, form: string,
  change: (v: View, f: Form, body: unknown) => Promise<string>, again: Render): void {
  app.post(url, async (req, reply) => {
    const me = await signedIn(req, reply, deps);
    if (!me) return reply;
    const input = formOf(req.body);
    if (!deps.gate.csrfOk(req, me, input._csrf)) return sendPage(reply, { status: 403, body: bare(COMMON.csrfTitle, COMMON.csrf) });
    delete input._csrf;
    const v: View = { req, me, deps, query: queryOf(req) };
    try {
      return seeOther(reply, await change(v, input, req.body));
    } catch (err) {
      if (!(err instanceof AppError) || err.code === 'internal') return failed(reply, deps, v, err);
      try {
        return sendPage(reply, { status: err.status, body: await again({ ...v, failure: { form, error: err, input, body: req.body } }) });
      } catch (inner) {
        return failed(reply, deps, v, inner);
      }
    }
  });
}
