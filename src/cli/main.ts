#!/usr/bin/env node
// The `portwarden` command: one table of subcommands. The only place that
// reads the environment (PORTWARDEN_CONFIG) and wires parts together.
import { visible } from '../core/index.ts';
import { commands, type Io } from './commands.ts';

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
if (name === '__prime') { await (await import('./prime.ts')).prime(); process.exit(0); }
const cmd = name ? commands[name] : undefined;
if (!cmd || name === 'help' || name === '--help' || name === '-h') {
  const usage = ['usage: portwarden <command> [options]   (every command takes --help)', '', 'commands:',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)].join('\n');
  if (!name || name === 'help' || name === '--help' || name === '-h') { io.out(usage); process.exit(0); }
  io.err(`portwarden: unknown command "${name}"\n${usage}`);
  process.exit(2);
}
try {
  const code = await cmd.run(rest, io);
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  io.err(visible(`portwarden ${name}: ${(err as Error).message}`)); // a message may quote data (a queue file, an import line)
  process.exitCode = 1;
}
