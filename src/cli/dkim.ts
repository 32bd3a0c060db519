// `portwarden dkim …`: keys for DKIM signing (dkim part).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.ts';
import { runDkimCommand } from '../dkim/index.ts';
import { configPath, type Command } from './commands.ts';

export const dkimCommand: Command = {
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
};
