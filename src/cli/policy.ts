// `portwarden policy …`: the network port-25 policy (netpolicy part).
import { parseArgs } from 'node:util';
import { runPolicyCommand } from '../netpolicy/index.ts';
import { createLogger } from './logger.ts';
import { openStore } from '../store/index.ts';
import type { Command } from './commands.ts';
import { openState } from './state.ts';

export const policyCommand: Command = {
  summary: 'port-25 network policy: pools, relays, exemptions, quarantine, compile, apply, agent',
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, strict: false, options: { config: { type: 'string' } } });
    if (argv.includes('--help') || argv.length === 0) {
      // Usage needs no config: answer from an empty in-memory store.
      const store = await openStore(':memory:');
      try { return await runPolicyCommand(argv.length ? argv : ['--help'], { store, logger: createLogger('warn'), out: io.out, err: io.err }); } finally { await store.close(); }
    }
    const state = await openState(typeof values.config === 'string' ? values.config : undefined, io);
    if (!state) return 1;
    const rest = argv.filter((a, i) => a !== '--config' && argv[i - 1] !== '--config' && !a.startsWith('--config='));
    // `policy agent` runs until SIGTERM/SIGINT.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      return await runPolicyCommand(rest, { store: state.store, logger: createLogger(state.cfg.log.level), out: io.out, err: io.err, signal: stop.signal });
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await state.store.close();
    }
  },
};
