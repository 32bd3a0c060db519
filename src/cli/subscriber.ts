// `portwarden subscriber put|show`: a subscriber's directory record (tier,
// contacts, access identities) beside the accounts that name it.
import { parseArgs } from 'node:util';
import type { Assignment, Subscriber } from '../directory/index.ts';
import { terminalJson, visible } from '../core/index.ts';
import { UsageError, type Command } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';
import { assignmentRows } from './address.ts';

const USAGE = `usage: portwarden subscriber <subcommand> [--config FILE]
  put ID [--tier TIER] [--contact MAILBOX]... [--access KIND:VALUE]... [--no-contacts] [--no-access] [--reason TEXT]
                                  create or update the directory record; only what is given changes,
                                  --contact and --access replace their lists (--no-… empties them)
  show ID [--json]                the accounts, the directory record and the addresses held now
Access identities name the subscriber in address sources: radius:USER-NAME, hw:aa:bb:cc:dd:ee:ff (DHCP),
duid:00:01:… (DHCPv6), client-id:…`;

interface Show {
  id: string; tiers: string[]; accounts: string[]; status: string;
  directory?: { record: Subscriber | null; current: Assignment[] };
}

export const subscriberCommand: Command = {
  summary: 'the subscriber directory: put ID [--tier --contact --access], show ID',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, tier: { type: 'string' },
      contact: { type: 'string', multiple: true }, access: { type: 'string', multiple: true },
      'no-contacts': { type: 'boolean' }, 'no-access': { type: 'boolean' }, reason: { type: 'string' } } });
    const [sub, id, extra] = positionals;
    if (values.help) { io.out(USAGE); return 0; }
    if (!sub) { io.err(USAGE); return 2; }
    if (!id || extra !== undefined) throw new UsageError(`subscriber ${sub}: expected one ID\n${USAGE}`);
    const app = await openApp(values.config, io);
    if (!app) return 1;
    try {
      switch (sub) {
        case 'put': {
          const contacts = values['no-contacts'] ? [] : values.contact;
          const access = values['no-access'] ? [] : values.access;
          const r = await runOp<Subscriber>(app, 'subscribers.put', { id, tier: values.tier, contacts, access, reason: values.reason });
          if (!r.ok) return refuse(io, 'subscriber put', r.error);
          const s = r.value;
          io.out(visible(`${s.id}: tier ${s.tier}; contacts ${s.contacts.join(', ') || '-'}; access ${s.access.join(', ') || '-'}`));
          return 0;
        }
        case 'show': {
          const r = await runOp<Show>(app, 'subscribers.show', { id });
          if (!r.ok) return refuse(io, 'subscriber show', r.error);
          if (values.json) { io.out(terminalJson(r.value)); return 0; }
          const s = r.value;
          const rec = s.directory?.record;
          const lines = [
            `subscriber  ${s.id}`,
            `accounts    ${s.accounts.join(', ') || '-'}${s.accounts.length ? ` (${s.status})` : ''}`,
            `tier        ${rec?.tier ?? (s.tiers.join(', ') || '-')}`,
            `contacts    ${rec ? rec.contacts.join(', ') || '-' : '(no directory record)'}`,
            `access      ${rec ? rec.access.join(', ') || '-' : '-'}`,
          ].map((l) => visible(l));
          io.out(lines.join('\n'));
          const current = s.directory?.current ?? [];
          io.out(current.length ? `held now\n${assignmentRows(current)}` : 'held now    nothing');
          return 0;
        }
        default: io.err(`unknown subcommand "${sub}"\n${USAGE}`); return 2;
      }
    } finally {
      await app.close();
    }
  },
};
