// The action lines this service answers. Postfix takes "NNN text" as the SMTP
// reply to send (access(5)), DUNNO as "no opinion, go on with the next
// restriction". Texts say what happened and where to read more; the customer
// is authenticated when they get a limit's detail (RFC 6409 §7).
import type { CompiledRule, Decision } from '../limits/index.ts';

export const DUNNO = 'DUNNO';

const SCOPE_WORDS: Record<string, string> = {
  account: 'this account', subscriber: 'your subscription', ip: 'your address', prefix: 'your network', aggregate: 'the service',
};
const PERIOD_WORDS: Record<number, string> = { 1_000: 'second', 60_000: 'minute', 3_600_000: 'hour', 86_400_000: 'day' };

/** A config value goes into a one-line protocol answer: no line breaks, no control characters. */
export function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

function describe(rule: CompiledRule | undefined): string {
  if (!rule) return '';
  const per = PERIOD_WORDS[rule.periodMs] ?? `${Math.round(rule.periodMs / 1000)} seconds`;
  return ` (${rule.counts} per ${per} for ${SCOPE_WORDS[rule.scope] ?? rule.scope})`;
}

function retry(ms: number): string {
  if (!Number.isFinite(ms)) return 'this request is larger than the limit allows';
  if (ms < 60_000) return 'try again in a minute';
  const min = Math.ceil(ms / 60_000);
  return min < 120 ? `try again in ${min} minutes` : `try again in ${Math.ceil(min / 60)} hours`;
}

export function limitedAction(d: Decision, helpUrl: string, detail: boolean): string {
  const what = detail ? describe(d.hit?.rule) : '';
  return `450 4.7.1 Sending limit reached${what}; ${retry(d.retryAfterMs)}; see ${helpUrl}`;
}

export function floodAction(helpUrl: string): string {
  return `550 5.7.28 Mail flood detected; see ${helpUrl}`;
}

export function disabledAction(helpUrl: string): string {
  return `550 5.7.1 Account disabled; see ${helpUrl}`;
}

export const LOCKED_ACTION = '450 4.7.0 Too many failed logins; try again later';
export const UNAVAILABLE_ACTION = '451 4.3.0 Temporary problem; try again later';
