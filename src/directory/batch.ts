// Group commit for the directory's writes: writes that arrive while one
// transaction is running wait and then share the next one (RADIUS sends
// Interim-Updates for every session every few minutes; one commit each would
// cap the rate at what the disk commits per second). Each write runs inside its
// own savepoint, so a refused one (a conflict, an end before the start) rolls
// back alone and the rest commit. Results are applied (index, bus) in order,
// after the commit.
import type { Db, Store } from '../store/index.ts';
import type { Changes } from './assign.ts';

const MAX_BATCH = 256;

interface Job {
  run(tx: Db): Promise<{ value: unknown; changes: Changes }>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type Outcome = { ok: true; value: unknown; changes: Changes } | { ok: false; error: unknown };

export class WriteBatcher {
  private readonly store: Store;
  private readonly serial: (fn: () => Promise<void>) => Promise<void>;
  private readonly applied: (ch: Changes) => void;
  private readonly queue: Job[] = [];
  private scheduled = false;

  constructor(store: Store, serial: (fn: () => Promise<void>) => Promise<void>, applied: (ch: Changes) => void) {
    this.store = store;
    this.serial = serial;
    this.applied = applied;
  }

  write<T>(run: (tx: Db) => Promise<{ value: T; changes: Changes }>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      void this.serial(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    while (this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      let outcomes: Outcome[] = [];
      try {
        await this.store.transaction(async (tx) => {
          outcomes = [];
          if (batch.length === 1) { outcomes.push({ ok: true, ...(await batch[0].run(tx)) }); return; }
          for (const job of batch) outcomes.push(await this.alone(tx, job));
        });
      } catch (error) {
        for (const job of batch) job.reject(error);
        continue;
      }
      batch.forEach((job, i) => {
        const o = outcomes[i];
        if (!o.ok) { job.reject(o.error); return; }
        this.applied(o.changes);
        job.resolve(o.value);
      });
    }
  }

  private async alone(tx: Db, job: Job): Promise<Outcome> {
    await tx.run('SAVEPOINT directory_write');
    try {
      const r = await job.run(tx);
      await tx.run('RELEASE SAVEPOINT directory_write');
      return { ok: true, ...r };
    } catch (error) {
      await tx.run('ROLLBACK TO SAVEPOINT directory_write');
      await tx.run('RELEASE SAVEPOINT directory_write');
      return { ok: false, error };
    }
  }
}
