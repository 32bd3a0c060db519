// `portwarden policy …`: the network port-25 policy. The command table is the
// netpolicy part's; every read and change in it goes through the application
// layer's policy operations (scoped, audited) by the port below. `policy apply`
// and `policy agent` work on the store and the edge themselves.
import { parseArgs } from 'node:util';
import { PolicyStore, runPolicyCommand, type Change, type PolicyPort, type Result } from '../netpolicy/index.ts';
import { systemClock } from '../core/index.ts';
import { createLogger } from './logger.ts';
import { openStore } from '../store/index.ts';
import type { Command } from './commands.ts';
import { openApp, runOp, type CliApp } from './op.ts';

/** The policy operations in the shape of the table's PolicyPort. */
export function policyPort(app: CliApp): PolicyPort {
  const change = async (name: string, input: Record<string, unknown>, c: Change): Promise<Result<unknown>> => {
    const r = await runOp(app, name, { ...input, by: c.actor || undefined, reason: c.reason });
    return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message };
  };
  const read = async <T>(name: string, input: Record<string, unknown> = {}): Promise<T> => {
    const r = await runOp<T>(app, name, input);
    if (!r.ok) throw r.error;
    return r.value;
  };
  const items = async <T>(name: string, input: Record<string, unknown> = {}): Promise<T[]> => (await read<{ items: T[] }>(name, input)).items;
  return {
    addPool: (prefix, cls, note, c) => change('policy.pools.add', { prefix, class: cls, note }, c),
    removePool: (prefix, c) => change('policy.pools.remove', { prefix }, c),
    listPools: () => items('policy.pools.list'),
    addRelay: (prefix, kind, customer, note, c) => change('policy.relays.add', { prefix, kind, customer, note }, c),
    removeRelay: (prefix, c) => change('policy.relays.remove', { prefix }, c),
    listRelays: () => items('policy.relays.list'),
    addExemption: (prefix, customer, expiresAt, c) => change('policy.exemptions.add', { prefix, customer, expiresAt }, c),
    removeExemption: (prefix, c) => change('policy.exemptions.remove', { prefix }, c),
    listExemptions: (all) => items('policy.exemptions.list', { all }),
    quarantine: (prefix, subscriber, caseId, c) => change('policy.quarantine.add', { prefix, subscriber, case: caseId }, c),
    release: (prefix, c) => change('policy.quarantine.release', { prefix }, c),
    listQuarantines: () => items('policy.quarantine.list'),
    addGarden: (prefix, proto, ports, note, c) => change('policy.garden.add', { prefix, proto, ports, note }, c),
    removeGarden: (prefix, c) => change('policy.garden.remove', { prefix }, c),
    listGarden: () => items('policy.garden.list'),
    setSettings: (patch, c) => change('policy.settings.set', patch, c),
    snapshot: async () => (await read<{ snapshot: never }>('policy.show')).snapshot,
    audit: async (limit) => (await read<{ entries: never[] }>('policy.audit', { limit })).entries,
    lastApplied: (edge) => read('policy.applied', { edge }),
    edges: async () => (await read<{ edges: never[] }>('policy.edges')).edges,
    blocked: async (limit) => (await read<{ sources: never[] }>('policy.blocked', { limit })).sources,
  };
}

export const policyCommand: Command = {
  summary: 'port-25 network policy: pools, relays, exemptions, quarantine, compile, apply, agent',
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, strict: false, options: { config: { type: 'string' } } });
    if (argv.includes('--help') || argv.length === 0) {
      // Usage needs no config: answer from an empty in-memory store.
      const store = await openStore(':memory:');
      if (argv[0] === 'explain') { io.out((await import('./policy-explain.ts')).EXPLAIN_USAGE); return 0; }
      try {
        const code = await runPolicyCommand(argv.length ? argv : ['--help'], { store, logger: createLogger('warn'), out: io.out, err: io.err });
        if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') io.out(`  ${(await import('./policy-explain.ts')).EXPLAIN_USAGE.split('\n')[0].replace(/^usage: portwarden /, '')}\n`);
        return code;
      } finally { await store.close(); }
    }
    const rest = argv.filter((a, i) => a !== '--config' && argv[i - 1] !== '--config' && !a.startsWith('--config='));
    if (rest[0] === 'explain') return (await import('./policy-explain.ts')).explainCommand(rest.slice(1), typeof values.config === 'string' ? values.config : undefined, io);
    const app = await openApp(typeof values.config === 'string' ? values.config : undefined, io, (store) => ({ policy: new PolicyStore(store, systemClock) }));
    if (!app) return 1;
    // `policy agent` runs until SIGTERM/SIGINT.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      return await runPolicyCommand(rest, { store: app.store, logger: app.deps.logger, out: io.out, err: io.err, signal: stop.signal, port: policyPort(app) });
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await app.close();
    }
  },
};
