// The control socket's language: one JSON object per line each way, answered
// in order. Requests are checked here before anything acts on them.
import type { QueueActionResult, QueueEntry, QueueSelector, SpoolStats } from '../spool/index.ts';
import { selectorProblem } from '../spool/index.ts';
import type { ErrorCode } from '../app/index.ts';

export const CONTROL_OPS = ['list', 'show', 'hold', 'release', 'delete', 'flush', 'requeue', 'stats', 'limits'] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

export interface ControlRequest extends QueueSelector {
  op: ControlOp;
  /** hold only: recorded in the queue file and shown by list. */
  reason?: string;
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
    if (!['op', 'ids', 'all', 'account', 'sender', 'reason'].includes(k)) return { error: controlError('bad-request', `unknown field ${JSON.stringify(k)}`) };
  }
  if (o.ids !== undefined && !(Array.isArray(o.ids) && o.ids.every(str))) return { error: controlError('bad-request', 'ids must be a list of strings') };
  if (o.all !== undefined && typeof o.all !== 'boolean') return { error: controlError('bad-request', 'all must be true or false') };
  for (const k of ['account', 'sender', 'reason'] as const) {
    if (o[k] !== undefined && !str(o[k])) return { error: controlError('bad-request', `${k} must be a string`) };
  }
  if (op === 'limits' && !str(o.account)) return { error: controlError('bad-request', 'limits needs an account') };
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
