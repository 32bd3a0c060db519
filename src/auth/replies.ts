// The replies authentication can end in, chosen in one place. Texts are vague on
// purpose: an unknown user and a wrong password read the same (RFC 6409 §7).
import { reply, type Reply } from '../core/index.ts';

export const AUTH_FAILED: Reply = reply(535, '5.7.8', 'Error: authentication failed');
export const MALFORMED: Reply = reply(501, '5.5.2', 'Error: malformed authentication data');
export const TEMPORARY: Reply = reply(454, '4.7.0', 'Temporary authentication failure');

/** RFC 5248 X.7.13, given only after the credentials proved correct. */
export function accountDisabled(url: string): Reply {
  return reply(525, '5.7.13', `User account disabled, see ${url}`);
}
