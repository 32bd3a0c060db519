// Fills Node's compile cache (NODE_COMPILE_CACHE, set by bin/portwarden) with
// every module the server and the tools may load, then exits. Node strips
// TypeScript types with a WebAssembly build of swc that, once loaded, stays in
// the process: ~30 MiB of resident memory for the server's whole life. With
// the cache filled first, the server's own process finds every module already
// compiled and never loads the stripper (measured: 117 → 84 MiB idle RSS).
// bin/portwarden runs `main.ts __prime` before `start` (through main.ts, so that
// main.ts is cached too); warm, it takes ~0.2 s.
import { flushCompileCache } from 'node:module';

export async function prime(): Promise<void> {
  const { commands } = await import('./commands.ts');
  await Promise.all([
    ...Object.values(commands).map((c) => c.load?.()),
    // What `start` itself imports only when the config asks for it:
    import('../dkim/index.ts'), import('../postfix/index.ts'), import('../netpolicy/index.ts'),
    import('../http/index.ts'), import('./http.ts'),
    // Loaded by the password worker threads (auth/hash-pool.ts), which would otherwise strip it themselves.
    import('../auth/index.ts').then((a) => import(a.HASH_WORKER_URL)),
  ]);
  flushCompileCache();
}
