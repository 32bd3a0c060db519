// The CLI's one way into the application layer: an operator actor (the Unix
// user, from "cli"), the op's own schema checked before it runs (an error names
// the field), invoke() with the audit log, and the catalogue's exit code for a
// refusal. Commands format what comes back; they call nothing else.
import { userInfo } from 'node:os';
import {
  AUDIT_MIGRATIONS, AppError, AuditLog, asAppError, checkInput, invoke, loadOperation,
  type Actor, type AppDeps, type AuditSink, type TierPolicy,
} from '../app/index.ts';
import { AccountStore } from '../auth/index.ts';
import { createLogger } from './logger.ts';
import { systemClock, visible } from '../core/index.ts';
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { configPath, type Io } from './commands.ts';
import { limitsFromConfig } from './limits.ts';
import { accountStoreOptions, openState } from './state.ts';
import { lazyDirectory } from './directory-wiring.ts';

export function operatorActor(): Actor {
  let name = 'unknown';
  try { name = userInfo().username; } catch { /* no passwd entry for the uid (a container): keep "unknown" */ }
  return { kind: 'operator', name, from: 'cli' };
}

export interface CliApp {
  deps: AppDeps;
  audit: AuditSink;
  actor: Actor;
}

/** Runs one operation as the operator; a refusal comes back as an AppError, never thrown. */
export async function runOp<T = unknown>(app: CliApp, name: string, input: Record<string, unknown>, reason?: string): Promise<{ ok: true; value: T } | { ok: false; error: AppError }> {
  const op = await loadOperation(name);
  // Absent options arrive as undefined: drop them, as a JSON body would not have them.
  const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  try {
    checkInput(op, clean);
    const value = await invoke(op, clean as never, { actor: app.actor, ...(reason ? { reason } : {}) }, app.deps, app.audit) as T;
    return { ok: true, value };
  } catch (err) {
    // On the operator's own terminal an unexpected failure keeps its text (over the network it would not).
    return { ok: false, error: err instanceof AppError ? err : new AppError('internal', err instanceof Error ? err.message : asAppError(err).message) };
  }
}

/** Prints a refusal as `PREFIX: message` (through visible()) and gives the catalogue's exit code. */
export function refuse(io: Io, prefix: string, e: AppError): number {
  io.err(visible(`${prefix}: ${e.message}`));
  return e.exit;
}

export interface OpenApp extends CliApp {
  cfg: Config;
  store: Store;
  close(): Promise<void>;
}

/**
 * The state store from the config, with the audit log, the account store (made
 * on first use) and what `more` adds. The CLI has no spool or relay: queue
 * changes go through the server's control socket.
 */
export async function openApp(configFlag: string | undefined, io: Io, more?: (store: Store, cfg: Config) => Partial<AppDeps>): Promise<OpenApp | null> {
  const state = await openState(configFlag, io);
  if (!state) return null;
  const { cfg, store } = state;
  await store.migrate(AUDIT_MIGRATIONS);
  const audit = new AuditLog(store.db);
  let accounts: AccountStore | undefined;
  const logger = createLogger(cfg.log.level);
  // The directory lives in the shared store too; it opens on first use (a running server picks up what is written here within its sync interval).
  const directory = lazyDirectory(store, logger);
  const deps: AppDeps = {
    clock: systemClock,
    logger,
    audit,
    get accounts() { return (accounts ??= new AccountStore(store, accountStoreOptions(cfg))); },
    tiers: () => tiersOf(cfg, configFlag, io),
    directory: directory.directory,
  };
  // The other parts a command needs it names itself (policy, attribution), so that none loads what it does not use.
  Object.assign(deps, more?.(store, cfg));
  return { cfg, store, deps, audit, actor: operatorActor(), async close() { await deps.attribution?.close(); await directory.close(); await store.close(); } };
}

/** The configured tiers; invalid limits in the config refuse the tier choice rather than guess. */
export function tiersOf(cfg: Config, configFlag: string | undefined, io: Io): TierPolicy {
  const l = limitsFromConfig(cfg, () => configPath(configFlag, io));
  if (!l.ok) throw new AppError('unavailable', `the limits in the config are invalid (see portwarden config check):\n${l.errors.join('\n')}`);
  return { names: l.limits.tierNames, defaultTier: l.limits.defaultTier };
}
