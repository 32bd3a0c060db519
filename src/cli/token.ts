// `portwarden token add NAME --scope read|operate|admin | list | revoke NAME`:
// API tokens through the same operations the API serves (tokens.add, .list,
// .revoke), each mutation audited with the operator as its actor. The secret
// is printed once, on standard output alone (so `T=$(portwarden token add …)`
// works); the note that it will not be shown again goes to standard error.
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { terminalJson, visible } from '../core/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, SCOPES, TOKEN_MIGRATIONS, TokenRepository, invoke, isAppError, tokensAdd, tokensList, tokensRevoke, type Context, type Scope } from '../app/index.ts';
import { UsageError, type Command } from './commands.ts';
import { openState } from './state.ts';

const USAGE = `usage: portwarden token <subcommand> [--config FILE]
  add NAME --scope read|operate|admin [--reason TEXT]   prints the secret once
  list [--json]
  revoke NAME [--reason TEXT]                           the token stops working at once
Use a token with the admin API: Authorization: Bearer pw_…`;

const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export const tokenCommand: Command = {
  summary: 'API tokens for the admin API: add NAME --scope read|operate|admin, list, revoke NAME',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, scope: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' } } });
    const [sub, name] = positionals;
    if (values.help) { io.out(USAGE); return 0; }
    if (!sub || !['add', 'list', 'revoke'].includes(sub)) { io.err(USAGE); return 2; }
    if (sub !== 'list' && !name) throw new UsageError(`${sub}: missing NAME\n${USAGE}`);
    if (sub === 'add' && !SCOPES.includes(values.scope as Scope)) throw new UsageError(`add: --scope is one of ${SCOPES.join(', ')}`);
    const state = await openState(values.config, io);
    if (!state) return 1;
    const db = state.store.db;
    try {
      await state.store.migrate([...AUDIT_MIGRATIONS, ...TOKEN_MIGRATIONS]);
      const deps = { tokens: new TokenRepository(db) };
      const audit = new AuditLog(db);
      const ctx: Context = { actor: { kind: 'operator', name: userInfo().username, from: 'cli' }, ...(values.reason ? { reason: values.reason } : {}) };
      if (sub === 'add') {
        const t = await invoke(tokensAdd, { name: name!, scope: values.scope as Scope }, ctx, deps, audit);
        io.out(t.secret);
        io.err(`token ${t.name} (scope ${t.scope}) created. This secret will not be shown again: only its SHA-256 is kept.`);
      } else if (sub === 'revoke') {
        const t = await invoke(tokensRevoke, { name: name! }, ctx, deps, audit);
        io.out(`token ${t.name} revoked`);
      } else {
        const { tokens } = await invoke(tokensList, {}, ctx, deps, audit);
        if (values.json) { io.out(terminalJson(tokens)); return 0; }
        io.out(['NAME'.padEnd(24), 'SCOPE'.padEnd(8), 'CREATED'.padEnd(21), 'LAST USED'.padEnd(21), 'STATE', 'BY'].join(' '));
        for (const t of tokens) {
          io.out([t.name.padEnd(24), t.scope.padEnd(8), when(t.createdAt).padEnd(21), when(t.lastUsedAt).padEnd(21),
            t.revokedAt === null ? 'live   ' : 'revoked', visible(t.createdBy)].join(' '));
        }
      }
      return 0;
    } catch (err) {
      if (!isAppError(err)) throw err;
      io.err(visible(`portwarden token ${sub}: ${err.message}`));
      return err.exit;
    } finally {
      await state.store.close();
    }
  },
};
