// Connections by destination (the smarthost, or one recipient domain): at most
// `limit` transactions in flight per destination at once (Postfix's
// destination concurrency), so one large domain neither takes every slot nor
// floods a small MX; finished connections wait idle for the next message to
// the same destination. Idle ones never outnumber the busy peak, so the open
// connections per destination stay within the limit too.
import type { Client } from './client.ts';

export interface Hop {
  client: Client;
  /** Name of the host we talk to, for logs and the DSN Remote-MTA field. */
  remote: string;
  sent: number;
  timer?: NodeJS.Timeout;
}

interface Dest { busy: number; idle: Hop[]; waiters: Array<() => void> }

export class Pool {
  private readonly dests = new Map<string, Dest>();
  private readonly maxPerConnection: number;
  private readonly idleMs: number;

  constructor(maxPerConnection: number, idleMs: number) {
    this.maxPerConnection = maxPerConnection;
    this.idleMs = idleMs;
  }

  private dest(key: string): Dest {
    let d = this.dests.get(key);
    if (!d) { d = { busy: 0, idle: [], waiters: [] }; this.dests.set(key, d); }
    return d;
  }

  /** Waits for a free slot for this destination; call the returned function exactly once. */
  async slot(key: string, limit: number): Promise<() => void> {
    const d = this.dest(key);
    // A released slot is handed straight to the next waiter, so nobody can overtake it.
    if (d.busy < limit) d.busy++;
    else await new Promise<void>((r) => d.waiters.push(r));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = d.waiters.shift();
      if (next) { next(); return; }
      d.busy--;
      this.forget(key, d);
    };
  }

  /** An idle, still open connection to this destination, if any. */
  take(key: string): Hop | undefined {
    const d = this.dests.get(key);
    while (d?.idle.length) {
      const h = d.idle.pop()!;
      clearTimeout(h.timer);
      if (h.client.alive) return h;
    }
    return undefined;
  }

  /** Returns a connection after one transaction: kept idle, or closed. */
  put(key: string, h: Hop, reusable: boolean): void {
    h.sent++;
    if (!reusable || !h.client.alive || h.sent >= this.maxPerConnection) { h.client.quit(); return; }
    const d = this.dest(key);
    h.timer = setTimeout(() => {
      const i = d.idle.indexOf(h);
      if (i >= 0) d.idle.splice(i, 1);
      h.client.quit();
      this.forget(key, d);
    }, this.idleMs);
    h.timer.unref();
    d.idle.push(h);
  }

  private forget(key: string, d: Dest): void {
    if (!d.busy && !d.idle.length && !d.waiters.length && this.dests.get(key) === d) this.dests.delete(key);
  }

  /** Idle connections kept for a destination. */
  idleCount(key: string): number {
    return this.dests.get(key)?.idle.length ?? 0;
  }

  closeIdle(): void {
    for (const [key, d] of this.dests) {
      for (const h of d.idle.splice(0)) { clearTimeout(h.timer); h.client.quit(); }
      this.forget(key, d);
    }
  }
}
