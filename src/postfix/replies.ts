// The action lines this service answers. Postfix takes "NNN text" as the SMTP
// reply to send (access(5)), DUNNO as "no opinion, go on with the next
// restriction". Each refusal is the one line of the same catalogue entry the
// MSA answers with (core's REPLIES), so a customer reads the same words
// whether their mail came through portwarden or through Postfix. The rule is
// named only when the customer authenticated (RFC 6409 §7).
import { REPLIES, replyLine } from '../core/index.ts';
import type { Decision } from '../limits/index.ts';

export const DUNNO = 'DUNNO';

/** A config value goes into a one-line protocol answer: no line breaks, no control characters. */
export function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

export function limitedAction(d: Decision, helpUrl: string, detail: boolean): string {
  return replyLine(REPLIES.limited(detail ? d.hit?.rule : undefined, d.retryAfterMs, helpUrl));
}

export function floodAction(helpUrl: string, suspended: boolean): string {
  return replyLine(REPLIES.flood(helpUrl, suspended));
}

export function disabledAction(helpUrl: string): string {
  return replyLine(REPLIES.senderDisabled(helpUrl));
}

/** The MSA's AUTH-time lockout text; at RCPT with 450, a code RCPT may answer (RFC 5321 §4.3.2). */
export const LOCKED_ACTION = replyLine(REPLIES.authLocked, 450);
export const UNAVAILABLE_ACTION = replyLine(REPLIES.limitsUnavailable);
export const ERROR_ACTION = replyLine(REPLIES.internal);
