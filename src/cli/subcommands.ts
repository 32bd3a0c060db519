// The dispatch of a command made of subcommands that run against the data
// directory (queue, case): parse the options, pick the subcommand, answer
// --help, refuse an option the subcommand does not take, read the config for
// the data directory, run. Exit codes: 0 help, 2 usage, 1 a bad config.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.ts';
import { visible } from '../core/index.ts';
import { configPath, type Io } from './commands.ts';

export interface SubCtx { io: Io; dataDir: string; json: boolean; positionals: string[]; values: Record<string, string | boolean | undefined> }
export interface Subcommand { usage: string; options: string[]; run(ctx: SubCtx): Promise<number> }

/** "usage: portwarden CMD <subcommand> …" followed by each subcommand's usage line. */
export function subcommandUsage(command: string, subs: Record<string, Subcommand>): string {
  return [`usage: portwarden ${command} <subcommand> [--config FILE]   (each takes --help)`, ...Object.values(subs).map((s) => `  ${s.usage}`)].join('\n');
}

/** Runs `portwarden COMMAND argv…`; `options` are the subcommands' options besides config, help and json. */
export async function runSubcommand(command: string, subs: Record<string, Subcommand>, options: ParseArgsOptionsConfig, argv: string[], io: Io): Promise<number> {
  const USAGE = subcommandUsage(command, subs);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, ...options } });
  } catch (err) {
    io.err(`${visible((err as Error).message)}\n${USAGE}`);
    return 2;
  }
  const values = parsed.values as SubCtx['values'];
  const positionals = parsed.positionals;
  const name = positionals[0];
  const sub = name && Object.hasOwn(subs, name) ? subs[name] : undefined;
  if (!sub) {
    if (values.help) { io.out(USAGE); return 0; }
    if (!name) { io.err(USAGE); return 2; }
    io.err(visible(`unknown ${command} subcommand "${name}"`) + `\n${USAGE}`);
    return 2;
  }
  if (values.help) { io.out(`usage: portwarden ${command} ${sub.usage}`); return 0; }
  const extra = Object.keys(values).filter((k) => k !== 'config' && !sub.options.includes(k));
  if (extra.length) { io.err(`${command} ${name}: unexpected --${extra[0]}\nusage: portwarden ${command} ${sub.usage}`); return 2; }
  let dataDir: string;
  try {
    dataDir = loadConfig(configPath(values.config as string | undefined, io)).dataDir;
  } catch (err) {
    if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
    throw err;
  }
  return sub.run({ io, dataDir, json: values.json === true, positionals: positionals.slice(1), values });
}
