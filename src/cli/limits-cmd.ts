// `portwarden limits show ACCOUNT`: the sending limits in effect for an account and,
// from the running server, how much of each is left.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigWithSource } from '../config/index.ts';
import { controlRequest, controlSocketPath } from '../control/index.ts';
import { terminalJson, visible } from '../core/index.ts';
import { buildLimits, limitsInEffect, type RuleInEffect } from './limits.ts';
import { configPath, type Command } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';

const USAGE = `usage: portwarden limits show ACCOUNT [--json] [--config FILE]
  The rules for the account's tier and overrides; with the server running, what is left
  of each (remaining units, seconds until the bucket is full again).`;

export const limitsCommand: Command = {
  summary: 'show the sending limits in effect for an account',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
    if (values.help) { io.out(USAGE); return 0; }
    if (positionals[0] !== 'show' || !positionals[1]) { io.err(USAGE); return 2; }
    const account = positionals[1].toLowerCase();
    let loaded: ReturnType<typeof loadConfigWithSource>;
    try {
      loaded = loadConfigWithSource(configPath(values.config, io));
    } catch (err) {
      if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
      throw err;
    }
    const cfg = loaded.config;
    if (!cfg.limits.enabled) { io.out('limits are disabled in the configuration'); return 0; }
    const live = await controlRequest(controlSocketPath(cfg.dataDir), { op: 'limits', account });
    let view: Awaited<ReturnType<typeof limitsInEffect>>;
    if (live && live.ok && live.op === 'limits') {
      view = live.limits as typeof view;
    } else {
      // No server running: the rules alone, from the config and the account's tier, through the same operation.
      const app = await openApp(values.config, io);
      if (!app) return 1;
      try {
        const rules = buildLimits(cfg, loaded.where).limits;
        app.deps.limits = async (login) => limitsInEffect(rules, null, app.deps.accounts!, login);
        const r = await runOp<typeof view>(app, 'limits.show', { login: account });
        if (!r.ok) return refuse(io, 'limits show', r.error);
        view = r.value;
      } finally {
        await app.close();
      }
    }
    if (values.json) { io.out(terminalJson(view)); return 0; }
    io.out(visible(`${view.account} (subscriber ${view.subscriber ?? '-'}, tier ${view.tier}, ${view.status})${live ? '' : ' — server not running: no live state'}`));
    io.out(['RULE\tSCOPE\tCOUNTS\tLIMIT\tBURST\tACTION\tREMAINING\tFULL IN',
      ...view.rules.map((r: RuleInEffect) => [r.id, r.scope, r.counts, `${r.limit}/${r.per}`, r.burst, r.action,
        r.remaining ?? '-', r.resetMs === undefined ? '-' : `${Math.ceil(r.resetMs / 1000)}s`].map((c) => visible(String(c))).join('\t'))].join('\n'));
    return 0;
  },
};
