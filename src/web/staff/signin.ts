// The console's sign-in: /signin (name and password), /signin/code (the TOTP
// code), /signin/password (a generated password changed first), /signout.
// Step one answers the same for an unknown name, a disabled user and a wrong
// password, and costs the same (one argon2 verification each). Failures of
// either step count against the name and the client address (staff-access.ts);
// a locked name or address is told so in words, before any password is checked.
// Every sign-in, failure, lock and sign-out is an audit record (actor kind
// "staff"; the name as typed when it is no staff name, cut to 64 characters).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/index.ts';
import {
  STAFF_PASSWORD_MAX, STAFF_PASSWORD_MIN, addressKey, nameKey, staffName, type AuditSink, type LockPolicy, type StaffRepository,
} from '../../app/index.ts';
import { html, type Html } from '../html.ts';
import { seeOther, sendPage } from '../respond.ts';
import { alert, consolePage, notice } from '../console/shell.ts';
import { ConsoleSessions, type SessionAt } from './gate.ts';
import { T } from './texts.ts';

export interface SigninDeps {
  gate: ConsoleSessions;
  staff: StaffRepository;
  audit: AuditSink;
  clock: Clock;
  lock: LockPolicy;
}

type Body = Record<string, unknown> | undefined;
const field = (b: Body, k: string, max: number): string => {
  const v = b?.[k];
  return typeof v === 'string' ? v.slice(0, max) : '';
};
const fieldError = (id: string, text: string | undefined): Html | '' => (text ? html`<p class="error" id="${id}-error">${text}</p>` : '');
const described = (id: string, text: string | undefined): Html | '' => (text ? html` aria-describedby="${id}-error" aria-invalid="true"` : '');

/** Where to go after the sign-in: a path of this console (not the sign-in's own), else null. */
export function safeNext(v: unknown): string | null {
  if (typeof v !== 'string' || v.length > 512 || !/^\/(?![\/\\])[\x21-\x7e]*$/.test(v)) return null;
  return /^\/sign(in|out)(?![A-Za-z0-9_-])/.test(v) ? null : v;
}
export const withNext = (path: string, next: string | null): string => (next ? `${path}${path.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}` : path);
const nextOf = (req: FastifyRequest): string | null => safeNext((req.query as Record<string, unknown> | undefined)?.next);

