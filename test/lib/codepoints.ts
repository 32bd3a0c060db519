// Code points a client may send in UTF-8, by class, for the tests of issue 10
// item 1 (no client byte can start a header line).

/** One representative (or several) of every class of code point a client may send in UTF-8. */
export const CLASSES: Array<[string, string]> = [
  ['C0 controls', '\x01\x08\x0b\x0c\x0e\x1b\x1f'],
  ['tab and space', '\t '],
  ['DEL', '\x7f'],
  ['ASCII specials', '()<>[]:;@\\,."'],
  ['C1 controls incl. NEL', '\x80\x85\x9f'],
  ['latin-1 letters and NBSP', '\u00e9\u00a0\u00ff'],
  ['low byte CR/LF/colon/space/tab', '\u010d\u010a\u013a\u0120\u0109'],
  ['Malayalam U+0D0A, U+0D0D', '\u0d0a\u0d0d'],
  ['line/paragraph separators', '\u2028\u2029'],
  ['format characters (BOM, ZWJ, RLO)', '\ufeff\u200d\u202e'],
  ['private use and noncharacters', '\ue000\ufffe\uffff'],
  ['combining mark', 'e\u0301'],
  ['astral with low bytes 0A/0D', '\u{1F60A}\u{1000D}\u{1F40D}'],
  ['CJK and emoji', '\u6f22\u5b57\u{1F600}'],
];

/** Strings that spell a whole new field when written one low byte per code point (the old latin1 write). */
export const INJECTIONS: Array<[string, string]> = [
  ['CR LF by low bytes', 'x\u010d\u010aBcc\u013a\u0120victim@example.net'],
  ['LF by U+0D0A', 'x\u0d0aBcc:victim@example.net'],
  ['LF by an astral code point', 'x\u{1F60A}X-Injected:\u0120yes'],
  ['NEL and LS', 'x\u0085X-Injected: yes\u2028X-Two: yes'],
];
