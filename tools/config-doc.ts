// Prints a starting row for every config key docs/configure.md does not have
// yet (its check is src/config/keys.test.ts). Usage: node tools/config-doc.ts [--all]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configKeys } from '../src/config/index.ts';
import { docRows, documented, starterRow } from '../src/config/keys-doc.ts';

const rows = docRows(readFileSync(join(import.meta.dirname, '..', 'docs', 'configure.md'), 'utf8'));
const all = process.argv.includes('--all');
const out = documented(configKeys()).filter((k) => all || !rows.has(k.path)).map(starterRow);
process.stdout.write(out.length ? `${out.join('\n')}\n` : 'docs/configure.md has every key\n');
