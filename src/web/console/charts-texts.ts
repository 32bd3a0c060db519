// The texts of the console's charts page (charts.ts, charts-svg.ts), kept
// together so they can be translated.
import type { SeriesName } from '../../stats/index.ts';

export const CHARTS = {
  title: 'Charts',
  intro: 'What portwarden counted, hour by hour (UTC). Each chart is followed by its figures as a table.',
  periodLegend: 'Period',
  periods: { '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days', range: 'From … to …' } as Record<string, string>,
  from: 'From (date, UTC)',
  to: 'To (date, UTC, included)',
  dateHint: 'YYYY-MM-DD',
  show: 'Show',
  badDate: 'Give a date as YYYY-MM-DD, for example 2026-12-01.',
  needFrom: 'Give the first day of the period.',
  toBeforeFrom: 'The last day must not be before the first.',
  tooLong: 'At most 400 days at a time.',
  notSignedInTitle: 'Not signed in',
  notSignedIn: 'Sign in to see the charts.',
  signIn: 'Sign in',
  nothing: 'Nothing was counted in this period.',
  figures: 'Figures of this chart',
  time: 'Time (UTC)',
  total: 'Total',
  highest: 'Highest',
  byHour: 'per hour',
  byDay: 'per day',
  showing: (from: string, to: string, step: string) => `From ${from} to ${to} UTC, ${step}.`,
  unavailable: 'The statistics are not available here: ',
  other: (n: number) => `${n} more labels`,
  summaryCounter: (title: string, total: number, parts: string, peak: number, at: string) =>
    `${title}: ${total} in all${parts ? ` (${parts})` : ''}; at most ${peak} in one bucket, at ${at}.`,
  summaryGauge: (title: string, parts: string, peak: number, at: string) =>
    `${title}: highest ${peak} at ${at}${parts ? ` (${parts})` : ''}.`,
  summaryEmpty: (title: string) => `${title}: nothing counted in this period.`,
  series: {
    messages: 'Messages by outcome',
    refusals: 'Refusals by reason',
    'limit-hits': 'Sending limit hits by rule',
    'limit-floods': 'Mail floods by rule',
    'auth-failures': 'Failed logins by kind',
    'auth-lockouts': 'Login lockouts by what was locked',
    'edge-blocked': 'Blocked port-25 packets by edge',
    cases: 'Abuse cases opened and closed',
    queue: 'Queue size (highest sample)',
  } satisfies Record<SeriesName, string>,
};
