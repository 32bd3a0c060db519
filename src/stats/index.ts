// stats: the hourly statistics the console's charts and the `stats.series`
// operation show: messages accepted, held and refused, refusals by reason (the
// reply catalogue's key), limit hits and floods, AUTH failures and lockouts,
// blocked port-25 packets per edge, cases opened and closed, the queue's size.
//
// One table of (hour start, series, label, value) on the state store (SQLite or
// PostgreSQL), written by upserts that add (gauges keep the larger), fed by a
// subscriber of the event bus through an in-memory recorder flushed every few
// seconds: the mail path pays a map increment, not a write. Rows older than
// `stats.retentionDays` are pruned.
//
// Trusts: the events it is given (labels are cut to printable ASCII and a
// bounded length, and their number per series and hour is capped); the store.
// Whoever prints a label escapes it.
export { SERIES, SERIES_NAMES, HOUR_MS, DAY_MS, hourOf, cleanLabel, type SeriesDef, type SeriesKind, type SeriesName } from './series.ts';
export { StatsStore, MAX_BUCKETS, type Points, type PointsQuery, type SeriesPoints, type StatsRow, type Step } from './store.ts';
export { StatsRecorder, type RecorderOptions } from './recorder.ts';
export { subscribeStats, type StatsSubscribeOptions } from './subscribe.ts';
export { STATS_MIGRATIONS } from './schema.ts';
