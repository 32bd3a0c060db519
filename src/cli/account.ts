// `portwarden account add|passwd|alias|disable|enable|list|import|remove`.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import type { Account, ImportResult } from '../auth/index.ts';
import { terminalJson, visible } from '../core/index.ts';
import { UsageError, type Command, type Io } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';

const USAGE = `usage: portwarden account <subcommand> [--config FILE]
  add LOGIN [--password-stdin] [--hash HASH] [--subscriber ID] [--address ADDR]... [--tier TIER]
  passwd LOGIN [--password-stdin]       set a new password (argon2id; SCRAM keys derived)
  alias LOGIN ADDRESS [--remove]        allow (or stop allowing) a sender address or @domain
  disable LOGIN [--reason TEXT]         AUTH then answers 525 5.7.13 with the help URL
  enable LOGIN
  list [--json] [--subscriber ID]
  import FILE [--subscriber-from login|uid|gecos] [--allow-plain] [--tier TIER]   Dovecot passwd-file
  remove LOGIN
Passwords are read from standard input (first line) so they never appear in ps or shell history.`;

async function password(io: Io): Promise<string> {
  const text = await io.readStdin();
  const pw = text.split(/\r?\n/)[0];
  if (!pw) throw new Error('no password on standard input');
  return pw;
}

export const accountCommand: Command = {
  summary: 'manage submission accounts (add, passwd, alias, disable, list, import…)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, 'password-stdin': { type: 'boolean' }, hash: { type: 'string' },
      subscriber: { type: 'string' }, address: { type: 'string', multiple: true }, tier: { type: 'string' },
      remove: { type: 'boolean' }, reason: { type: 'string' }, json: { type: 'boolean' },
      'subscriber-from': { type: 'string' }, 'allow-plain': { type: 'boolean' } } });
    const [sub, a1, a2] = positionals;
    if (values.help) { io.out(USAGE); return 0; }
    if (!sub) { io.err(USAGE); return 2; }
    const app = await openApp(values.config, io);
    if (!app) return 1;
    const need = (v: string | undefined, what: string): string => { if (!v) throw new UsageError(`${sub}: missing ${what}\n${USAGE}`); return v; };
    // Every subcommand is one operation; a refusal prints "account SUB: why" with the catalogue's exit code.
    const call = async <T>(name: string, input: Record<string, unknown>): Promise<T | number> => {
      const r = await runOp<T>(app, name, input);
      return r.ok ? r.value : refuse(io, `account ${sub}`, r.error);
    };
    try {
      switch (sub) {
        case 'add': {
          const login = need(a1, 'LOGIN');
          const secret = values.hash ? { hash: values.hash } : { password: await password(io) };
          const acct = await call<Account>('accounts.add', { login, ...secret, subscriber: values.subscriber, addresses: values.address, tier: values.tier });
          if (typeof acct === 'number') return acct;
          io.out(`added ${acct.login} (subscriber ${acct.subscriber}, tier ${acct.tier})`);
          return 0;
        }
        case 'passwd': {
          const login = need(a1, 'LOGIN');
          const r = await call('accounts.passwd', { login, password: await password(io) });
          if (typeof r === 'number') return r;
          io.out(`password set for ${a1}`);
          return 0;
        }
        case 'alias': {
          const input = { login: need(a1, 'LOGIN'), address: need(a2, 'ADDRESS') };
          if (values.remove) {
            const r = await call<{ done: boolean }>('accounts.alias.remove', input);
            if (typeof r === 'number') return r;
            io.out(r.done ? `removed ${a2}` : `${a2} was not listed`);
            return r.done ? 0 : 1;
          }
          const r = await call('accounts.alias.add', input);
          if (typeof r === 'number') return r;
          io.out(`${a1} may now send as ${a2}`);
          return 0;
        }
        case 'disable': {
          const r = await call('accounts.disable', { login: need(a1, 'LOGIN'), reason: values.reason });
          if (typeof r === 'number') return r;
          io.out(`disabled ${a1}`);
          return 0;
        }
        case 'enable': {
          const r = await call('accounts.enable', { login: need(a1, 'LOGIN'), reason: values.reason });
          if (typeof r === 'number') return r;
          io.out(`enabled ${a1}`);
          return 0;
        }
        case 'remove': {
          const r = await runOp(app, 'accounts.remove', { login: need(a1, 'LOGIN'), reason: values.reason });
          if (!r.ok && r.error.code !== 'not-found') return refuse(io, `account ${sub}`, r.error);
          io.out(r.ok ? `removed ${a1}` : `no account ${a1}`);
          return r.ok ? 0 : 1;
        }
        case 'list': {
          const r = await call<{ accounts: Account[] }>('accounts.list', { subscriber: values.subscriber });
          if (typeof r === 'number') return r;
          const list = r.accounts;
          if (values.json) { io.out(terminalJson(list)); return 0; }
          // Logins and subscribers can come from an imported passwd-file: each cell through visible(), so a tab or newline stays in it.
          io.out(['LOGIN\tSUBSCRIBER\tSTATUS\tTIER\tHASH\tSCRAM\tADDRESSES',
            ...list.map((x) => [x.login, x.subscriber, x.status, x.tier, x.scheme, x.scram ? 'yes' : 'no', x.addresses.join(',')].map((c) => visible(c)).join('\t'))].join('\n'));
          return 0;
        }
        case 'import': {
          const file = need(a1, 'FILE');
          const from = values['subscriber-from'];
          if (from && !['login', 'uid', 'gecos'].includes(from)) throw new UsageError('--subscriber-from takes login, uid or gecos');
          const r = await call<ImportResult>('accounts.import', { text: readFileSync(file, 'utf8'), subscriberFrom: from, allowPlain: values['allow-plain'], tier: values.tier });
          if (typeof r === 'number') return r;
          io.out(`imported ${r.imported} account(s) from ${file}`);
          for (const s of r.skipped) io.err(visible(`${file}:${s.line}: skipped: ${s.reason}`)); // the reason may quote the file
          return r.skipped.length ? 1 : 0;
        }
        default: io.err(`unknown subcommand "${sub}"\n${USAGE}`); return 2;
      }
    } finally {
      await app.close();
    }
  },
};
