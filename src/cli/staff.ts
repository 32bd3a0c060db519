// `portwarden staff …`: the console's users through the staff.* operations
// (audited, the operator as actor). `add` and `totp-reset` print the TOTP
// secret's otpauth:// URI and the base32 secret once (no QR library is among
// the dependencies: paste the URI into a QR tool or type the secret), and a
// generated password unless --password-file gave one.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { terminalJson, visible } from '../core/index.ts';
import { STAFF_MIGRATIONS, STAFF_ROLES, StaffRepository } from '../app/index.ts';
import { UsageError, type Command } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';

const USAGE = `usage: portwarden staff <subcommand> [--config FILE] [--reason TEXT]
  add NAME --role ROLE [--password-file F]   a console user; prints the TOTP URI and secret once, and a generated
                                             password (to be changed at the first sign-in) unless F gives one
  list [--json]
  show NAME [--json]
  role NAME --role ROLE                      their sessions end
  disable NAME | enable NAME                 disable ends their sessions at once
  passwd NAME [--password-file F]            a new password (generated unless given); their sessions end
  totp-reset NAME                            a new TOTP secret (a lost phone); their sessions end
  unlock NAME [--address IP]                 end a sign-in lock of the name (and of a client address)
  remove NAME
Roles: ${STAFF_ROLES.join(', ')} (docs/console.md says what each may do).`;

interface Info { name: string; role: string; createdAt: number; disabledAt: number | null; mustChangePassword: boolean; lastSignInAt: number | null; lastSignInFrom: string | null }
interface Shown extends Info { failures: number; lockedUntil: number | null; sessions: number }
interface WithSecrets extends Info { secret?: string; otpauthUri?: string; password?: string }

const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function passwordFrom(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  // The first line: a trailing newline (echo > F) is not part of the password.
  return readFileSync(file, 'utf8').split(/\r?\n/)[0];
}

const SUBS: Record<string, { op: string; needsName: boolean }> = {
  add: { op: 'staff.add', needsName: true }, list: { op: 'staff.list', needsName: false }, show: { op: 'staff.show', needsName: true },
  role: { op: 'staff.role', needsName: true }, disable: { op: 'staff.disable', needsName: true }, enable: { op: 'staff.enable', needsName: true },
  passwd: { op: 'staff.passwd', needsName: true }, 'totp-reset': { op: 'staff.totp.reset', needsName: true },
  unlock: { op: 'staff.unlock', needsName: true }, remove: { op: 'staff.remove', needsName: true },
};

export const staffCommand: Command = {
  summary: 'console users: add NAME --role R, list, show, role, disable, enable, passwd, totp-reset, unlock, remove',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, role: { type: 'string' },
      'password-file': { type: 'string' }, address: { type: 'string' }, reason: { type: 'string' } } });
    const [sub, name, extra] = positionals;
    if (values.help) { io.out(USAGE); return 0; }
    const spec = sub ? SUBS[sub] : undefined;
    if (!spec) { io.err(sub ? `unknown subcommand "${visible(sub)}"\n${USAGE}` : USAGE); return 2; }
    if (spec.needsName && !name) throw new UsageError(`staff ${sub}: missing NAME\n${USAGE}`);
    if (extra !== undefined || (!spec.needsName && name)) throw new UsageError(`staff ${sub}: one NAME at most\n${USAGE}`);
    if ((sub === 'add' || sub === 'role') && !(STAFF_ROLES as readonly string[]).includes(values.role ?? '')) throw new UsageError(`staff ${sub}: --role is one of ${STAFF_ROLES.join(', ')}`);
    let password: string | undefined;
    try { password = passwordFrom(values['password-file']); } catch (err) { io.err(`staff ${sub}: ${(err as Error).message}`); return 1; }
    const app = await openApp(values.config, io);
    if (!app) return 1;
    try {
      await app.store.migrate(STAFF_MIGRATIONS);
      app.deps.staff = new StaffRepository(app.store.db);
      const input: Record<string, unknown> = { name, reason: values.reason };
      if (sub === 'add' || sub === 'role') input.role = values.role;
      if (sub === 'add' || sub === 'passwd') input.password = password;
      if (sub === 'unlock') input.address = values.address;
      if (sub === 'list') delete input.name;
      if (sub === 'list' || sub === 'show') delete input.reason;
      const r = await runOp<Record<string, unknown>>(app, spec.op, input);
      if (!r.ok) return refuse(io, `staff ${sub}`, r.error);
      if (values.json) { io.out(terminalJson(r.value)); return 0; }
      if (sub === 'list') {
        const list = (r.value as unknown as { staff: Shown[] }).staff;
        io.out(['NAME'.padEnd(20), 'ROLE'.padEnd(11), 'STATE'.padEnd(9), 'LAST SIGN-IN'.padEnd(21), 'SESSIONS'].join(' '));
        for (const u of list) {
          const state = u.disabledAt !== null ? 'disabled' : u.lockedUntil !== null ? 'locked' : 'active';
          io.out([u.name.padEnd(20), u.role.padEnd(11), state.padEnd(9), when(u.lastSignInAt).padEnd(21), String(u.sessions)].join(' '));
        }
        return 0;
      }
      if (sub === 'show') {
        const u = r.value as unknown as Shown;
        io.out([
          `name          ${u.name}`, `role          ${u.role}`, `state         ${u.disabledAt !== null ? `disabled since ${when(u.disabledAt)}` : 'active'}`,
          `created       ${when(u.createdAt)}`, `last sign-in  ${when(u.lastSignInAt)}${u.lastSignInFrom ? ` from ${u.lastSignInFrom}` : ''}`,
          `failures      ${u.failures}${u.lockedUntil !== null ? ` (locked until ${when(u.lockedUntil)})` : ''}`, `sessions      ${u.sessions}`,
          ...(u.mustChangePassword ? ['password      generated: to be changed at the next sign-in'] : []),
        ].map((l) => visible(l)).join('\n'));
        return 0;
      }
      if (sub === 'unlock') {
        const u = r.value as unknown as { name: boolean; address: boolean };
        io.out(`${u.name || u.address ? 'unlocked' : 'nothing was locked'}`);
        return 0;
      }
      const u = r.value as unknown as WithSecrets;
      io.out(visible(`staff ${u.name}: ${sub === 'remove' ? 'removed' : `${u.role}, ${u.disabledAt !== null ? 'disabled' : 'active'}`}`));
      if (u.otpauthUri) {
        io.out(`TOTP URI:    ${u.otpauthUri}`);
        io.out(`TOTP secret: ${u.secret}   (SHA-1, 6 digits, 30 s)`);
      }
      if (u.password) io.out(`password:    ${u.password}   (generated: to be changed at the first sign-in)`);
      if (u.otpauthUri || u.password) io.err('These are shown once only: give them to the person in a safe way.');
      return 0;
    } finally {
      await app.close();
    }
  },
};
