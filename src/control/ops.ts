// The control socket's requests as application operations: each queue action
// (and the limits lookup) is the app's own op, invoked as the operator at the
// control socket ({operator, "control", from "control"}), audited like every
// other front end's. The answers keep the control protocol's shape.
import type { Clock, Logger } from '../core/index.ts';
import { systemClock } from '../core/index.ts';
import type { Spool } from '../spool/index.ts';
import {
  AppError, checkInput, invoke, loadOperation,
  type Actor, type AppDeps, type AuditSink, type LimitsLookup, type RelayKick,
} from '../app/index.ts';
import type { ControlRequest, ControlResponse } from './protocol.ts';
import { controlError } from './protocol.ts';

/** What the queue actions need from the relay: "deliver deferred mail now". */
export type RelayPort = RelayKick;

export interface QueueDeps {
  spool: Spool;
  relay: RelayPort;
  logger: Logger;
  clock?: Clock;
  /** Where each change's audit record goes (the server passes its audit log). */
  audit?: AuditSink;
  /** The limits in effect for an account, with their live state (wired by cli/). */
  limits?: LimitsLookup;
  /** The server's whole AppDeps (the same the HTTP API gets); else built from the fields above. */
  app?: AppDeps;
}

export const CONTROL_ACTOR: Actor = { kind: 'operator', name: 'control', from: 'control' };

const NO_AUDIT: AuditSink = { write: async () => {} };

/** The operation and its input for one checked request. */
function opFor(req: ControlRequest): [string, Record<string, unknown>] {
  const sel = { ids: req.ids, all: req.all, account: req.account, sender: req.sender, reason: req.reason };
  switch (req.op) {
    case 'list': return ['queue.list', {}];
    case 'stats': return ['queue.stats', {}];
    case 'show': return ['queue.show', { id: req.ids?.[0] ?? '' }];
    case 'flush': return ['queue.flush', { reason: req.reason }];
    case 'limits': return ['limits.show', { login: req.account ?? '' }];
    case 'requeue': return ['queue.requeue', { ids: req.ids, all: req.all, reason: req.reason }];
    case 'case': return [`cases.${req.case!.name}`, req.case!.input];
    default: return [`queue.${req.op}`, sel];
  }
}

function answer(req: ControlRequest, v: unknown): ControlResponse {
  const r = v as Record<string, unknown>;
  switch (req.op) {
    case 'list': return { ok: true, op: 'list', messages: r.messages as never };
    case 'show': return { ok: true, op: 'show', message: r.message as never, headers: r.headers as string };
    case 'stats': return { ok: true, op: 'stats', stats: v as never };
    case 'flush': return { ok: true, op: 'flush' };
    case 'limits': return { ok: true, op: 'limits', limits: v };
    case 'case': return { ok: true, op: 'case', value: v };
    default: return { ok: true, op: req.op, result: v as never };
  }
}

export async function runQueueOp(deps: QueueDeps, req: ControlRequest): Promise<ControlResponse> {
  const app: AppDeps = deps.app ?? { clock: deps.clock ?? systemClock, logger: deps.logger, spool: deps.spool, relay: deps.relay, limits: deps.limits };
  if (req.op === 'limits' && !app.limits) return controlError('not-found', 'limits are not enabled');
  const [name, raw] = opFor(req);
  const op = await loadOperation(name);
  const input = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  try {
    checkInput(op, input);
    // The user the CLI names (only the server's own user or root can connect) is who the case timeline and the audit name.
    const actor: Actor = req.op === 'case' && req.user ? { kind: 'operator', name: req.user, from: 'control' } : CONTROL_ACTOR;
    return answer(req, await invoke(op, input as never, { actor }, app, deps.audit ?? NO_AUDIT));
  } catch (err) {
    if (!(err instanceof AppError) || err.code === 'internal') throw err;
    return controlError(err.code, err.message);
  }
}
