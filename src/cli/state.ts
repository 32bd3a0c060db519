// Opening the state a subcommand needs from the config file.
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config/index.ts';
import { openStore, type Store, type StoreConfig } from '../store/index.ts';
import { configPath, type Io } from './commands.ts';
import { ensurePrivateDir } from './datadir.ts';

/** The store the config names: <dataDir>/state.db, or the PostgreSQL database at storeUrl. */
export function storeConfig(cfg: Config): StoreConfig {
  return cfg.store === 'postgres' ? { kind: 'postgres', url: cfg.storeUrl! } : { kind: 'sqlite', path: join(cfg.dataDir, 'state.db') };
}

export async function openState(configFlag: string | undefined, io: Io): Promise<{ cfg: Config; store: Store } | null> {
  let cfg: Config;
  try {
    cfg = loadConfig(configPath(configFlag, io));
  } catch (err) {
    if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return null; }
    throw err;
  }
  ensurePrivateDir(cfg.dataDir);
  return { cfg, store: await openStore(storeConfig(cfg)) };
}

/** The account store's options from the config, the same for the server and the `account` command. */
export function accountStoreOptions(cfg: Config): { minPasswordLength: number; scramIterations: number; hashCaps: { bcryptCost: number; cryptRounds: number } } {
  const a = cfg.auth;
  return { minPasswordLength: cfg.accounts.minPasswordLength, scramIterations: a.scramIterations, hashCaps: { bcryptCost: a.maxBcryptCost, cryptRounds: a.maxCryptRounds } };
}
