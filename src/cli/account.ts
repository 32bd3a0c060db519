// `portwarden account add|passwd|alias|disable|enable|list|import|remove`.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { AccountError, AccountStore } from '../auth/index.ts';
import { terminalJson, visible } from '../core/index.ts';
import { UsageError, configPath, type Command, type Io } from './commands.ts';
import { accountStoreOptions, openState } from './state.ts';
import { limitsFromConfig } from './limits.ts';

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
    const state = await openState(values.config, io);
    if (!state) return 1;
    const accounts = await AccountStore.open(state.store, accountStoreOptions(state.cfg));
    // A tier the limits do not know would silently get the default tier's limits: refuse it,
    // and give accounts made without --tier the configured default rather than a fixed name.
    const tierOf = (asked: string | undefined): string => {
      const l = limitsFromConfig(state.cfg, () => configPath(values.config, io));
      if (!l.ok) throw new Error(`the limits in the config are invalid (see portwarden config check):\n${l.errors.join('\n')}`);
      if (asked === undefined) return l.limits.defaultTier;
      if (!l.limits.tierNames.includes(asked)) throw new Error(`unknown tier "${asked}" (configured: ${l.limits.tierNames.join(', ')})`);
      return asked;
    };
    const need = (v: string | undefined, what: string): string => { if (!v) throw new UsageError(`${sub}: missing ${what}\n${USAGE}`); return v; };
    try {
      switch (sub) {
        case 'add': {
          const login = need(a1, 'LOGIN');
          const acct = await accounts.add({
            login,
            ...(values.hash ? { hash: values.hash } : { password: await password(io) }),
            subscriber: values.subscriber, addresses: values.address, tier: tierOf(values.tier),
          });
          io.out(`added ${acct.login} (subscriber ${acct.subscriber}, tier ${acct.tier})`);
          return 0;
        }
        case 'passwd': await accounts.setPassword(need(a1, 'LOGIN'), await password(io)); io.out(`password set for ${a1}`); return 0;
        case 'alias':
          if (values.remove) { const ok = await accounts.removeAddress(need(a1, 'LOGIN'), need(a2, 'ADDRESS')); io.out(ok ? `removed ${a2}` : `${a2} was not listed`); return ok ? 0 : 1; }
          await accounts.addAddress(need(a1, 'LOGIN'), need(a2, 'ADDRESS'));
          io.out(`${a1} may now send as ${a2}`);
          return 0;
        case 'disable': await accounts.disable(need(a1, 'LOGIN'), values.reason ?? 'disabled by operator'); io.out(`disabled ${a1}`); return 0;
        case 'enable': await accounts.enable(need(a1, 'LOGIN')); io.out(`enabled ${a1}`); return 0;
        case 'remove': { const ok = await accounts.remove(need(a1, 'LOGIN')); io.out(ok ? `removed ${a1}` : `no account ${a1}`); return ok ? 0 : 1; }
        case 'list': {
          const list = await accounts.list({ subscriber: values.subscriber });
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
          const r = await accounts.importDovecotPasswdFile(readFileSync(file, 'utf8'), {
            subscriberFrom: from as 'login' | 'uid' | 'gecos' | undefined, allowPlain: values['allow-plain'], tier: tierOf(values.tier) });
          io.out(`imported ${r.imported} account(s) from ${file}`);
          for (const s of r.skipped) io.err(visible(`${file}:${s.line}: skipped: ${s.reason}`)); // the reason may quote the file
          return r.skipped.length ? 1 : 0;
        }
        default: io.err(`unknown subcommand "${sub}"\n${USAGE}`); return 2;
      }
    } catch (err) {
      if (err instanceof AccountError) { io.err(visible(`account ${sub}: ${err.message}`)); return 1; }
      throw err;
    } finally {
      await state.store.close();
    }
  },
};
