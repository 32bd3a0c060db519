// The replies authentication can end in: entries of core's one reply catalogue
// (src/core/replies.ts). Texts are vague on purpose: an unknown user and a
// wrong password read the same (RFC 6409 §7).
import { REPLIES } from '../core/index.ts';

export const AUTH_FAILED = REPLIES.authFailed;
export const MALFORMED = REPLIES.authMalformed;
export const TEMPORARY = REPLIES.authTemporary;

/** RFC 5248 X.7.13, given only after the credentials proved correct. */
export const accountDisabled = REPLIES.accountDisabled;
