// The subscriber directory on the node's store: in the server, a service that
// opens it (its open index loaded, kept in step with other processes' writes)
// and prunes it hourly by directory.retentionDays; in the CLI, a handle opened
// only when a command first uses it, without the in-memory index (a one-shot
// command asks the store).
import { systemClock, type Clock, type Logger } from '../core/index.ts';
import type { Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { openDirectory, type DirectoryRepository, type OpenedDirectory } from '../directory/index.ts';
import type { Service } from './services.ts';

const DAY = 86_400_000;

export interface NodeDirectory {
  directory: OpenedDirectory;
  /** Deletes assignments that ended more than retentionDays ago; returns how many. */
  prune(): Promise<number>;
  close(): Promise<void>;
}

export async function startDirectory(w: { store: Store; cfg: Config; logger: Logger; bus?: EventBus; clock?: Clock }): Promise<NodeDirectory> {
  const clock = w.clock ?? systemClock;
  const directory = await openDirectory(w.store, { clock, bus: w.bus, logger: w.logger });
  const prune = async () => {
    const n = await directory.prune(clock.now() - w.cfg.directory.retentionDays * DAY);
    if (n) w.logger.info({ event: 'directory-prune', deleted: n, retentionDays: w.cfg.directory.retentionDays });
    return n;
  };
  const timer = setInterval(() => void prune().catch((err: unknown) =>
    w.logger.error({ event: 'directory', err: String(err) }, 'directory prune failed')), 3_600_000).unref();
  w.logger.info({ event: 'directory', indexed: directory.indexSize });
  return { directory, prune, async close() { clearInterval(timer); await directory.close(); } };
}

/** The node's service: opened after the store, before anything that asks who held an address (control, http, notices, sources). */
export function directoryService(w: () => { store: Store; cfg: Config; logger: Logger; bus: EventBus }, opened: (d: OpenedDirectory) => void): Service {
  let nd: NodeDirectory | undefined;
  return {
    name: 'directory',
    start: async () => { nd = await startDirectory(w()); opened(nd.directory); },
    stop: () => nd?.close(),
  };
}

/** The CLI's directory: opened (migrations, no index) on the first call of any of its methods. */
export function lazyDirectory(store: Store, logger: Logger): { directory: DirectoryRepository; close(): Promise<void> } {
  let opening: Promise<OpenedDirectory> | undefined;
  const get = () => (opening ??= openDirectory(store, { clock: systemClock, logger, memory: false, syncMs: 0 }));
  const methods = ['holdersAt', 'currentOf', 'subscriber', 'putSubscriber', 'listSubscribers', 'resolveAccess', 'assign', 'end', 'history', 'prune'] as const;
  const directory = Object.fromEntries(methods.map((m) => [m, async (...args: unknown[]) => {
    const d = await get();
    return (d[m] as (...a: unknown[]) => Promise<unknown>).apply(d, args);
  }])) as unknown as DirectoryRepository;
  return { directory, async close() { if (opening) await (await opening).close(); } };
}
