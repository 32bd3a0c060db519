// The subcommand table. Each entry parses its own options and has --help.
import { parseArgs } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, exampleConfig, loadConfig } from '../config/index.ts';
import { startCommand } from './start.ts';
import { accountCommand } from './account.ts';
import { queueCommand } from './queue.ts';
import { policyCommand } from './policy.ts';
import { runTraceCommand, TRACE_USAGE } from '../accountability/index.ts';
import { openState } from './state.ts';
import { runDkimCommand } from '../dkim/index.ts';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  summary: string;
  run(argv: string[], io: Io): Promise<number | void>;
}

export function configPath(value: string | undefined, io: Io): string {
  return resolve(value ?? io.env.PORTWARDEN_CONFIG ?? 'portwarden.yaml');
}

export const commands: Record<string, Command> = {
  start: startCommand,
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
      if (values.help || positionals[0] !== 'check') { io.out('usage: portwarden config check [--config FILE]'); return values.help ? 0 : 2; }
      const file = configPath(values.config, io);
      try {
        loadConfig(file);
      } catch (err) {
        if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
        throw err;
      }
      io.out(`${file}: ok`);
      return 0;
    },
  },
  account: accountCommand,
  dkim: {
    summary: 'DKIM keys: keygen DOMAIN prints the DNS TXT record; record DOMAIN --selector S',
    async run(argv, io) {
      const { values } = parseArgs({ args: argv, strict: false, options: { config: { type: 'string' } } });
      let dataDir: string;
      try {
        dataDir = loadConfig(configPath(typeof values.config === 'string' ? values.config : undefined, io)).dataDir;
      } catch (err) {
        if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
        throw err;
      }
      const rest = argv.filter((a, i) => a !== '--config' && argv[i - 1] !== '--config' && !a.startsWith('--config='));
      return runDkimCommand(rest, { out: io.out, err: io.err, dataDir });
    },
  },
  trace: {
    summary: 'who sent it: look up a message by queue id, Message-ID, or client IP and time',
    async run(argv, io) {
      const { values } = parseArgs({ args: argv, strict: false, options: { config: { type: 'string' }, help: { type: 'boolean' } } });
      if (values.help) { io.out(TRACE_USAGE); return 0; }
      const state = openState(typeof values.config === 'string' ? values.config : undefined, io);
      if (!state) return 1;
      const rest = argv.filter((a, i) => a !== '--config' && argv[i - 1] !== '--config' && !a.startsWith('--config='));
      try {
        return await runTraceCommand(rest, { store: state.store, out: io.out, err: io.err });
      } finally {
        state.store.close();
      }
    },
  },
  queue: queueCommand,
  policy: policyCommand,
};
