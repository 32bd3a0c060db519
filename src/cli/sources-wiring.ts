// The directory's address sources, wired: the RADIUS accounting server on
// directory.radiusListen (clients and secrets from directory.radiusSecretFile),
// a follower per directory.detailFiles and directory.keaLeaseFiles entry, read
// every directory.pollMs; positions in <dataDir>/sources. They write into the
// node's directory and report each record's outcome on the bus
// (directory.source-record: metrics count it). `config check` refuses what
// start would: a RADIUS listener without a readable, private secret file, a
// lease file that cannot be read, a detail file in a directory that does not exist.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import {
  AccountingApplier, DetailSource, KeaLeaseSource, PositionFiles, RadiusServer, SecretFileError, loadClients, type DirectoryRepository,
} from '../directory/index.ts';
import type { Service } from './services.ts';

export interface SourcesWiring {
  cfg: Config;
  logger: Logger;
  bus?: EventBus;
  directory?: DirectoryRepository;
  bindError?: (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;
}

export interface RunningSources {
  radius?: RadiusServer;
  radiusPort?: number;
  detail: DetailSource[];
  kea: KeaLeaseSource[];
  close(): Promise<void>;
}

type Kind = 'radius' | 'detail' | 'kea';

function outcome(bus: EventBus | undefined, source: Kind) {
  return (o: 'accepted' | 'refused' | 'dropped', reason?: string): void => {
    bus?.publish('directory.source-record', { source, outcome: o, reason: reason ?? '' });
  };
}

export async function startSources(w: SourcesWiring & { directory: DirectoryRepository }): Promise<RunningSources> {
  const d = w.cfg.directory;
  const positions = new PositionFiles(join(w.cfg.dataDir, 'sources'));
  const out: RunningSources = { detail: [], kea: [], close: async () => {} };
  // One applier for RADIUS and detail files: a NAS fed to both is one session, a new subscriber is created once.
  const applier = new AccountingApplier(w.directory);
  if (d.radiusListen) {
    const clients = loadClients(d.radiusSecretFile!);
    const { host, port } = splitHostPort(d.radiusListen);
    out.radius = new RadiusServer({ repo: w.directory, clients, logger: w.logger, applier, onOutcome: outcome(w.bus, 'radius') });
    try {
      out.radiusPort = (await out.radius.listen(host, port)).port;
    } catch (err) {
      throw w.bindError ? w.bindError('RADIUS accounting', host, port, err as NodeJS.ErrnoException) : err;
    }
    w.logger.info({ event: 'listening', listener: 'radius-accounting', host, port: out.radiusPort, clients: clients.length });
  }
  for (const path of d.detailFiles) {
    const s = new DetailSource({ path, repo: w.directory, positions, logger: w.logger, pollMs: d.pollMs, applier, onOutcome: outcome(w.bus, 'detail') });
    s.start();
    out.detail.push(s);
    w.logger.info({ event: 'following', kind: 'detail', path });
  }
  for (const path of d.keaLeaseFiles) {
    const s = new KeaLeaseSource({ path, repo: w.directory, positions, logger: w.logger, pollMs: d.pollMs, onOutcome: outcome(w.bus, 'kea') });
    s.start();
    out.kea.push(s);
    w.logger.info({ event: 'following', kind: 'kea', path });
  }
  out.close = async () => {
    await out.radius?.close();
    for (const s of [...out.detail, ...out.kea]) await s.stop();
  };
  return out;
}

/** The node's service: after the directory (it writes into it), stopped before it. */
export function sourcesService(w: () => SourcesWiring): Service {
  let running: RunningSources | undefined;
  return {
    name: 'sources',
    start: async () => {
      const x = w();
      const d = x.cfg.directory;
      if (!d.radiusListen && !d.detailFiles.length && !d.keaLeaseFiles.length) return;
      if (!x.directory) throw new Error('directory sources are configured but the directory is not open');
      running = await startSources({ ...x, directory: x.directory });
    },
    stop: () => running?.close(),
  };
}

/** What start would refuse about the sources, for `config check` (and start). */
export function sourcesProblems(cfg: Config, at: (p: Array<string | number>, m: string) => string): string[] {
  const d = cfg.directory;
  const out: string[] = [];
  if (d.radiusListen && !d.radiusSecretFile) out.push(at(['directory', 'radiusSecretFile'], 'radiusListen needs a radiusSecretFile ("CLIENT-ADDRESS-OR-PREFIX SECRET" per line)'));
  if (d.radiusSecretFile) {
    try { loadClients(d.radiusSecretFile); } catch (err) {
      if (!(err instanceof SecretFileError)) throw err;
      out.push(at(['directory', 'radiusSecretFile'], err.message));
    }
  }
  d.keaLeaseFiles.forEach((f, i) => {
    try { accessSync(f, constants.R_OK); } catch (err) {
      out.push(at(['directory', 'keaLeaseFiles', i], `${f}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (Kea creates it when it starts with lease-database type memfile)`));
    }
  });
  d.detailFiles.forEach((f, i) => {
    const st = statSync(f, { throwIfNoEntry: false });
    if (st) {
      try { accessSync(f, constants.R_OK); } catch (err) { out.push(at(['directory', 'detailFiles', i], `${f}: ${(err as NodeJS.ErrnoException).code}`)); }
    } else if (!statSync(dirname(f), { throwIfNoEntry: false })?.isDirectory()) {
      out.push(at(['directory', 'detailFiles', i], `${dirname(f)} is not a directory (FreeRADIUS creates the file there on the first record)`));
    }
  });
  return out;
}
