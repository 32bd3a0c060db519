// `portwarden trace …`: who sent a message (accountability part).
import { parseArgs } from 'node:util';
import { runTraceCommand, TRACE_USAGE } from '../accountability/index.ts';
import { openState } from './state.ts';
import type { Command } from './commands.ts';

export const traceCommand: Command = {
  summary: 'who sent it: look up a message by queue id, Message-ID, or client IP and time',
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, strict: false, options: { config: { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help) { io.out(TRACE_USAGE); return 0; }
    const state = await openState(typeof values.config === 'string' ? values.config : undefined, io);
    if (!state) return 1;
    const rest = argv.filter((a, i) => a !== '--config' && argv[i - 1] !== '--config' && !a.startsWith('--config='));
    try {
      return await runTraceCommand(rest, { store: state.store, out: io.out, err: io.err });
    } finally {
      await state.store.close();
    }
  },
};
