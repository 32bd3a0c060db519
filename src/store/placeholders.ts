// `?` placeholders (the one spelling repositories write) to PostgreSQL's `$1, $2…`.
// A `?` inside a quoted string ('…', with '' escapes), a quoted identifier ("…"),
// a dollar-quoted body ($tag$…$tag$) or a comment (-- and /* */) is text, not a
// placeholder, and is left alone.

export function toPositional(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '?') { out += `$${++n}`; i++; continue; }
    const end = skip(sql, i);
    out += sql.slice(i, end);
    i = end;
  }
  return out;
}

/** Index just past the quoted run or comment starting at i, or i + 1 for any other character. */
function skip(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === c) {
        if (sql[j + 1] === c) { j += 2; continue; } // '' or "" is the quote itself
        return j + 1;
      }
      j++;
    }
    return sql.length;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const j = sql.indexOf('\n', i);
    return j < 0 ? sql.length : j + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const j = sql.indexOf('*/', i + 2);
    return j < 0 ? sql.length : j + 2;
  }
  if (c === '$') {
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (m && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const j = sql.indexOf(m[0], i + m[0].length);
      return j < 0 ? sql.length : j + m[0].length;
    }
  }
  return i + 1;
}
