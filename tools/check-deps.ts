// Fails when a part imports another part's internals, or points the wrong way.
// A part is a folder under src/; another part may be imported only through its
// index.ts, and only if ALLOWED says so. Run: node tools/check-deps.ts
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  events: ['core'],
  store: ['core'],
  smtp: ['core', 'events'],
  auth: ['core', 'store', 'events'],
  message: ['core'],
  spool: ['core'],
  relay: ['core', 'spool', 'message', 'events'],
  dkim: ['core'],
  autoconfig: ['core'],
  limits: ['core', 'events'],
  netpolicy: ['core', 'store', 'events'],
  submission: ['core', 'smtp', 'auth', 'message', 'spool', 'limits', 'store', 'events', 'scan'],
  config: ['core'],
  metrics: ['core', 'events'],
  accountability: ['core', 'store', 'events'],
  stats: ['core', 'store', 'events'],
  directory: ['core', 'store', 'events'],
  abuse: ['core', 'store', 'events', 'directory', 'smtp', 'message'],
  postfix: ['core', 'limits', 'events', 'retire'],
  scan: ['core', 'events', 'message'],
  retire: ['core', 'store', 'events'],
  inbound: ['core', 'events', 'smtp', 'message', 'spool', 'relay', 'dkim', 'scan'],
  app: ['core', 'store', 'events', 'auth', 'limits', 'spool', 'relay', 'netpolicy', 'accountability', 'directory', 'abuse', 'stats', 'retire'],
  control: ['core', 'spool', 'relay', 'app'],
  http: ['core', 'events', 'app', 'metrics', 'netpolicy', 'abuse', 'autoconfig'],
  web: ['core', 'store', 'events', 'auth', 'app', 'stats'],
  cli: ['*'],
};

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems: string[] = [];
for (const part of readdirSync(src)) {
  if (!statSync(join(src, part)).isDirectory()) continue;
  const allowed = ALLOWED[part];
  if (!allowed) { problems.push(`src/${part}: not listed in tools/check-deps.ts ALLOWED`); continue; }
  for (const file of files(join(src, part))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const rel = relative(src, target);
      // Tests may use the shared test helpers (finding real peers, temp dirs).
      if (file.endsWith('.test.ts') && relative(join(root, 'test', 'lib'), target).split(sep)[0] !== '..') continue;
      if (rel.startsWith('..')) { problems.push(`${relative(root, file)}: imports outside src/: ${spec}`); continue; }
      const [tpart, ...rest] = rel.split(sep);
      if (tpart === part) continue;
      const where = relative(root, file);
      if (!allowed.includes('*') && !allowed.includes(tpart)) problems.push(`${where}: ${part} may not depend on ${tpart} (${spec})`);
      if (rest.join('/') !== 'index.ts') problems.push(`${where}: imports ${tpart}'s internals (${spec}); use src/${tpart}/index.ts`);
    }
  }
}
if (problems.length) {
  console.error(`dependency check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('dependency check: ok');
