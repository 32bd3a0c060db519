// The two stores a repository test runs its cases on: SQLite in a temp directory, and a private
// PostgreSQL (test/lib/postgres.ts) started before the file's tests and stopped after them, one
// database per config() call. Call at a test file's top level; a backend whose server is missing
// carries its skip reason (under CI the missing tool fails instead, as needTools does).
import { after, before } from 'node:test';
import { join } from 'node:path';
import type { StoreConfig } from '../../src/store/index.ts';
import { postgresBin, startPostgres, type TestPostgres } from './postgres.ts';
import { tempDir } from './tools.ts';

export interface StoreBackend { name: 'sqlite' | 'postgres'; skip: string | false; config(): Promise<StoreConfig> }

/** `tag` names the temp directories (pw-TAG-…) and the databases (pw_TAG_N). */
export function storeBackends(tag: string): StoreBackend[] {
  const found = postgresBin();
  const pgSkip = 'skip' in found ? found.skip : false;
  let server: TestPostgres | null = null;
  let seq = 0;
  const cleanups: Array<() => void> = [];
  before(async () => { if (!pgSkip) server = await startPostgres(); });
  after(async () => { await server?.stop(); for (const c of cleanups) c(); });
  return [
    { name: 'sqlite', skip: false, async config() { const d = tempDir(`pw-${tag}-`); cleanups.push(() => d.remove()); return { kind: 'sqlite', path: join(d.path, 'state.db') }; } },
    { name: 'postgres', skip: pgSkip, async config() { return { kind: 'postgres', url: await server!.createDatabase(`pw_${tag}_${++seq}`) }; } },
  ];
}