export function signinRoutes(app: FastifyInstance, d: SigninDeps): void {
  const { gate, staff, clock } = d;
  const access = gate.access;

  const audit = async (req: FastifyRequest, action: string, actor: string, outcome: string, detail: Record<string, unknown> = {}): Promise<void> => {
    const name = staffName(actor) ?? (actor.slice(0, 64) || '(none)');
    await d.audit.write({ at: clock.now(), actorKind: 'staff', actor: name, from: req.ip, action, object: `staff ${name}`, reason: '', outcome, detail: JSON.stringify(detail) });
  };
  const keysOf = (name: string, ip: string) => [{ key: nameKey(name), attempts: d.lock.nameAttempts }, { key: addressKey(ip), attempts: d.lock.addressAttempts }];

  /** Counts a failure; when it locks, audits the lock. Returns the lock's end or null. */
  const failed = async (req: FastifyRequest, name: string): Promise<number | null> => {
    const r = await access.fail(keysOf(name, req.ip), d.lock.windowMs);
    for (const key of r.locked) await audit(req, 'console.lockout', name, 'locked', { key, until: r.until });
    return r.locked.length ? r.until : null;
  };

  const passwordForm = (req: FastifyRequest, reply: FastifyReply, o: { status?: number; name?: string; errors?: { name?: string; password?: string }; flash?: Html }) => {
    const token = gate.preToken(req, reply);
    const e = o.errors ?? {};
    return sendPage(reply, consolePage(null, {
      title: T.signin.title, status: o.status, flash: o.flash,
      main: html`<p>${T.signin.intro}</p>
<form method="post" action="${withNext('/signin', nextOf(req))}">
<input type="hidden" name="_csrf" value="${token}">
<label for="name">${T.signin.name}</label>
<input id="name" name="name" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64" value="${o.name ?? ''}"${described('name', e.name)}>
${fieldError('name', e.name)}
<label for="password">${T.signin.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="${STAFF_PASSWORD_MAX}"${described('password', e.password)}>
${fieldError('password', e.password)}
<p><button type="submit">${T.signin.submit}</button></p>
</form>`,
    }));
  };

  const codeForm = (req: FastifyRequest, reply: FastifyReply, s: SessionAt, o: { status?: number; error?: string } = {}) => sendPage(reply, consolePage(null, {
    title: T.code.title, status: o.status,
    main: html`<p>${T.code.intro}</p>
<form method="post" action="${withNext('/signin/code', nextOf(req))}">
<input type="hidden" name="_csrf" value="${gate.csrfOf(s.id)}">
<label for="code">${T.code.label}</label>
<p class="muted" id="code-hint">${T.code.hint}</p>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required aria-describedby="code-hint${o.error ? ' code-error' : ''}"${o.error ? html` aria-invalid="true"` : ''}>
${fieldError('code', o.error)}
<p><button type="submit">${T.code.submit}</button></p>
</form>
<p><a href="${withNext('/signin', nextOf(req))}">${T.code.startAgain}</a></p>`,
  }));

  const newPasswordForm = (req: FastifyRequest, reply: FastifyReply, s: SessionAt, o: { status?: number; errors?: { password?: string; again?: string } } = {}) => {
    const e = o.errors ?? {};
    return sendPage(reply, consolePage(null, {
      title: T.password.title, status: o.status,
      main: html`<p>${T.password.intro}</p>
<form method="post" action="${withNext('/signin/password', nextOf(req))}">
<input type="hidden" name="_csrf" value="${gate.csrfOf(s.id)}">
<input type="hidden" name="username" autocomplete="username" value="${s.row.name}">
<label for="password">${T.password.label}</label>
<p class="muted" id="password-hint">${T.password.hint(STAFF_PASSWORD_MIN)}</p>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${STAFF_PASSWORD_MIN}" maxlength="${STAFF_PASSWORD_MAX}" aria-describedby="password-hint${e.password ? ' password-error' : ''}">
${fieldError('password', e.password)}
<label for="again">${T.password.again}</label>
<input id="again" name="again" type="password" autocomplete="new-password" required maxlength="${STAFF_PASSWORD_MAX}"${described('again', e.again)}>
${fieldError('again', e.again)}
<p><button type="submit">${T.password.submit}</button></p>
</form>`,
    }));
  };

  const lockedPage = (req: FastifyRequest, reply: FastifyReply, until: number, name = '') =>
    passwordForm(req, reply, { status: 429, name, flash: alert(T.signin.locked(until, clock.now())) });

  app.get('/signin', async (req, reply) => {
    const s = await gate.session(req);
    if (s?.row.stage === 'ok') return seeOther(reply, nextOf(req) ?? '/');
    if (s?.row.stage === 'password') return seeOther(reply, withNext('/signin/password', nextOf(req)));
    const out = (req.query as Record<string, unknown>)?.out === '1';
    return passwordForm(req, reply, { flash: out ? notice(T.signin.signedOut) : undefined });
  });

  app.post('/signin', async (req, reply) => {
    const b = req.body as Body;
    const typed = field(b, 'name', 64).trim();
    const password = field(b, 'password', STAFF_PASSWORD_MAX + 1);
    if (!gate.preOk(req, b?._csrf)) return passwordForm(req, reply, { status: 403, name: typed, flash: alert(T.signin.cookies) });
    const errors = { name: typed ? undefined : T.signin.missingName, password: password ? undefined : T.signin.missingPassword };
    if (errors.name || errors.password) return passwordForm(req, reply, { status: 400, name: typed, errors });
    const name = staffName(typed) ?? typed.toLowerCase();
    const until = await access.lockedUntil([nameKey(name), addressKey(req.ip)]);
    if (until !== null) {
      await audit(req, 'console.signin', name, 'locked');
      return lockedPage(req, reply, until, typed);
    }
    const r = await staff.checkPassword(name, password);
    if (!r.ok) {
      await audit(req, 'console.signin', name, r.reason);
      const lockedNow = await failed(req, name);
      if (lockedNow !== null) return lockedPage(req, reply, lockedNow, typed);
      return passwordForm(req, reply, { status: 401, name: typed, flash: alert(T.signin.wrong) });
    }
    const id = await access.createSession(r.user.name, 'code', req.ip);
    gate.setSession(reply, id);
    return seeOther(reply, withNext('/signin/code', nextOf(req)));
  });

  const pending = async (req: FastifyRequest, stage: 'code' | 'password'): Promise<SessionAt | null> => {
    const s = await gate.session(req);
    return s && s.row.stage === stage ? s : null;
  };

  app.get('/signin/code', async (req, reply) => {
    const s = await pending(req, 'code');
    if (!s) return seeOther(reply, withNext('/signin', nextOf(req)));
    return codeForm(req, reply, s);
  });

  app.post('/signin/code', async (req, reply) => {
    const b = req.body as Body;
    const s = await pending(req, 'code');
    if (!s) return passwordForm(req, reply, { status: 401, flash: alert(T.signin.expired) });
    if (!gate.csrfOkFor(s.id, b?._csrf)) return codeForm(req, reply, s, { status: 403, error: T.errors.csrf });
    const name = s.row.name;
    const code = field(b, 'code', 16).replace(/\s+/g, '');
    if (!code) return codeForm(req, reply, s, { status: 400, error: T.code.missing });
    const until = await access.lockedUntil([nameKey(name), addressKey(req.ip)]);
    if (until !== null) {
      await access.endSession(s.row.idHash);
      await audit(req, 'console.signin', name, 'locked');
      return lockedPage(req, reply, until, name);
    }
    const result = await staff.checkCode(name, code);
    if (result !== 'ok') {
      await audit(req, 'console.signin', name, result === 'replayed' ? 'replayed-code' : 'bad-code');
      const lockedNow = await failed(req, name);
      if (lockedNow !== null) {
        await access.endSession(s.row.idHash);
        return lockedPage(req, reply, lockedNow, name);
      }
      return codeForm(req, reply, s, { status: 401, error: T.code.wrong });
    }
    const user = await staff.get(name);
    const next = user?.mustChangePassword ? 'password' : 'ok';
    const id = await access.rotate(s.row.idHash, next);
    if (!user || !id) return passwordForm(req, reply, { status: 401, flash: alert(T.signin.expired) });
    await access.clear(nameKey(name));
    await staff.recordSignIn(name, req.ip);
    await gate.prune();
    await audit(req, 'console.signin', name, 'ok', { role: user.role, stage: next });
    gate.setSession(reply, id);
    return seeOther(reply, next === 'password' ? withNext('/signin/password', nextOf(req)) : nextOf(req) ?? '/');
  });

  app.get('/signin/password', async (req, reply) => {
    const s = await pending(req, 'password');
    if (!s) return seeOther(reply, withNext('/signin', nextOf(req)));
    return newPasswordForm(req, reply, s);
  });

  app.post('/signin/password', async (req, reply) => {
    const b = req.body as Body;
    const s = await pending(req, 'password');
    if (!s) return seeOther(reply, '/signin');
    if (!gate.csrfOkFor(s.id, b?._csrf)) return newPasswordForm(req, reply, s, { status: 403, errors: { password: T.errors.csrf } });
    const password = field(b, 'password', STAFF_PASSWORD_MAX + 1);
    const again = field(b, 'again', STAFF_PASSWORD_MAX + 1);
    const error = password.length < STAFF_PASSWORD_MIN ? T.password.short(STAFF_PASSWORD_MIN)
      : password.length > STAFF_PASSWORD_MAX ? T.password.long(STAFF_PASSWORD_MAX) : undefined;
    if (error) return newPasswordForm(req, reply, s, { status: 400, errors: { password: error } });
    if (again !== password) return newPasswordForm(req, reply, s, { status: 400, errors: { again: T.password.differ } });
    if ((await staff.checkPassword(s.row.name, password)).ok) return newPasswordForm(req, reply, s, { status: 400, errors: { password: T.password.same } });
    await staff.setPassword(s.row.name, password, { mustChange: false, endSessions: false });
    await access.setStage(s.row.idHash, 'ok');
    await audit(req, 'console.password', s.row.name, 'ok');
    return seeOther(reply, nextOf(req) ?? '/');
  });

  app.post('/signout', async (req, reply) => {
    const s = await gate.session(req);
    if (!s) return seeOther(reply, '/signin');
    if (!gate.csrfOkFor(s.id, (req.body as Body)?._csrf)) {
      return sendPage(reply, consolePage(null, { title: T.signin.title, status: 403, main: html`${alert(T.errors.csrf)}<p><a href="/">${T.home.title}</a></p>` }));
    }
    await access.endSession(s.row.idHash);
    gate.clearSession(reply);
    await audit(req, 'console.signout', s.row.name, 'ok');
    return seeOther(reply, '/signin?out=1');
  });
}
