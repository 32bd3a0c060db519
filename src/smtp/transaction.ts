// The transaction: envelope, body stream and the handler's data verdict.
// A transaction ends either accepted (completeTx) or not (abortTx, which
// tells the handler through reset()).
import type { Reply, Verdict } from '../core/index.ts';
import { BodyError } from './types.ts';
import type { MailFrom, RcptTo, Transaction } from './types.ts';
import { BodySink } from './body.ts';
import { R } from './replies.ts';
import type { Session } from './session.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface TxState {
  view: Mutable<Transaction> & { rcptTo: RcptTo[] };
  sink: BodySink | null;
  /** handler.data(), wrapped so it never rejects. */
  result: Promise<{ verdict: Verdict } | { error: unknown }> | null;
  settled: boolean;
  /** A failed BDAT chunk: later chunks get this reply until LAST (RFC 3030 §2). */
  failed: Reply | null;
}

export interface BdatChunk {
  remaining: number;
  readonly size: number;
  readonly last: boolean;
  /** The chunk is consumed and answered with this instead of being used. */
  readonly fail: Reply | null;
}

export function beginTx(s: Session, mailFrom: MailFrom): void {
  s.tx = { view: { mailFrom, rcptTo: [], bodyMode: null }, sink: null, result: null, settled: false, failed: null };
}

/** Ends the transaction without a message (RSET, EHLO, STARTTLS, rejection, close). */
export function abortTx(s: Session, why: string): void {
  const tx = s.tx;
  if (!tx) return;
  s.tx = null;
  if (tx.sink && tx.sink.open) tx.sink.abort(new BodyError(R.aborted(why)));
  try {
    s.handler.reset?.(s.info, tx.view);
  } catch (err) {
    s.log.error({ err }, 'handler reset failed');
  }
}

/** The transaction ended with the message accepted. */
export function completeTx(s: Session): void {
  s.tx = null;
  s.info.messages++;
}

/** Opens the body stream and asks handler.data() (DATA or first BDAT). */
export function startBody(s: Session, mode: 'data' | 'bdat'): BodySink {
  const tx = s.tx!;
  tx.view.bodyMode = mode;
  const sink = new BodySink(s.opts.maxMessageSize, s.opts.bareLf, () => s.updateFlow());
  tx.sink = sink;
  tx.result = Promise.resolve()
    .then(() => s.handler.data(s.info, tx.view, sink.stream))
    .then((verdict) => ({ verdict }), (error: unknown) => ({ error }));
  void tx.result.then(() => {
    tx.settled = true;
    // The handler answered before the end of data: stop feeding it, keep reading.
    if (sink.open) sink.abort();
  });
  return sink;
}

/** Waits for handler.data() and turns its outcome into the reply. */
export async function finishBody(s: Session): Promise<void> {
  const tx = s.tx!;
  const sink = tx.sink!;
  if (sink.fault) {
    s.send(sink.fault);
    if (sink.sawBareLf) s.warn({ bareLf: true }, 'bare LF in message content');
    abortTx(s, 'content rejected');
    return;
  }
  sink.finish();
  const outcome = await tx.result!;
  if (s.tx !== tx) return; // session closed meanwhile
  if ('error' in outcome) {
    s.log.error({ err: outcome.error, phase: 'data' }, 'handler failed');
    s.send(R.internal);
    abortTx(s, 'handler error');
    return;
  }
  const v = outcome.verdict;
  if (v.ok) {
    completeTx(s);
    s.send(v.reply ?? R.ok);
  } else {
    abortTx(s, 'data refused');
    s.refuse(v);
  }
}

