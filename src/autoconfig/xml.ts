// XML in and out for the autoconfig answers. Out: every value is escaped
// (the five predefined entities; control characters refused before this).
// In: the one thing read from a request, the EMailAddress of an Outlook POX
// request, by a bounded scanner that knows no DTD: "<!DOCTYPE", "<!ENTITY",
// CDATA and any entity but the five predefined ones and character references
// are refused, so there is nothing to expand (no XXE, no billion laughs).

const ESC: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };
export const xmlEscape = (s: string): string => s.replace(/[<>&"']/g, (c) => ESC[c]);

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export type Parsed = { ok: true; email: string | null } | { ok: false; why: string };

function decode(text: string): string | null {
  let bad = false;
  const out = text.replace(/&([^;&<]{0,10});?/g, (m, name: string) => {
    if (!m.endsWith(';')) { bad = true; return ''; }
    if (name in PREDEFINED) return PREDEFINED[name];
    const num = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (!num) { bad = true; return ''; }
    const cp = num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2]);
    if (cp > 0x10ffff || cp < 0x20) { bad = true; return ''; }
    return String.fromCodePoint(cp);
  });
  return bad ? null : out;
}

/** The text of the first <EMailAddress> inside <Request> (any namespace prefix); null when there is none. */
export function parsePoxRequest(body: string, maxElements = 200): Parsed {
  const stack: string[] = [];
  let i = 0, count = 0, email: string | null = null, text = '';
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    if (lt < 0) { text += body.slice(i); break; }
    text += body.slice(i, lt);
    if (body.startsWith('<!--', lt)) {
      const end = body.indexOf('-->', lt + 4);
      if (end < 0) return { ok: false, why: 'unterminated comment' };
      i = end + 3; continue;
    }
    if (body.startsWith('<!', lt)) return { ok: false, why: 'DOCTYPE, ENTITY and CDATA are refused' };
    if (body.startsWith('<?', lt)) {
      const end = body.indexOf('?>', lt + 2);
      if (end < 0) return { ok: false, why: 'unterminated processing instruction' };
      i = end + 2; continue;
    }
    const gt = body.indexOf('>', lt + 1);
    if (gt < 0) return { ok: false, why: 'unterminated tag' };
    const tag = body.slice(lt + 1, gt);
    i = gt + 1;
    if (++count > maxElements) return { ok: false, why: 'too many elements' };
    const close = tag.startsWith('/');
    const selfClosing = !close && tag.endsWith('/');
    const m = /^\/?([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)(?:\s[^<>]*)?\/?$/s.exec(tag);
    if (!m) return { ok: false, why: 'malformed tag' };
    const local = m[1].includes(':') ? m[1].slice(m[1].indexOf(':') + 1) : m[1];
    if (!close && /&/.test(tag) && decode(tag) === null) return { ok: false, why: 'an entity other than the predefined ones' };
    if (close) {
      if (stack.pop() !== local) return { ok: false, why: 'mismatched closing tag' };
      if (local === 'EMailAddress' && email === null && stack[stack.length - 1] === 'Request') {
        const d = decode(text);
        if (d === null) return { ok: false, why: 'an entity other than the predefined ones' };
        email = d.trim();
      }
    } else if (!selfClosing) {
      if (stack.length >= 16) return { ok: false, why: 'nested too deeply' };
      stack.push(local);
    }
    text = '';
  }
  if (stack.length) return { ok: false, why: 'unclosed element' };
  if (count === 0) return { ok: false, why: 'no XML element' };
  return { ok: true, email };
}
