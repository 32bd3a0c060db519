// /staff: the console users, for admins (staff.* are admin-only in roles.ts;
// another role gets the refusal in words). List, add, disable or enable, a new
// authenticator secret, unlock. Every change runs as the signed-in admin
// through runAs() (role check and audit are invoke()'s). The answer to an add
// or a new secret shows the secret and a generated password in that answer
// only (200, not a 303: a page after a redirect would have to store them).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STAFF_PASSWORD_MAX, STAFF_ROLES, isAppError, type AppError } from '../../app/index.ts';
import { html, type Html } from '../html.ts';
import { seeOther, sendPage } from '../respond.ts';
import { runAs } from '../run.ts';
import type { ConsoleDeps, StaffPrincipal } from '../types.ts';
import { alert, consolePage, csrfField, notice } from '../console/shell.ts';
import { T } from './texts.ts';

interface Row { name: string; role: string; disabledAt: number | null; lockedUntil: number | null; failures: number; lastSignInAt: number | null; lastSignInFrom: string | null }
interface Added { name: string; role: string; secret: string; otpauthUri: string; password?: string }
interface AddInput { name: string; role: string; password: string }

const ACTIONS: Record<string, { op: string; done: string }> = {
  disable: { op: 'staff.disable', done: 'disabled, their sessions ended' },
  enable: { op: 'staff.enable', done: 'enabled' },
  unlock: { op: 'staff.unlock', done: 'unlocked' },
};
const when = (ms: number | null): string => (ms === null ? T.staff.never : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
const str = (v: unknown, max = 200): string => (typeof v === 'string' ? v.slice(0, max) : '');

function addForm(p: StaffPrincipal, v: AddInput, err?: { field: string; text: string }): Html {
  const e = (f: string) => (err && err.field === f ? html`<p class="error" id="add-${f}-error">${err.text}</p>` : '');
  const inv = (f: string) => (err && err.field === f ? html` aria-invalid="true" aria-describedby="add-${f}-error"` : '');
  return html`<h2 id="add">${T.staff.addTitle}</h2>
<form method="post" action="/staff">
${csrfField(p)}
${err && !['name', 'role', 'password'].includes(err.field) ? alert(err.text) : ''}
<label for="add-name">${T.staff.name}</label>
<p class="muted" id="add-name-hint">${T.staff.nameHint}</p>
<input id="add-name" name="name" required maxlength="32" autocapitalize="none" spellcheck="false" value="${v.name}"${inv('name')}>
${e('name')}
<label for="add-role">${T.staff.role}</label>
<select id="add-role" name="role"${inv('role')}>${STAFF_ROLES.map((r) => html`<option value="${r}"${r === v.role ? html` selected` : ''}>${r}</option>`)}</select>
${e('role')}
<label for="add-password">${T.staff.password}</label>
<p class="muted" id="add-password-hint">${T.staff.passwordHint}</p>
<input id="add-password" name="password" type="password" autocomplete="new-password" maxlength="${STAFF_PASSWORD_MAX}" value="${v.password}"${inv('password')}>
${e('password')}
<p><button type="submit">${T.staff.add}</button></p>
</form>`;
}

function table(p: StaffPrincipal, rows: Row[], now: number): Html {
  const button = (name: string, action: string, label: string) =>
    html`<form class="inline" method="post" action="/staff/${encodeURIComponent(name)}/${action}">${csrfField(p)}<button type="submit" class="secondary">${label}</button></form>`;
  return html`<table>
<caption>${T.staff.caption}</caption>
<thead><tr><th scope="col">${T.staff.cols.name}</th><th scope="col">${T.staff.cols.role}</th><th scope="col">${T.staff.cols.state}</th><th scope="col">${T.staff.cols.last}</th><th scope="col">${T.staff.cols.actions}</th></tr></thead>
<tbody>
${rows.map((u) => html`<tr>
<th scope="row">${u.name}</th><td>${u.role}</td>
<td>${u.disabledAt !== null ? html`<span class="bad">${T.staff.disabled}</span>` : T.staff.active}${u.lockedUntil !== null && u.lockedUntil > now ? html`, <span class="bad">${T.staff.locked(u.lockedUntil)}</span>` : ''}</td>
<td>${when(u.lastSignInAt)}${u.lastSignInFrom ? html` <span class="muted">(${u.lastSignInFrom})</span>` : ''}</td>
<td>${u.disabledAt === null ? button(u.name, 'disable', T.staff.disable(u.name)) : button(u.name, 'enable', T.staff.enable(u.name))}
${button(u.name, 'totp', T.staff.resetTotp(u.name))}
${u.failures > 0 || u.lockedUntil !== null ? button(u.name, 'unlock', T.staff.unlock(u.name)) : ''}</td>
</tr>`)}
</tbody>
</table>`;
}

function secrets(r: Added): Html {
  return html`<p class="notice">${T.staff.once}</p>
<dl>
<dt>${T.staff.uri}</dt><dd><code>${r.otpauthUri}</code></dd>
<dt>${T.staff.secret}</dt><dd><code>${r.secret.replace(/(.{4})/g, '$1 ').trim()}</code></dd>
${r.password ? html`<dt>${T.staff.generated}</dt><dd><code>${r.password}</code></dd>` : ''}
</dl>
<p><a href="/staff">${T.staff.back}</a></p>`;
}

export async function staffPage(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const who = async (req: FastifyRequest): Promise<StaffPrincipal> => (await deps.gate.current(req))!;
  const refused = (reply: FastifyReply, p: StaffPrincipal, e: AppError) =>
    sendPage(reply, consolePage(p, { title: T.staff.title, path: '/staff', status: e.status, main: alert(e.code === 'forbidden' ? T.staff.adminOnly : e.message) }));

  const list = async (req: FastifyRequest, reply: FastifyReply, o: { status?: number; flash?: Html; add?: AddInput; err?: { field: string; text: string } } = {}) => {
    const p = await who(req);
    let rows: Row[];
    try {
      rows = (await runAs<{ staff: Row[] }>(deps, p, req.ip, 'staff.list', {})).staff;
    } catch (e) {
      if (isAppError(e)) return refused(reply, p, e);
      throw e;
    }
    return sendPage(reply, consolePage(p, {
      title: T.staff.title, path: '/staff', status: o.status, flash: o.flash,
      main: html`<p>${T.staff.intro}</p>${table(p, rows, deps.clock.now())}${addForm(p, o.add ?? { name: '', role: 'desk', password: '' }, o.err)}`,
    }));
  };

  app.get('/staff', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const done = ACTIONS[str(q.done)];
    const name = str(q.name, 32);
    return list(req, reply, { flash: done && name ? notice(T.staff.changed(name, done.done)) : undefined });
  });

  app.post('/staff', async (req, reply) => {
    const p = await who(req);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const v: AddInput = { name: str(b.name, 64), role: str(b.role, 32), password: str(b.password, STAFF_PASSWORD_MAX + 1) };
    try {
      const r = await runAs<Added>(deps, p, req.ip, 'staff.add', { name: v.name.trim(), role: v.role, ...(v.password ? { password: v.password } : {}) });
      return sendPage(reply, consolePage(p, { title: T.staff.title, path: '/staff', flash: notice(T.staff.created(r.name)), main: secrets(r) }));
    } catch (e) {
      if (!isAppError(e)) throw e;
      if (e.code === 'forbidden') return refused(reply, p, e);
      const f = typeof e.detail?.field === 'string' ? e.detail.field : '';
      return list(req, reply, { status: e.status, add: v, err: { field: f, text: e.message.replace(/^staff\.add: /, '') } });
    }
  });

  app.post('/staff/:name/:action', async (req, reply) => {
    const p = await who(req);
    const { name, action } = req.params as { name: string; action: string };
    try {
      if (action === 'totp') {
        const r = await runAs<Added>(deps, p, req.ip, 'staff.totp.reset', { name });
        return sendPage(reply, consolePage(p, { title: T.staff.title, path: '/staff', flash: notice(T.staff.totpDone(r.name)), main: secrets(r) }));
      }
      const a = ACTIONS[action];
      if (!a) return sendPage(reply, consolePage(p, { title: T.staff.title, path: '/staff', status: 404, main: alert(T.errors.notFound) }));
      await runAs(deps, p, req.ip, a.op, { name });
      return seeOther(reply, `/staff?done=${action}&name=${encodeURIComponent(name.toLowerCase())}`);
    } catch (e) {
      if (!isAppError(e)) throw e;
      return refused(reply, p, e);
    }
  });
}
