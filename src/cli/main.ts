#!/usr/bin/env node
// The `portwarden` command: one table of subcommands. The only place that
// reads the environment (PORTWARDEN_CONFIG) and wires parts together.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { visible } from '../core/index.ts';
import { UsageError, commands, type Io } from './commands.ts';

// `portwarden queue list | head` closes our stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

const io: Io = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  readStdin: async () => {
    if (process.stdin.isTTY) return '';
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
};

const [name, ...rest] = process.argv.slice(2);
if (name === '--version' || name === '-V' || name === 'version') {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  io.out(`portwarden ${pkg.version}`);
  process.exit(0);
}
if (name === '__prime') { await (await import('./prime.ts')).prime(); process.exit(0); }
const cmd = name ? commands[name] : undefined;
if (!cmd || name === 'help' || name === '--help' || name === '-h') {
  const usage = ['usage: portwarden <command> [options]   (every command takes --help; --version prints the version)', '', 'commands:',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)].join('\n');
  if (!name || name === 'help' || name === '--help' || name === '-h') { io.out(usage); process.exit(0); }
  io.err(`portwarden: unknown command "${name}"\n${usage}`);
  process.exit(2);
}
try {
  const code = await cmd.run(rest, io);
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  // Exit codes, for every command: 0 done, 1 refused or failed, 2 the command line cannot be
  // understood (an unknown option, a missing or malformed argument: node:util parseArgs throws those).
  // A message may quote data (a queue file, an import line): shown through visible().
  if (err instanceof UsageError || String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_')) {
    io.err(visible(`portwarden ${name}: ${(err as Error).message}`) + `\n(usage: portwarden ${name} --help)`);
    process.exit(2);
  }
  io.err(visible(`portwarden ${name}: ${(err as Error).message}`));
  // Exit now: a start that failed half-way (a port already taken) still holds sockets,
  // timers and connections that would keep the process alive doing nothing.
  process.exit(1);
}
