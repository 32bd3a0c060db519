// DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030). The session feeds the octets;
// this file decides when a body may start and how each chunk is answered.
import type { Reply } from '../core/index.ts';
import type { Session } from './session.ts';
import { abortTx, finishBody, startBody } from './transaction.ts';
import type { BdatChunk } from './transaction.ts';
import { R, chunkReceived, syntax } from './replies.ts';

export function data(s: Session, arg: string): void {
  if (arg.trim()) return s.sendError(syntax('DATA'), 'DATA with parameter');
  const tx = s.tx;
  if (!tx) return s.sendError(R.needMail, 'DATA without MAIL');
  if (tx.view.bodyMode === 'bdat') return s.sendError(R.dataAfterBdat, 'DATA after BDAT');
  if (tx.view.rcptTo.length === 0) return s.sendError(R.noRecipients, 'DATA without recipients');
  startBody(s, 'data');
  s.send(R.startData);
  s.mode = 'data';
  s.flush();
}

const BDAT_ARGS = /^(\d{1,15})(?: +(LAST))? *$/i;

/** `refused` is set when the command itself is not allowed now; its octets are still consumed. */
export async function bdat(s: Session, arg: string, refused?: Reply): Promise<void> {
  const m = BDAT_ARGS.exec(arg);
  if (!m) return s.sendError(syntax('BDAT count [LAST]'), 'BDAT syntax');
  const size = Number(m[1]);
  const last = m[2] !== undefined;
  const tx = s.tx;
  let fail: Reply | null = refused ?? null;
  if (fail) {
    // already decided
  } else if (!tx) fail = R.needMail;
  else if (tx.failed) fail = tx.failed;
  else if (tx.view.rcptTo.length === 0) fail = R.noRecipients;
  else if (tx.view.bodyMode === null) startBody(s, 'bdat');
  await s.beginChunk({ remaining: size, size, last, fail });
}

/** All octets of a chunk are in; answer it. */
export async function endChunk(s: Session, c: BdatChunk): Promise<void> {
  const tx = s.tx;
  if (c.fail) {
    s.sendError(c.fail, 'BDAT chunk refused');
    // RFC 3030 §2: the transaction has failed; chunks already pipelined behind this one get the same answer.
    if (tx) {
      if (c.last) abortTx(s, 'BDAT failed');
      else tx.failed = c.fail;
    }
    return;
  }
  if (!tx || !tx.sink) return; // aborted meanwhile (session closing)
  if (c.last) {
    await finishBody(s);
    return;
  }
  if (tx.sink.fault) {
    tx.failed = tx.sink.fault;
    s.send(tx.sink.fault);
    return;
  }
  s.send(chunkReceived(c.size));
}
