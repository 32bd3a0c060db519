// The engine's replies: the entries of core's one reply catalogue
// (src/core/replies.ts) under the names the engine's files use.
import { REPLIES } from '../core/index.ts';

/** The answer to an accepted RCPT; exported for a handler's observers (submission). */
export const RCPT_OK = REPLIES.rcptOk;

export const R = REPLIES;

export const {
  syntax, badParam, unsupportedParam, greeting, tooManyErrors, timeoutExceeded, tooManyConnections,
  tooManyFromAddress, tooManyFromNetwork, shuttingDown, chunkReceived,
} = REPLIES;
