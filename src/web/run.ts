// A page runs an operation as the signed-in person: the same invoke() as the
// CLI and the API (role or subscriber check, audit record naming the person and
// the client's address), so the console is never a back door.
import { AppError, checkInput, invoke, type Actor, type Context } from '../app/index.ts';
import type { Principal, WebDeps } from './types.ts';

/** The audit actor of a principal; `from` is the client's address. */
export function actorOf(p: Principal, from: string): Actor {
  return p.kind === 'staff'
    ? { kind: 'staff', name: p.name, role: p.role, from }
    : { kind: 'subscriber', name: p.login, subscriber: p.subscriber, from };
}

/** Runs operation `name` as `p`; AppError (forbidden, invalid, not-found…) reaches the page to be shown. */
export async function runAs<T = unknown>(deps: WebDeps, p: Principal, from: string, name: string, input: Record<string, unknown>, reason?: string): Promise<T> {
  const op = deps.operations.get(name);
  if (!op) throw new AppError('internal', `no operation ${name}`);
  checkInput(op, input); // a form's fields against the operation's schema, as the API and the CLI do
  const ctx: Context = { actor: actorOf(p, from), ...(reason ? { reason } : {}) };
  return await invoke(op, input as never, ctx, deps.app, deps.audit, () => deps.clock.now()) as T;
}
