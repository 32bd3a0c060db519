// The control socket's language: one JSON object per line each way, answered
// in order. Requests are checked here before anything acts on them.
import type { QueueActionResult, QueueEntry, QueueSelector, SpoolStats } from '../spool/index.ts';
import { selectorProblem } from '../spool/index.ts';
import type { ErrorCode } from '../app/index.ts';

export const CONTROL_OPS = ['list', 'show', 'hold', 'release', 'delete', 'flush', 'requeue', 'stats', 'limits', 'case'] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

/** The abuse cases live in the running server (the engine runs there): `portwarden case` asks it. */
export const CASE_OPS = ['list', 'show', 'note', 'release', 'quarantine'] as const;
export type CaseOp = (typeof CASE_OPS)[number];

export interface ControlRequest extends QueueSelector {
  op: ControlOp;
  /** hold only: recorded in the queue file and shown by list. */
  reason?: string;
  /** case only: the operation (cases.NAME) and its input, checked against the operation's own schema. */
  case?: { name: CaseOp; input: Record<string, unknown> };
  /** case only: the Unix user at the other end (the socket is 0600: the server's own user or root), named in the audit and the case timeline. */
  user?: string;
}

/** Stable codes for scripts (the application layer's catalogue); the message is for people. */
export type ControlErrorCode = ErrorCode;

export type ControlResponse =
  | { ok: true; op: 'list'; messages: QueueEntry[] }
  | { ok: true; op: 'show'; message: QueueEntry; headers: string }
  | { ok: true; op: 'hold' | 'release' | 'delete' | 'requeue'; result: QueueActionResult }
  | { ok: true; op: 'flush' }
  | { ok: true; op: 'stats'; stats: SpoolStats }
  /** The sending limits in effect for an account and their current state (what the server wires in). */
  | { ok: true; op: 'limits'; limits: unknown }
  /** The case operation's output (its schema is the operation's). */
  | { ok: true; op: 'case'; value: unknown }
  | { ok: false; error: { code: ControlErrorCode; message: string } };

export const MAX_REQUEST_BYTES = 256 * 1024;

export function controlError(code: ControlErrorCode, message: string): ControlResponse {
  return { ok: false, error: { code, message } };
}

const str = (v: unknown): v is string => typeof v === 'string';

/** A checked request from one line of the socket, or the error to answer with. */
export function parseRequest(line: string): ControlRequest | { error: ControlResponse } {
  let v: unknown;
  try { v = JSON.parse(line); } catch { return { error: controlError('bad-request', 'not JSON') }; }
  return checkRequest(v);
}

/** The same check for a request that arrived as a value (the admin API's JSON body). */
export function checkRequest(v: unknown): ControlRequest | { error: ControlResponse } {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: controlError('bad-request', 'expected a JSON object') };
  const o = v as Record<string, unknown>;
  if (!CONTROL_OPS.includes(o.op as ControlOp)) return { error: controlError('bad-request', `op must be one of ${CONTROL_OPS.join(', ')}`) };
  const op = o.op as ControlOp;
  for (const k of Object.keys(o)) {
    if (!['op', 'ids', 'all', 'account', 'sender', 'reason', 'case', 'user'].includes(k)) return { error: controlError('bad-request', `unknown field ${JSON.stringify(k)}`) };
  }
  if (o.ids !== undefined && !(Array.isArray(o.ids) && o.ids.every(str))) return { error: controlError('bad-request', 'ids must be a list of strings') };
  if (o.all !== undefined && typeof o.all !== 'boolean') return { error: controlError('bad-request', 'all must be true or false') };
  for (const k of ['account', 'sender', 'reason'] as const) {
    if (o[k] !== undefined && !str(o[k])) return { error: controlError('bad-request', `${k} must be a string`) };
  }
  if (op === 'limits' && !str(o.account)) return { error: controlError('bad-request', 'limits needs an account') };
  if (op === 'case') return checkCase(o);
  if (o.case !== undefined || o.user !== undefined) return { error: controlError('bad-request', 'case and user are for op case only') };
  const req: ControlRequest = { op };
  if (o.ids !== undefined) req.ids = o.ids as string[];
  if (o.all !== undefined) req.all = o.all as boolean;
  if (o.account !== undefined) req.account = o.account as string;
  if (o.sender !== undefined) req.sender = o.sender as string;
  if (o.reason !== undefined) req.reason = (o.reason as string).replace(/[\r\n]+/g, ' ').slice(0, 200);
  if (op === 'show' && req.ids?.length !== 1) return { error: controlError('bad-request', 'show takes exactly one queue id') };
  if (op === 'hold' || op === 'release' || op === 'delete' || op === 'requeue') {
    const problem = selectorProblem(req);
    if (problem) return { error: controlError('bad-request', problem) };
    if (op === 'requeue' && (req.account !== undefined || req.sender !== undefined)) return { error: controlError('bad-request', 'requeue takes queue ids or ALL') };
  }
  return req;
}

function checkCase(o: Record<string, unknown>): ControlRequest | { error: ControlResponse } {
  const c = o.case as { name?: unknown; input?: unknown } | undefined;
  if (!c || typeof c !== 'object' || Array.isArray(c) || !CASE_OPS.includes(c.name as CaseOp)) {
    return { error: controlError('bad-request', `case needs {name, input} with name one of ${CASE_OPS.join(', ')}`) };
  }
  if (!c.input || typeof c.input !== 'object' || Array.isArray(c.input)) return { error: controlError('bad-request', 'case.input must be an object') };
  if (o.user !== undefined && !(str(o.user) && /^[A-Za-z0-9._-]{1,64}$/.test(o.user))) return { error: controlError('bad-request', 'user must be a user name') };
  for (const k of ['ids', 'all', 'account', 'sender', 'reason']) if (o[k] !== undefined) return { error: controlError('bad-request', `${k} is not a field of op case`) };
  return { op: 'case', case: { name: c.name as CaseOp, input: c.input as Record<string, unknown> }, ...(o.user !== undefined ? { user: o.user as string } : {}) };
}
