// HTML built by a tagged template that escapes every interpolated value unless it
// is already Html: `html\`<p>${name}</p>\`` cannot inject markup, and a page is
// one typed value from its parts. Written here (about forty lines) rather than
// taken from a template engine: the pages are TypeScript functions, type-checked
// with the data they show, and no template is compiled or read at run time.
const ESC = /[&<>"'`]/g;
// Controls and bidi overrides say nothing a reader needs and can reorder what they see.
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Markup that is already safe: built by `html`, or `trusted()` constant text of ours. */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** Escapes text for element content and quoted attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(ESC, (c) => `&#${c.charCodeAt(0)};`).replace(CONTROLS, '\uFFFD');
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return esc(v);
}

/** The template tag: strings, numbers and arrays of parts are escaped; Html is kept; null, undefined and false vanish. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Our own constant markup (a style sheet, an inline SVG built from numbers): never client text. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** Joins parts with a separator (escaped like any part). */
export function join(parts: readonly Part[], sep: Part = ''): Html {
  return new Html(parts.map(render).join(render(sep)));
}
