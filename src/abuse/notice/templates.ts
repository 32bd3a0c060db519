// Notice templates: one per kind, built in (builtin.ts) or read from
// abuse.notices.templateDir (`<kind>.txt`: first line "Subject: …", a blank
// line, the body). Placeholders are {{name}}; an unknown one, a missing
// {{case}} or {{link}}, or a text that asks for a password or a login is a
// configuration error at start, naming the file and line — a notice that asks
// for a password teaches subscribers to answer phishing (RFC 6561 §5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTION_KINDS } from '../types.ts';
import { BUILTIN } from './builtin.ts';

/** The abuse actions' notices, the release, and the port-25 exemption's renewal offer (app/ops/exemptions.ts's sweep). */
export const NOTICE_KINDS = [...ACTION_KINDS, 'released', 'exemption-renewal'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const PLACEHOLDERS = ['case', 'subscriber', 'evidence', 'until', 'link', 'selfRelease', 'desk'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
const REQUIRED: Placeholder[] = ['case', 'link'];

export class TemplateError extends Error {
  constructor(message: string) { super(message); this.name = 'TemplateError'; }
}

export interface Template { kind: NoticeKind; source: string; subject: string; body: string }

const VERBS = String.raw`(?:enter|type|provide|send|give|submit|confirm|verify|update|re-?enter|reply(?:\s+to\s+us)?\s+with|tell\s+us|share|fill\s+in|key\s+in|senden|geben|eingeben|angeben|best[aä]tigen|mitteilen|envoyer|saisir|confirmer|indiquer|enviar|introducir|confirmar)`;
const SECRETS = String.raw`(?:pass\s?words?|pass\s?codes?|pass\s?phrases?|pins?|credentials|log-?in\s+details|login|account\s+details|security\s+codes?|kennw[oö]rt(?:er)?|passw[oö]rt(?:er)?|mot\s+de\s+passe|contrase[nñ]a)`;
const ASKS: Array<[RegExp, string]> = [
  [/<\s*(?:form|input|textarea|select)\b/i, 'contains a form'],
  [/type\s*=\s*["']?password/i, 'contains a password field'],
  [new RegExp(String.raw`(?<![\p{L}])${VERBS}(?![\p{L}])[^.!?\n]{0,40}?(?<![\p{L}])${SECRETS}(?![\p{L}])`, 'iu'), 'asks for a password or login details'],
  [/\b(?:log|sign)\s?-?(?:in|on)\b\s+(?:here|now|below|at|to|with|using|on)\b/i, 'asks the reader to log in'],
  [/\b(?:log|sign)\s?-?(?:in|on)\b\s*[:>]/i, 'asks the reader to log in'],
];

/** The first phrase of `text` that asks for a password or a login, or null. */
export function asksForPassword(text: string): { phrase: string; why: string; line: number } | null {
  for (const [re, why] of ASKS) {
    const m = re.exec(text);
    if (m) return { phrase: m[0], why, line: text.slice(0, m.index).split('\n').length };
  }
  return null;
}

/** Parses and checks one template text; `source` names it in errors (a file path, or "built-in KIND"). */
export function parseTemplate(kind: NoticeKind, text: string, source: string): Template {
  const t = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const nl = t.indexOf('\n');
  const first = nl < 0 ? t : t.slice(0, nl);
  const m = /^Subject:[ \t]*(.*?)\s*$/i.exec(first);
  if (!m || !m[1]) throw new TemplateError(`${source}:1: the first line must be "Subject: …"`);
  if (nl < 0 || t.slice(nl + 1, nl + 2) !== '\n') throw new TemplateError(`${source}:2: a blank line must follow the Subject line`);
  const subject = m[1];
  const body = t.slice(nl + 2);
  if (!body.trim()) throw new TemplateError(`${source}:3: the body is empty`);
  const seen = new Set<string>();
  const lines = t.split('\n');
  for (let i = 0; i < lines.length; i++) {
    for (const p of lines[i].matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(p[1])) {
        throw new TemplateError(`${source}:${i + 1}: unknown placeholder {{${p[1]}}} (known: ${PLACEHOLDERS.map((x) => `{{${x}}}`).join(', ')})`);
      }
      seen.add(p[1]);
    }
    const stray = lines[i].replace(/\{\{\s*[^{}]*?\s*\}\}/g, '');
    if (/\{\{|\}\}/.test(stray)) throw new TemplateError(`${source}:${i + 1}: unbalanced {{ or }}`);
  }
  for (const r of REQUIRED) if (!seen.has(r)) throw new TemplateError(`${source}: must contain {{${r}}} (every notice names its case and carries its link)`);
  const ask = asksForPassword(t);
  if (ask) throw new TemplateError(`${source}:${ask.line}: refused: it ${ask.why} ("${ask.phrase}"); a notice must never ask for a password (RFC 6561 §5)`);
  return { kind, source, subject, body };
}

/** The built-in templates, overridden by `<dir>/<kind>.txt` where such a file exists. Throws TemplateError. */
export function loadTemplates(dir?: string): Record<NoticeKind, Template> {
  const out = {} as Record<NoticeKind, Template>;
  for (const kind of NOTICE_KINDS) {
    let text: string | null = null;
    const file = dir ? join(dir, `${kind}.txt`) : '';
    if (dir) {
      try { text = readFileSync(file, 'utf8'); } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TemplateError(`${file}: ${(err as Error).message}`);
      }
    }
    out[kind] = text === null ? parseTemplate(kind, BUILTIN[kind], `built-in ${kind}`) : parseTemplate(kind, text, file);
  }
  return out;
}

export type TemplateValues = Record<Placeholder, string>;

/** Fills the placeholders; values are inserted as they are (the sender makes them safe for mail). */
export function renderTemplate(t: Template, values: TemplateValues): { subject: string; body: string } {
  const fill = (s: string): string => s.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_, k: string) => values[k as Placeholder] ?? '');
  // A subject is one line: multi-line values (the evidence) are joined.
  return { subject: fill(t.subject).replace(/\s*\n\s*/g, ' '), body: fill(t.body) };
}
