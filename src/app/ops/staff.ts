// The console's staff users (staff.*: admin only, roles.ts). staff.add and
// staff.totp.reset answer the TOTP secret and its otpauth:// URI, and a
// generated password, in that answer only; the password, the role change,
// disabling and the reset end the user's sessions.
import { Type } from 'typebox';
import { STAFF_ROLES } from '../actor.ts';
import { need, type AppDeps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { addressKey, nameKey } from '../staff-access.ts';
import { STAFF_PASSWORD_MAX, STAFF_PASSWORD_MIN, checkedStaffName } from '../staff.ts';
import { Input, Reason, Str } from './common.ts';

const RoleSchema = Type.Union([Type.Literal('desk'), Type.Literal('postmaster'), Type.Literal('netops'), Type.Literal('admin')], { description: `one of ${STAFF_ROLES.join(', ')}` });
const Nullable = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const StaffSchema = Type.Object({
  name: Type.String(), role: RoleSchema, createdAt: Type.Integer(), createdBy: Type.String(), disabledAt: Nullable(Type.Integer()),
  mustChangePassword: Type.Boolean(), lastSignInAt: Nullable(Type.Integer()), lastSignInFrom: Nullable(Type.String()),
});
const ShowSchema = Type.Object({
  ...StaffSchema.properties,
  failures: Type.Integer({ description: 'failed sign-ins counted now' }), lockedUntil: Nullable(Type.Integer()),
  sessions: Type.Integer({ description: 'sessions open now' }),
});
const Name = Str('staff name (letters, digits, ".", "_", "-"; case does not matter)', { minLength: 2, maxLength: 32 });
const Password = Type.Optional(Type.String({ minLength: STAFF_PASSWORD_MIN, maxLength: STAFF_PASSWORD_MAX, description: 'the password; generated (and to be changed at the first sign-in) when absent' }));
const Totp = { secret: Type.String({ description: 'the TOTP secret in base32 (shown once)' }), otpauthUri: Type.String({ description: 'otpauth://totp/… for an authenticator app (shown once)' }) };
const object = (i: { name: string }): string => `staff ${i.name.trim().toLowerCase()}`;
const who = (a: { kind: string; name: string }): string => `${a.kind}:${a.name}`;

export const staffAdd = operation({
  name: 'staff.add', summary: 'create a console user; the TOTP secret and a generated password are in this answer only', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/staff' },
  input: Input({ name: Name, role: RoleSchema, password: Password, reason: Reason }),
  output: Type.Object({ ...StaffSchema.properties, ...Totp, password: Type.Optional(Type.String({ description: 'the generated password (shown once)' })) }),
  object,
  async run(i, ctx, deps: AppDeps) {
    const r = await need(deps, 'staff').add({ name: i.name, role: i.role, password: i.password, createdBy: who(ctx.actor) });
    return { ...r.info, secret: r.totp.secret, otpauthUri: r.totp.uri, ...(r.password ? { password: r.password } : {}) };
  },
});

export const staffList = operation({
  name: 'staff.list', summary: 'the console users (never their secrets)', scope: 'admin', mutates: false,
  http: { method: 'GET', path: '/staff' },
  input: Input({}), output: Type.Object({ staff: Type.Array(ShowSchema) }),
  async run(_i, _c, deps: AppDeps) {
    const repo = need(deps, 'staff');
    const staff = [];
    for (const u of await repo.list()) staff.push({ ...u, ...await repo.access.state(nameKey(u.name)), sessions: await repo.sessionCount(u.name) });
    return { staff };
  },
});

export const staffShow = operation({
  name: 'staff.show', summary: 'one console user: role, state, last sign-in, failed sign-ins and lock, open sessions', scope: 'admin', mutates: false,
  http: { method: 'GET', path: '/staff/:name' },
  input: Input({ name: Name }), output: ShowSchema,
  async run(i, _c, deps: AppDeps) {
    const repo = need(deps, 'staff');
    const u = await repo.get(checkedStaffName(i.name));
    if (!u) throw new AppError('not-found', `no staff user named ${checkedStaffName(i.name)}`);
    return { ...u, ...await repo.access.state(nameKey(u.name)), sessions: await repo.sessionCount(u.name) };
  },
});

export const staffRole = operation({
  name: 'staff.role', summary: 'give a console user another role; their sessions end', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/staff/:name/role' },
  input: Input({ name: Name, role: RoleSchema, reason: Reason }), output: StaffSchema, object,
  async run(i, _c, deps: AppDeps) { return await need(deps, 'staff').setRole(i.name, i.role); },
});

export const staffDisable = operation({
  name: 'staff.disable', summary: 'stop a console user signing in; their sessions end at once', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/staff/:name/disable' },
  input: Input({ name: Name, reason: Reason }), output: StaffSchema, object,
  async run(i, _c, deps: AppDeps) { return await need(deps, 'staff').disable(i.name); },
});

export const staffEnable = operation({
  name: 'staff.enable', summary: 'let a disabled console user sign in again', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/staff/:name/enable' },
  input: Input({ name: Name, reason: Reason }), output: StaffSchema, object,
  async run(i, _c, deps: AppDeps) { return await need(deps, 'staff').enable(i.name); },
});

export const staffPasswd = operation({
  name: 'staff.passwd', summary: 'set a console user\'s password (generated when absent: in this answer only, to be changed at the next sign-in); their sessions end', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/staff/:name/password' },
  input: Input({ name: Name, password: Password, reason: Reason }),
  output: Type.Object({ ...StaffSchema.properties, password: Type.Optional(Type.String()) }), object,
  async run(i, _c, deps: AppDeps) {
    const r = await need(deps, 'staff').setPassword(i.name, i.password);
    return { ...r.info, ...(r.password ? { password: r.password } : {}) };
  },
});

export const staffTotpReset = operation({
  name: 'staff.totp.reset', summary: 'a new TOTP secret for a console user (a lost phone): in this answer only; the old one stops working, their sessions end', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/staff/:name/totp' },
  input: Input({ name: Name, reason: Reason }), output: Type.Object({ ...StaffSchema.properties, ...Totp }), object,
  async run(i, _c, deps: AppDeps) {
    const r = await need(deps, 'staff').resetTotp(i.name);
    return { ...r.info, secret: r.totp.secret, otpauthUri: r.totp.uri };
  },
});

export const staffUnlock = operation({
  name: 'staff.unlock', summary: 'end a sign-in lock early: the name\'s, and a client address\'s when given', scope: 'admin', mutates: true,
  http: { method: 'POST', path: '/staff/:name/unlock' },
  input: Input({ name: Name, address: Type.Optional(Str('a client address locked by failed sign-ins', { minLength: 2, maxLength: 64 })), reason: Reason }),
  output: Type.Object({ name: Type.Boolean({ description: 'the name was locked or had failures' }), address: Type.Boolean() }),
  object: (i) => (i.address ? `${object(i)}, address ${i.address}` : object(i)),
  async run(i, _c, deps: AppDeps) {
    const { access } = need(deps, 'staff');
    const name = await access.clear(nameKey(checkedStaffName(i.name)));
    return { name, address: i.address ? await access.clear(addressKey(i.address)) : false };
  },
});

export const staffRemove = operation({
  name: 'staff.remove', summary: 'delete a console user and end their sessions (the audit keeps their history)', scope: 'admin', mutates: true,
  http: { method: 'DELETE', path: '/staff/:name' },
  input: Input({ name: Name, reason: Reason }), output: StaffSchema, object,
  async run(i, _c, deps: AppDeps) { return await need(deps, 'staff').remove(i.name); },
});

export const STAFF_OPS = [staffAdd, staffList, staffShow, staffRole, staffDisable, staffEnable, staffPasswd, staffTotpReset, staffUnlock, staffRemove] as const;
