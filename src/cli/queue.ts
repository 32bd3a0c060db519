// `portwarden queue …`: look at the spool from outside the running server.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Spool, QUEUE_STATES } from '../spool/index.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { configPath, type Command } from './commands.ts';

const USAGE = `usage: portwarden queue <subcommand> [--config FILE]
  list [--json]                 messages per queue state (like postqueue -p)
  stats                         counts per state
  wait-empty [--timeout SECS]   return when active and deferred are empty (benchmark drain)`;

export const queueCommand: Command = {
  summary: 'inspect the queue (list, stats, wait-empty)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, timeout: { type: 'string', default: '300' } } });
    if (values.help || !positionals[0]) { io.out(USAGE); return values.help ? 0 : 2; }
    let dir: string;
    try {
      dir = join(loadConfig(configPath(values.config, io)).dataDir, 'spool');
    } catch (err) {
      if (err instanceof ConfigError) { io.err(err.issues.join('\n')); return 1; }
      throw err;
    }
    const look = async () => {
      const spool = await Spool.open(dir, { recover: false });
      try {
        const rows = [];
        if (positionals[0] === 'list') {
          for (const state of QUEUE_STATES) {
            for (const id of spool.list(state)) {
              const m = await spool.read(id);
              if (m) rows.push({ id, state, size: m.bodyLength, from: m.envelope.mailFrom.address, account: m.envelope.account ?? null,
                receivedAt: new Date(m.envelope.receivedAt).toISOString(), recipients: m.envelope.recipients.map((r) => ({ address: r.address, state: r.state, reply: r.reply })),
                lastReply: m.envelope.lastReply ?? null, holdReason: m.envelope.holdReason ?? null });
            }
          }
        }
        return { stats: spool.stats(), rows };
      } finally {
        await spool.close();
      }
    };
    switch (positionals[0]) {
      case 'stats': { const { stats } = await look(); io.out(JSON.stringify(stats)); return 0; }
      case 'list': {
        const { rows } = await look();
        if (values.json) { io.out(JSON.stringify(rows, null, 2)); return 0; }
        if (!rows.length) { io.out('Mail queue is empty'); return 0; }
        for (const r of rows) {
          io.out(`${r.id}${r.state === 'hold' ? '!' : ''} ${String(r.size).padStart(9)} ${r.receivedAt} ${r.from || 'MAILER-DAEMON'} (${r.state}${r.account ? `, account ${r.account}` : ''})`);
          if (r.lastReply || r.holdReason) io.out(`    (${r.holdReason ?? r.lastReply})`);
          for (const rc of r.recipients) io.out(`    ${rc.address} [${rc.state}]`);
        }
        io.out(`-- ${rows.length} message(s)`);
        return 0;
      }
      case 'wait-empty': {
        const deadline = Date.now() + Number(values.timeout) * 1000;
        for (;;) {
          const { stats } = await look();
          if (stats.active + stats.deferred === 0) return 0;
          if (Date.now() > deadline) { io.err(`queue not empty after ${values.timeout}s: ${JSON.stringify(stats)}`); return 1; }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      default: io.err(USAGE); return 2;
    }
  },
};
