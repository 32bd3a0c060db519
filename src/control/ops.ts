// One dispatcher for queue actions, whoever asks: the control socket today,
// the admin API later. Every action is logged (who changed the queue is the
// operator's question after an incident).
import type { Clock, Logger } from '../core/index.ts';
import { systemClock } from '../core/index.ts';
import type { Spool } from '../spool/index.ts';
import { deleteMessages, holdMessages, listQueue, releaseMessages, requeueMessages, showMessage } from '../spool/index.ts';
import type { ControlRequest, ControlResponse } from './protocol.ts';
import { controlError } from './protocol.ts';

/** What the queue actions need from the relay: "deliver deferred mail now". */
export interface RelayPort {
  kick(): Promise<void>;
}

export interface QueueDeps {
  spool: Spool;
  relay: RelayPort;
  logger: Logger;
  clock?: Clock;
}

export async function runQueueOp(deps: QueueDeps, req: ControlRequest): Promise<ControlResponse> {
  const { spool, relay, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const sel = { ids: req.ids, all: req.all, account: req.account, sender: req.sender };
  switch (req.op) {
    case 'list':
      return { ok: true, op: 'list', messages: await listQueue(spool) };
    case 'show': {
      const m = await showMessage(spool, req.ids?.[0] ?? '');
      return m ? { ok: true, op: 'show', message: m.entry, headers: m.headers } : controlError('not-found', 'no such message in the queue');
    }
    case 'stats':
      return { ok: true, op: 'stats', stats: spool.stats() };
    case 'limits':
      return controlError('not-found', 'limits are answered by the server, not the queue');
    case 'flush':
      await relay.kick();
      logger.info({ event: 'queue', op: 'flush' }, 'queue flushed by operator');
      return { ok: true, op: 'flush' };
    case 'hold':
    case 'release':
    case 'delete':
    case 'requeue': {
      const result = req.op === 'hold' ? await holdMessages(spool, sel, req.reason ? `held by operator: ${req.reason}` : undefined)
        : req.op === 'release' ? await releaseMessages(spool, sel)
        : req.op === 'delete' ? await deleteMessages(spool, sel)
        : await requeueMessages(spool, sel, clock.now());
      logger.info({ event: 'queue', op: req.op, selector: sel, done: result.done, skipped: result.skipped.length,
        missing: result.missing.length, failed: result.failed }, `queue ${req.op} by operator`);
      return { ok: true, op: req.op, result };
    }
  }
}
