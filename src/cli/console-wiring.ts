// The staff console wired (docs/console.md): on console.listen, HTTPS with the
// node's certificate (SIGHUP's reload reaches it), the web part's console frame
// — sign-in, the guard, home, /staff and every CONSOLE_PAGES module — over the
// node's one set of operation dependencies (the control socket's and the
// API's), so a page's change is the same invoke() as the CLI's. The CSRF key is
// `<dataDir>/console-csrf.key`.
import { loadSecretFile, systemClock, type Logger } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import { AuditLog, loadOperations, need, type AppDeps } from '../app/index.ts';
import type { Service } from './services.ts';
import type { TlsStore } from './tls.ts';

export interface ConsoleWiring {
  cfg: Config;
  logger: Logger;
  tls: TlsStore;
  /** The node's operation dependencies; `staff` and `audit` must be there. */
  app: AppDeps;
  bindError?: (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;
}

export interface ConsoleService extends Service {
  /** SIGHUP: new connections get the reloaded certificate. */
  reload(): void;
}

export function consoleService(get: () => ConsoleWiring): ConsoleService {
  let close: (() => Promise<void>) | undefined;
  let reload = (): void => {};
  return {
    name: 'console',
    start: async () => {
      const w = get();
      const c = w.cfg.console;
      if (!c.listen) return;
      const [{ createHttpListener }, { ConsoleSessions, consoleFrame }] = await Promise.all([import('../http/index.ts'), import('../web/index.ts')]);
      const staff = need(w.app, 'staff');
      const audit = need(w.app, 'audit') as AuditLog;
      const gate = new ConsoleSessions({
        access: staff.access, secret: loadSecretFile(w.cfg.dataDir, 'console-csrf.key', 'forms open in browsers stop working once'),
        sessionMs: c.sessionHours * 3_600_000, idleMs: c.idleMinutes * 60_000, clock: systemClock,
      });
      const l = createHttpListener({ name: 'console', logger: w.logger, tls: w.tls.options(), maxConnections: c.maxConnections });
      const operations = new Map((await loadOperations()).map((o) => [o.name, o]));
      await consoleFrame(l.app, { app: w.app, audit, operations, clock: systemClock, logger: w.logger, gate },
        { staff, lock: { nameAttempts: c.lockoutAttempts, addressAttempts: c.addressAttempts, windowMs: c.lockoutMinutes * 60_000 } });
      const { host, port } = splitHostPort(c.listen);
      const bound = await l.listen(host, port).catch((err: NodeJS.ErrnoException) => { throw w.bindError ? w.bindError('console', host, port, err) : err; });
      w.logger.info({ event: 'listening', listener: 'console', host, port: bound, tls: true, spkiPin: w.tls.info.spkiPin });
      if (!(await staff.list()).some((u) => u.role === 'admin' && u.disabledAt === null)) {
        w.logger.warn({ event: 'console' }, 'the console has no admin yet: create one with `portwarden staff add NAME --role admin`');
      }
      reload = () => l.setSecureContext(w.tls.options());
      close = () => l.close();
    },
    stop: () => close?.(),
    reload: () => reload(),
  };
}
