// The hourly statistics table: one row per (hour start, series, label), the
// count (or the gauge's highest sample) of that hour. Written by upserts that
// add (or keep the larger), so two nodes on one PostgreSQL add up.
import type { DbMigration } from '../store/index.ts';

export const STATS_MIGRATIONS: readonly DbMigration[] = [
  {
    id: 'stats/001-hourly',
    sqlite: `
      CREATE TABLE stats_hourly (
        hour INTEGER NOT NULL,
        series TEXT NOT NULL,
        label TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (series, hour, label)
      );
      -- prune() deletes by age across every series.
      CREATE INDEX stats_hourly_hour ON stats_hourly (hour);
    `,
    postgres: `
      CREATE TABLE stats_hourly (
        hour BIGINT NOT NULL,
        series TEXT NOT NULL,
        label TEXT NOT NULL,
        value BIGINT NOT NULL,
        PRIMARY KEY (series, hour, label)
      );
      CREATE INDEX stats_hourly_hour ON stats_hourly (hour);
    `,
  },
];
