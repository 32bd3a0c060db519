// `portwarden start`: checks the config, then starts the node's services in
// order (node.ts); SIGHUP reloads certificates and the log file, SIGTERM and
// SIGINT stop the services in reverse order (the SMTP listeners drain first).
import { parseArgs } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { ConfigError, exampleConfig, loadConfigWithSource, type Config } from '../config/index.ts';
import { ensurePrivateDir, tightenDataDir } from './datadir.ts';
import { createLogSink } from './logger.ts';
import { configProblems } from './check.ts';
import { ensureCertificate, TlsStore } from './tls.ts';
import { configPath, type Command } from './commands.ts';
import { PortwardenNode } from './node.ts';
import { Services } from './services.ts';

export const startCommand: Command = {
  summary: 'run the submission service (587/465 roles) and the relay',
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: {
      config: { type: 'string' }, init: { type: 'boolean', default: false }, help: { type: 'boolean' } } });
    if (values.help) {
      io.out('usage: portwarden start [--config FILE] [--init]\n  --init  write a default config first when FILE does not exist');
      return 0;
    }
    const file = configPath(values.config, io);
    if (values.init && !existsSync(file)) {
      writeFileSync(file, exampleConfig({ smarthost: '127.0.0.1:10025' }));
      io.err(`portwarden: wrote a default config to ${file}`);
    }
    let loaded: ReturnType<typeof loadConfigWithSource>;
    try {
      loaded = loadConfigWithSource(file);
    } catch (err) {
      if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
      throw err;
    }
    try {
      return await serve(loaded.config, loaded.where);
    } catch (err) {
      if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
      throw err;
    }
  },
};

export async function serve(cfg: Config, where: (path: Array<string | number>) => string = () => 'config'): Promise<number> {
  const logSink = createLogSink(cfg.log);
  const logger = logSink.logger;
  // At once: logrotate's SIGHUP during the start must reopen the log, not end the process (the default action).
  process.on('SIGHUP', () => logSink.reopen());
  // Everything `config check` reports, before anything starts (check.ts).
  const problems = await configProblems(cfg, where);
  for (const w of problems.warnings) logger.warn({ event: 'config', warning: w });
  if (problems.errors.length) throw new ConfigError(problems.errors);
  // Whatever this process creates (SQLite's -wal/-shm, the generated certificate, temporary files) is its own alone.
  process.umask(0o077);
  ensurePrivateDir(cfg.dataDir);
  tightenDataDir(cfg.dataDir, logger);
  const tls = new TlsStore(ensureCertificate(cfg.dataDir, cfg.hostname, cfg.tls));
  logger.info({ event: 'tls', subject: tls.info.subject, validTo: tls.info.validTo, sha256: tls.info.fingerprint256 });

  const node = new PortwardenNode({ cfg, logger, tls, problems, where, bindError });
  const services = new Services(logger);
  // A service that fails to start stops those already running, and the error ends the start (exit 1).
  await services.start(node.services());
  logger.info({ event: 'started', pid: process.pid, dataDir: cfg.dataDir, services: services.names() });

  process.on('SIGHUP', () => {
    try {
      node.reloadTls();
      logger.info({ event: 'reload', subject: tls.info.subject, validTo: tls.info.validTo, sha256: tls.info.fingerprint256 });
    } catch (err) {
      logger.error({ event: 'reload', err: String(err) }, 'reload failed; keeping the old certificate');
    }
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'stopping', signal, sessions: node.sessionCount() });
      await services.stop();
      logger.info({ event: 'stopped' });
      await logSink.close();
      resolve(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
}

/** A failed bind stops the start (main.ts exits 1) with one line naming the listener and address. */
export function bindError(what: string, host: string, port: number, err: NodeJS.ErrnoException): Error {
  const why = err.code === 'EADDRINUSE' ? 'address already in use'
    : err.code === 'EACCES' ? 'permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE: see README "Ports 587 and 465 without root")'
    : err.code === 'EADDRNOTAVAIL' ? 'no such address on this host'
    : err.message;
  return new Error(`cannot listen for ${what} on ${host.includes(':') ? `[${host}]` : host}:${port}: ${why}`);
}
