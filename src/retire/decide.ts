// What a recipient under a retired domain gets, from the records alone (pure;
// the socketmap calls it per lookup from an in-memory snapshot).
//
//   phase      non-kept user                 kept user
//   announced  accept                        accept, alias → deliverTo
//   warn       accept + WARN (Postfix logs)  accept, alias → deliverTo
//   tempfail   450 4.1.6 being retired       accept, alias → deliverTo
//   refuse     550 5.1.1 retired             accept, alias → deliverTo
//              (551 5.1.6 please try <new> only for a user who asked: reveal)
//   gone       550 5.1.1 retired             550 5.1.1 (gone is reached only when nobody is kept)
import { REPLIES } from '../core/index.ts';
import type { RetireAnswer, RetiredEntry, RetirePhase } from './types.ts';

/** The phase at `now`, or null once the retirement was cancelled. A domain with kept users never becomes gone by date. */
export function phaseAt(entry: RetiredEntry, now: number): RetirePhase | null {
  const d = entry.domain;
  if (d.cancelledAt !== null && d.cancelledAt <= now) return null;
  if (d.goneAt !== null && now >= d.goneAt && !hasKept(entry)) return 'gone';
  if (now >= d.refuseAt) return 'refuse';
  if (now >= d.tempfailAt) return 'tempfail';
  if (now >= d.warnAt) return 'warn';
  return 'announced';
}

export function hasKept(entry: RetiredEntry): boolean {
  for (const u of entry.users.values()) if (u.keep) return true;
  return false;
}

/** `localPart` lower-case; `entry` the retired domain's records, or undefined when the domain is not retired. */
export function answerFor(entry: RetiredEntry | undefined, localPart: string, now: number): RetireAnswer {
  if (!entry) return { kind: 'none' };
  const phase = phaseAt(entry, now);
  if (phase === null) return { kind: 'none' };
  const domain = entry.domain.domain;
  const user = entry.users.get(localPart);
  if (phase === 'gone') return { kind: 'refuse', phase, reply: REPLIES.retiredRefused(domain) };
  if (user?.keep) return { kind: 'accept', phase, deliverTo: user.deliverTo };
  switch (phase) {
    case 'announced': return { kind: 'accept', phase, deliverTo: null };
    case 'warn': return { kind: 'warn', phase, text: `recipient under the retired domain name ${domain}; refused from ${new Date(entry.domain.refuseAt).toISOString()}` };
    case 'tempfail': return { kind: 'tempfail', phase, reply: REPLIES.retiredSoon(domain) };
    case 'refuse': return { kind: 'refuse', phase, reply: user?.reveal ? REPLIES.retiredMoved(user.deliverTo) : REPLIES.retiredRefused(domain) };
  }
}
