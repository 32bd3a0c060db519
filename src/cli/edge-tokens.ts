// The edge endpoint's token file, read by `start` and by `config check`, so that
// the check refuses what the start would.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/index.ts';
import type { EdgeToken } from '../netpolicy/index.ts';

/** The "EDGE-NAME TOKEN" file; a bad one is a ConfigError naming file and line (start stops before anything listens). */
export async function loadEdgeTokens(file: string): Promise<EdgeToken[]> {
  const { parseTokenFile } = await import('../netpolicy/index.ts');
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) { throw new ConfigError([`netpolicy.tokenFile: cannot read ${file}: ${(err as Error).message}`]); }
  const r = parseTokenFile(text, file);
  if (!r.ok) throw new ConfigError([`netpolicy.tokenFile: ${r.error}`]);
  return r.value;
}
