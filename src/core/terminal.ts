// Text from clients, messages, next hops and edge reports shown on an
// operator's terminal. An escape sequence there can retitle the window, clear
// the screen, hide what follows or, on some terminals, answer back as typed
// input; a newline starts a false row; bidi overrides reorder what is read.
// So every such character is shown as an escape, the way `ls -b` would:
// C0 controls, DEL, C1 controls, and the Unicode bidi marks, embeddings,
// overrides and isolates and the line/paragraph separators. Backslashes are
// left as they are (an address may hold one); the escapes are for reading,
// not for parsing back.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const code = (c: string): string => {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** One line of terminal text: nothing in it moves the cursor, changes the terminal or breaks the line. */
export function visible(s: string, opts: { keepTabs?: boolean } = {}): string {
  return s.replace(UNSAFE, (c) => (c === '\t' && opts.keepTabs ? c : SHORT[c] ?? code(c)));
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 already; DEL, C1 and the
 * Unicode controls become \uXXXX too. Still valid JSON with the same values.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
