// The attribution table. One row per accepted message; rows are never updated,
// only inserted and pruned, so the table is an append-only evidence log.
import type { Migration } from '../store/index.ts';

export const migrations: readonly Migration[] = [
  {
    id: 'accountability/001-attribution',
    sql: `
      CREATE TABLE attribution (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        queue_id TEXT NOT NULL,
        message_id TEXT,
        account TEXT NOT NULL,
        subscriber TEXT,
        client_ip TEXT NOT NULL,
        client_port INTEGER,
        listener TEXT,
        tls_version TEXT,
        tls_cipher TEXT,
        auth_mechanism TEXT,
        sender TEXT,
        recipient_count INTEGER NOT NULL,
        size INTEGER NOT NULL,
        verdicts TEXT
      );
      CREATE INDEX attribution_queue_id ON attribution (queue_id);
      CREATE INDEX attribution_message_id ON attribution (message_id);
      CREATE INDEX attribution_ip_time ON attribution (client_ip, time);
      CREATE INDEX attribution_account ON attribution (account, time);
      -- prune() deletes by age; without this it would scan the whole table.
      CREATE INDEX attribution_time ON attribution (time);
    `,
  },
];
