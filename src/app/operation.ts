// An operation is declared once: its name, the scope it needs, its HTTP route,
// and TypeBox schemas for input and output. The HTTP layer validates requests
// with these schemas and generates the OpenAPI document from them; the CLI and
// the control socket build the same input and call the same `run`. invoke() is
// the only way in: it checks the scope, runs, and writes the audit record of
// every mutation (success or refusal, a scope refusal included).
import type { Static, TSchema } from 'typebox';
import type { Context, Scope } from './actor.ts';
import { scopeAllows } from './actor.ts';
import { AppError, asAppError } from './errors.ts';
import { actorRefusal } from './roles.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OperationDef<I extends TSchema = TSchema, O extends TSchema = TSchema, D = unknown> {
  /** Stable dotted name: "accounts.add". Also the audit record's action. */
  name: string;
  summary: string;
  scope: Scope;
  /** A mutation writes an audit record. */
  mutates: boolean;
  /** Route under /api/v1; path parameters (":login") are input fields of the same name. */
  http: { method: HttpMethod; path: string };
  input: I;
  output: O;
  /** The object the audit record names ("account alice@example.net"); defaults to the op name. */
  object?: (input: Static<I>) => string;
  /** A signed-in subscriber (the portal) may run it; it then acts on ctx.actor.subscriber's own data only. */
  subscriber?: boolean;
  /** Further input fields never copied into the audit record (a passwd-file's text holds hashes). */
  secret?: readonly string[];
  run(input: Static<I>, ctx: Context, deps: D): Promise<Static<O>>;
}

/** Declares an operation with its types inferred from the schemas. */
export function operation<I extends TSchema, O extends TSchema, D>(def: OperationDef<I, O, D>): OperationDef<I, O, D> {
  return def;
}

export interface AuditEntry {
  at: number;
  actorKind: string;
  actor: string;
  from: string;
  action: string;
  object: string;
  reason: string;
  /** "ok" or the error code. */
  outcome: string;
  /** JSON text of the input with secrets removed. */
  detail: string;
}

export interface AuditSink {
  write(entry: AuditEntry): Promise<void>;
}

/** Input fields never copied into an audit record. */
const SECRET_FIELDS = new Set(['password', 'hash', 'secret', 'token']);

export function redact(input: unknown, also: readonly string[] = []): string {
  return JSON.stringify(input, (k, v) => (SECRET_FIELDS.has(k) || also.includes(k) ? '[redacted]' : v)) ?? 'null';
}

/** The why of a change: the context's, else an input field `reason` (how the API and the CLI give it). */
function reasonOf(ctx: Context, input: unknown): string {
  if (ctx.reason) return ctx.reason;
  const r = input && typeof input === 'object' ? (input as { reason?: unknown }).reason : undefined;
  return typeof r === 'string' ? r : '';
}

export async function invoke<I extends TSchema, O extends TSchema, D>(
  op: OperationDef<I, O, D>, input: Static<I>, ctx: Context, deps: D, audit: AuditSink, now: () => number = Date.now,
): Promise<Static<O>> {
  // Tokens by scope; staff by role and subscribers by the operation's own flag (roles.ts).
  const denied = ctx.actor.kind === 'token' ? (scopeAllows(ctx.actor.scope ?? 'read', op.scope) ? null : `${op.name} needs scope ${op.scope}`) : actorRefusal(ctx.actor, op);
  const allowed = denied === null;
  const refusal = (): AppError => new AppError('forbidden', denied ?? op.name);
  if (!op.mutates) {
    if (!allowed) throw refusal();
    return op.run(input, ctx, deps);
  }
  // A refused change is audited like any other: who tried what, with which credentials.
  let outcome = 'ok';
  try {
    if (!allowed) throw refusal();
    return await op.run(input, ctx, deps);
  } catch (err) {
    outcome = asAppError(err).code;
    throw err;
  } finally {
    await audit.write({
      at: now(), actorKind: ctx.actor.kind, actor: ctx.actor.name, from: ctx.actor.from, action: op.name,
      object: op.object ? op.object(input) : op.name, reason: reasonOf(ctx, input), outcome, detail: redact(input, op.secret),
    });
  }
}
