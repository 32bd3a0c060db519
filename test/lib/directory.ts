// The directory the address sources' tests write into: the real repository
// (openDirectory on a SQLite store in a temporary directory), wrapped so a test
// can count writes, hold them (a slow store) or make the next ones fail.
import { join } from 'node:path';
import { MemoryLogger, systemClock } from '../../src/core/index.ts';
import { openStore } from '../../src/store/index.ts';
import { openDirectory, type DirectoryRepository } from '../../src/directory/index.ts';
import { tempDir } from './tools.ts';

export interface TestDirectory {
  repo: DirectoryRepository;
  /** putSubscriber/assign/end calls so far. */
  writes(): number;
  /** Writes wait until release(). */
  hold(): { release(): void };
  failNext(n: number): void;
  close(): Promise<void>;
}

const WRITES = new Set(['putSubscriber', 'assign', 'end']);

export function wrapDirectory(inner: DirectoryRepository, close: () => Promise<void>): TestDirectory {
  let writes = 0, fail = 0;
  let gate: Promise<void> | null = null;
  const repo = new Proxy(inner, {
    get(t, name, recv) {
      const v = Reflect.get(t, name, recv);
      if (typeof v !== 'function') return v;
      if (!WRITES.has(String(name))) return v.bind(t);
      return async (...args: unknown[]) => {
        writes++;
        if (gate) await gate;
        if (fail > 0) { fail--; throw new Error('store unavailable (test)'); }
        return v.apply(t, args);
      };
    },
  });
  return {
    repo, writes: () => writes, failNext: (n) => { fail = n; }, close,
    hold() {
      let release!: () => void;
      gate = new Promise<void>((r) => { release = () => { gate = null; r(); }; });
      return { release };
    },
  };
}

export async function openTestDirectory(): Promise<TestDirectory> {
  const d = tempDir('pw-sources-');
  const store = await openStore({ kind: 'sqlite', path: join(d.path, 'state.db') });
  const dir = await openDirectory(store, { clock: systemClock, logger: new MemoryLogger() });
  return wrapDirectory(dir, async () => { await dir.close(); await store.close(); d.remove(); });
}
