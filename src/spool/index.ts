// spool: the durable queue between the MSA and the relay. One self-validating
// file per message (typed records, a required END record with length and
// CRC-32), state = directory (incoming, active, deferred, hold, corrupt).
// A commit resolves only after the file and its directory entry are fsynced;
// concurrent commits share directory fsyncs (group commit). Recovery deletes
// never-acknowledged files and moves damaged ones to corrupt/.
// Operator actions (list, show, hold, release, delete, requeue by id, account
// or sender) live in ops.ts; hold/ is left only through release().
// Trusts: the envelope it is given (the MSA checked it) and the local disk to
// honour fsync; it trusts no queue file it reads back until its END checks out
// (read(): structure and length; body(): the CRC, before the stream ends).
// Standards: none on the wire; keeps RFC 3461 (DSN) and RFC 6531 (SMTPUTF8)
// envelope parameters so the relay can pass them on, and the accountability
// data RFC 5068 §3.1 / RFC 6302 ask for (account, client ip and port, time).
export { Spool, type SpoolOptions, type SpoolStats, type QueuedMessage } from './spool.ts';
export { type SpoolWriter, type CommitPoint, KEEP_MAX } from './writer.ts';
export { BodyDamaged } from './format.ts';
export { QUEUE_ID_RE } from './id.ts';
export {
  listQueue, showMessage, holdMessages, releaseMessages, deleteMessages, requeueMessages, selectorProblem,
  type QueueSelector, type QueueEntry, type QueueActionResult,
} from './ops.ts';
export {
  SpoolError, QUEUE_STATES,
  type SpoolErrorKind, type QueueState, type RecipientState, type DsnNotify, type RecipientInput, type Recipient,
  type MailFrom, type EnvelopeInput, type Envelope, type StatusRecord,
} from './types.ts';
