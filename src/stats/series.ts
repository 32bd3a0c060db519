// The series the statistics store keeps, declared once: the subscriber feeds
// each (subscribe.ts), the operation and the charts page list them from here.
// A counter adds up what happened in an hour; a gauge keeps the hour's highest
// sample (the queue's size).

export type SeriesKind = 'counter' | 'gauge';

export interface SeriesDef {
  kind: SeriesKind;
  /** What the labels of the series are. */
  labels: string;
  /** What it counts, for the API document and the charts' alternative text. */
  summary: string;
}

export const SERIES = {
  messages: { kind: 'counter', labels: 'accepted, held or refused', summary: 'messages per outcome of their transaction' },
  refusals: { kind: 'counter', labels: 'the reply catalogue entry (e.g. authRequired, limited, senderNotOwned)', summary: 'SMTP refusals at MAIL, RCPT and the end of data, by reason' },
  'limit-hits': { kind: 'counter', labels: 'the limit rule (or "unavailable" when the limit store could not answer)', summary: 'sending limits that refused or held a message or recipient' },
  'limit-floods': { kind: 'counter', labels: 'the flood rule', summary: 'mail floods detected' },
  'auth-failures': { kind: 'counter', labels: 'failure, locked, disabled or error', summary: 'failed AUTH exchanges' },
  'auth-lockouts': { kind: 'counter', labels: 'what was locked: ip, prefix, prefix56, prefix48 or account', summary: 'brute-force lockouts' },
  'edge-blocked': { kind: 'counter', labels: 'the edge', summary: 'blocked outbound port-25 packets reported by the edges' },
  cases: { kind: 'counter', labels: 'opened or closed', summary: 'abuse cases opened and closed' },
  queue: { kind: 'gauge', labels: 'active, deferred or hold', summary: 'messages in the queue (highest sample of the hour)' },
} as const satisfies Record<string, SeriesDef>;

export type SeriesName = keyof typeof SERIES;
export const SERIES_NAMES = Object.keys(SERIES) as SeriesName[];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The start of the UTC hour holding `ms`. */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** Labels come from events: a bounded, printable text ("other" when there is none). */
export function cleanLabel(s: string | null | undefined): string {
  if (s === null || s === undefined) return 'other';
  const t = s.replace(/[^\x21-\x7e]/g, '?').slice(0, 100);
  return t || 'other';
}
