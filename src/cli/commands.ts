// The subcommand table. Each entry parses its own options and has --help.
import { parseArgs } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, exampleConfig, loadConfigWithSource } from '../config/index.ts';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  summary: string;
  run(argv: string[], io: Io): Promise<number | void>;
  /** Loads the command's module without running it (lazy commands; prime.ts fills the compile cache with it). */
  load?(): Promise<unknown>;
}

/** The command line cannot be understood (missing or malformed argument): main.ts exits 2 and names --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function configPath(value: string | undefined, io: Io): string {
  return resolve(value ?? io.env.PORTWARDEN_CONFIG ?? 'portwarden.yaml');
}

/** Loads a command's module only when it runs: `start` should not carry every tool's code. */
function lazy(summary: string, load: () => Promise<Command>): Command {
  return { summary, run: async (argv, io) => (await load()).run(argv, io), load };
}

export const commands: Record<string, Command> = {
  start: lazy('run the submission service (587/465 roles) and the relay', async () => (await import('./start.ts')).startCommand),
  init: {
    summary: 'write a starting config file (portwarden.yaml)',
    async run(argv, io) {
      const { values } = parseArgs({ args: argv, options: {
        config: { type: 'string' }, smarthost: { type: 'string', default: '127.0.0.1:10025' },
        hostname: { type: 'string', default: 'localhost' }, force: { type: 'boolean', default: false }, help: { type: 'boolean' } } });
      if (values.help) { io.out('usage: portwarden init [--config FILE] [--smarthost HOST:PORT] [--hostname NAME] [--force]'); return 0; }
      const file = configPath(values.config, io);
      if (existsSync(file) && !values.force) { io.err(`${file} exists (use --force to overwrite)`); return 1; }
      writeFileSync(file, exampleConfig({ smarthost: values.smarthost!, hostname: values.hostname }));
      io.out(`wrote ${file}`);
      return 0;
    },
  },
  config: {
    summary: 'config check: validate the config file',
    async run(argv, io) {
      const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' }, help: { type: 'boolean' } } });
      const usage = 'usage: portwarden config check [--config FILE]   (also runs the checks start runs: key files, limits, addresses)';
      if (values.help) { io.out(usage); return 0; }
      if (positionals[0] !== 'check') { io.err(usage); return 2; }
      const file = configPath(values.config, io);
      let loaded: ReturnType<typeof loadConfigWithSource>;
      try {
        loaded = loadConfigWithSource(file);
      } catch (err) {
        if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
        throw err;
      }
      // The same checks `start` runs before it starts anything.
      const { errors, warnings } = await (await import('./check.ts')).configProblems(loaded.config, loaded.where);
      for (const w of warnings) io.err(`warning: ${w}`);
      if (errors.length) { io.err(errors.join('\n')); return 1; }
      io.out(`${file}: ok`);
      return 0;
    },
  },
  account: lazy('manage submission accounts (add, passwd, alias, disable, list, import…)', async () => (await import('./account.ts')).accountCommand),
  dkim: lazy('DKIM keys: keygen DOMAIN prints the DNS TXT record; record DOMAIN --selector S', async () => (await import('./dkim.ts')).dkimCommand),
  dns: lazy('DNS records to publish: dns records DOMAIN (SRV, autoconfig CNAMEs, DKIM TXT)', async () => (await import('./dns.ts')).dnsCommand),
  trace: lazy('who sent it: look up a message by queue id, Message-ID, or client IP and time', async () => (await import('./trace.ts')).traceCommand),
  limits: lazy('show the sending limits in effect for an account (limits show ACCOUNT)', async () => (await import('./limits-cmd.ts')).limitsCommand),
  queue: lazy('inspect and act on the queue (list, show, hold, release, delete, flush, requeue…)', async () => (await import('./queue.ts')).queueCommand),
  token: lazy('API tokens for the admin API (add NAME --scope read|operate|admin, list, revoke)', async () => (await import('./token.ts')).tokenCommand),
  audit: lazy('the audit log of every change: who, when, from where, what, why (audit list)', async () => (await import('./audit.ts')).auditCommand),
  case: lazy('abuse cases: list, show, note, release, quarantine (the running server\'s)', async () => (await import('./case.ts')).caseCommand),
  subscriber: lazy('the subscriber directory: put ID [--tier --contact --access], show ID', async () => (await import('./subscriber.ts')).subscriberCommand),
  address: lazy('who held ADDRESS[:PORT] when (who), history, assign, end: the subscriber directory', async () => (await import('./address.ts')).addressCommand),
  report: lazy('abuse complaints the mailbox stored (report list, report show ID)', async () => (await import('./report.ts')).reportCommand),
  staff: lazy('console users: add NAME --role desk|postmaster|netops|admin, list, show, role, disable, passwd, totp-reset, unlock', async () => (await import('./staff.ts')).staffCommand),
  stats: lazy('hourly statistics: messages, refusals by reason, limit hits, blocked port 25, cases, queue', async () => (await import('./stats.ts')).statsCommand),
  notice: lazy('notice snippets: the RFC 8910 captive-portal URI as DHCP (Kea, ISC dhcpd, networkd, IOS, Junos) and RA lines', async () => (await import('./notice-snippets.ts')).noticeCommand),
  policy: lazy('port-25 network policy: pools, relays, exemptions, quarantine, compile, apply, agent', async () => (await import('./policy.ts')).policyCommand),
};
