// The mail queue (the spool, and the relay's "deliver now"): Postfix's
// postqueue -p/-f and postsuper -h/-H/-d/-r. Only the server that owns the
// spool has it: elsewhere these answer `unavailable` (the CLI then reads the
// spool itself for list/show/stats, and never changes it). Every change is
// also logged (event "queue"): who changed the queue is the operator's
// question after an incident.
import { Type } from 'typebox';
import {
  deleteMessages, holdMessages, listQueue, releaseMessages, requeueMessages, selectorProblem, showMessage,
  QUEUE_STATES, type QueueActionResult, type QueueSelector,
} from '../../spool/index.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Input, Reason, Str } from './common.ts';

const State = Type.Enum(QUEUE_STATES);
export const QueueEntrySchema = Type.Object({
  id: Type.String(), state: State, size: Type.Integer(), arrival: Type.Integer(), sender: Type.String(), account: Type.Optional(Type.String()),
  recipients: Type.Array(Type.Object({ address: Type.String(), state: Type.String(), reply: Type.Optional(Type.String()) })),
  attempts: Type.Integer(), nextAttemptAt: Type.Optional(Type.Integer()), lastReply: Type.Optional(Type.String()),
  holdReason: Type.Optional(Type.String()), damaged: Type.Optional(Type.String()),
});
const ResultSchema = Type.Object({
  done: Type.Array(Type.String()), skipped: Type.Array(Type.Object({ id: Type.String(), reason: Type.String() })),
  missing: Type.Array(Type.String()), failed: Type.Array(Type.Object({ id: Type.String(), error: Type.String() })),
});
const StatsSchema = Type.Object({
  active: Type.Integer(), deferred: Type.Integer(), hold: Type.Integer(), corrupt: Type.Integer(),
  commits: Type.Integer(), fileSyncs: Type.Integer(), dirSyncs: Type.Integer(),
});

const QueueId = Str('queue id', { minLength: 1, maxLength: 64 });
const selector = {
  ids: Type.Optional(Type.Array(QueueId, { maxItems: 100_000 })), all: Type.Optional(Type.Boolean({ description: 'every message (ALL)' })),
  account: Type.Optional(Str('only this account')), sender: Type.Optional(Str("only this envelope sender ('' or <> is the null sender)")),
};

function checkedSelector(i: QueueSelector, op: string): QueueSelector {
  const sel = { ids: i.ids, all: i.all, account: i.account, sender: i.sender };
  const problem = selectorProblem(sel);
  if (problem) throw new AppError('bad-request', problem);
  if (op === 'requeue' && (sel.account !== undefined || sel.sender !== undefined)) throw new AppError('bad-request', 'requeue takes queue ids or ALL');
  return sel;
}

const selObject = (i: QueueSelector): string => (i.ids?.length ? `queue ${i.ids.join(',').slice(0, 200)}` : i.all ? 'queue ALL'
  : `queue${i.account !== undefined ? ` account=${i.account}` : ''}${i.sender !== undefined ? ` sender=${i.sender}` : ''}`);

function logged(deps: AppDeps, op: string, sel: QueueSelector, result: QueueActionResult): QueueActionResult {
  deps.logger.info({ event: 'queue', op, selector: sel, done: result.done, skipped: result.skipped.length,
    missing: result.missing.length, failed: result.failed }, `queue ${op} by operator`);
  return result;
}

export const queueList = operation({
  name: 'queue.list', summary: 'every message in the queue, like postqueue -p', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/queue' }, input: Input({}), output: Type.Object({ messages: Type.Array(QueueEntrySchema) }),
  async run(_i, _c, deps: AppDeps) { return { messages: await listQueue(need(deps, 'spool')) }; },
});

export const queueStats = operation({
  name: 'queue.stats', summary: 'counts per state, and commits/fsyncs since the server started', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/queue/stats' }, input: Input({}), output: StatsSchema,
  async run(_i, _c, deps: AppDeps) { return need(deps, 'spool').stats(); },
});

export const queueShow = operation({
  name: 'queue.show', summary: 'envelope and header section of one message', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/queue/:id' }, input: Input({ id: QueueId }),
  output: Type.Object({ message: QueueEntrySchema, headers: Type.String() }),
  async run(i, _c, deps: AppDeps) {
    const m = await showMessage(need(deps, 'spool'), i.id);
    if (!m) throw new AppError('not-found', 'no such message in the queue');
    return { message: m.entry, headers: m.headers };
  },
});

export const queueHold = operation({
  name: 'queue.hold', summary: 'keep messages from delivery until released (postsuper -h)', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/queue/hold' }, input: Input({ ...selector, reason: Reason }), output: ResultSchema, object: selObject,
  async run(i, c, deps: AppDeps) {
    const sel = checkedSelector(i, 'hold');
    const why = (i.reason ?? c.reason)?.replace(/[\r\n]+/g, ' ').slice(0, 200);
    return logged(deps, 'hold', sel, await holdMessages(need(deps, 'spool'), sel, why ? `held by operator: ${why}` : undefined));
  },
});

export const queueRelease = operation({
  name: 'queue.release', summary: 'held messages back to delivery now (postsuper -H)', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/queue/release' }, input: Input({ ...selector, reason: Reason }), output: ResultSchema, object: selObject,
  async run(i, _c, deps: AppDeps) {
    const sel = checkedSelector(i, 'release');
    return logged(deps, 'release', sel, await releaseMessages(need(deps, 'spool'), sel));
  },
});

export const queueDelete = operation({
  name: 'queue.delete', summary: 'remove messages for good (postsuper -d)', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/queue/delete' }, input: Input({ ...selector, reason: Reason }), output: ResultSchema, object: selObject,
  async run(i, _c, deps: AppDeps) {
    const sel = checkedSelector(i, 'delete');
    return logged(deps, 'delete', sel, await deleteMessages(need(deps, 'spool'), sel));
  },
});

export const queueRequeue = operation({
  name: 'queue.requeue', summary: 'deferred messages: the retry schedule starts over, deliver now', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/queue/requeue' },
  input: Input({ ids: selector.ids, all: selector.all, reason: Reason }), output: ResultSchema, object: selObject,
  async run(i, _c, deps: AppDeps) {
    const sel = checkedSelector(i, 'requeue');
    return logged(deps, 'requeue', sel, await requeueMessages(need(deps, 'spool'), sel, deps.clock.now()));
  },
});

export const queueFlush = operation({
  name: 'queue.flush', summary: 'deliver every deferred message now (postqueue -f)', scope: 'operate', mutates: true,
  http: { method: 'POST', path: '/queue/flush' }, input: Input({ reason: Reason }), output: Type.Object({ done: Type.Boolean() }),
  object: () => 'queue',
  async run(_i, _c, deps: AppDeps) {
    await need(deps, 'relay').kick();
    deps.logger.info({ event: 'queue', op: 'flush' }, 'queue flushed by operator');
    return { done: true };
  },
});

export const QUEUE_OPS = [queueList, queueStats, queueShow, queueHold, queueRelease, queueDelete, queueRequeue, queueFlush] as const;
