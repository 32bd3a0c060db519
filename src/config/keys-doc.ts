// How docs/configure.md writes a key's row, shared by its check (keys.test.ts)
// and tools/config-doc.ts, which prints starting rows for keys the guide lacks.
import type { ConfigKey } from './keys.ts';

/** The default cell: a string bare in backticks, other values as JSON in backticks, else "required" / "unset". */
export function guideDefault(k: ConfigKey): string {
  if (k.default === 'required' || k.default === 'unset') return k.default;
  const v: unknown = JSON.parse(k.default);
  return `\`${typeof v === 'string' ? v : k.default}\``;
}

/** The guide's reference rows: "| `path` | default | meaning |" → path → default cell. */
export function docRows(md: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of md.split('\n')) {
    const m = /^\|\s*`([A-Za-z][\w.[\]]*)`\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (m) rows.set(m[1], m[2]);
  }
  return rows;
}

/** The keys the guide has a row for: every key but a plain mapping (its keys have rows; a list of mappings has one too). */
export function documented(keys: readonly ConfigKey[]): ConfigKey[] {
  return keys.filter((k) => k.accepts !== 'a mapping');
}

/** A row to start from for a key the guide lacks. */
export function starterRow(k: ConfigKey): string {
  return `| \`${k.path}\` | ${k.container ? '(a section)' : guideDefault(k)} | TODO: ${k.accepts}. |`;
}
