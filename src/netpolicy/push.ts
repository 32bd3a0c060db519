// Long-poll push: an edge that already runs version V asks "answer when the
// policy is no longer V, or after N seconds". The request waits here, one per
// edge (an edge's second wait replaces its first), at most maxWaiters in all,
// and every waiter is answered when the endpoint closes. A waiter is woken by
// poke() — the endpoint pokes on the bus's policy.changed — and by a recheck
// every recheckMs while anyone waits, because some changes publish nothing in
// this process: a `portwarden policy` command writing the store directly, an
// exemption that expires, another server node on the same PostgreSQL.
// Trusts the caller for the edge name (the token named it) and bounds the rest.

export interface Current { version: string; body: string }

/** How a wait ended. "full" and "closed" are answered at once, without holding. */
export type WaitOutcome =
  | { kind: 'changed'; current: Current }
  | { kind: 'timeout' }
  | { kind: 'replaced' }
  | { kind: 'full' }
  | { kind: 'closed' }
  | { kind: 'cancelled' };

export interface PushOptions {
  /** Most requests held at once; more are answered at once (the agent then pulls on its interval). */
  maxWaiters: number;
  /** The recheck period while anyone waits. */
  recheckMs: number;
  /** Reports a failed check (the waiters stay; the next poke or recheck tries again). */
  onError: (err: unknown) => void;
}

interface Waiter { have: string; timer: NodeJS.Timeout; settle: (o: WaitOutcome) => void }

export class PolicyWaiters {
  private readonly current: () => Promise<Current>;
  private readonly o: PushOptions;
  private readonly waiters = new Map<string, Waiter>();
  private recheck: NodeJS.Timeout | undefined;
  private checking = false;
  private again = false;
  private closed = false;

  constructor(current: () => Promise<Current>, opts: PushOptions) {
    this.current = current;
    this.o = opts;
  }

  get size(): number { return this.waiters.size; }

  /**
   * Holds until the policy's version is not `have`, or `ms` pass. The waiter is registered before the
   * first check, so a change committed at any moment around the call is seen by one or the other.
   * `cancel` ends it without an answer (the connection went away).
   */
  wait(edge: string, have: string, ms: number): { outcome: Promise<WaitOutcome>; cancel: () => void } {
    if (this.closed) return { outcome: Promise.resolve({ kind: 'closed' }), cancel: () => {} };
    const prior = this.waiters.get(edge);
    if (!prior && this.waiters.size >= this.o.maxWaiters) return { outcome: Promise.resolve({ kind: 'full' }), cancel: () => {} };
    prior?.settle({ kind: 'replaced' });
    let settle!: (o: WaitOutcome) => void;
    const outcome = new Promise<WaitOutcome>((resolve) => {
      const w: Waiter = {
        have,
        timer: setTimeout(() => w.settle({ kind: 'timeout' }), ms),
        settle: (o) => {
          clearTimeout(w.timer);
          if (this.waiters.get(edge) === w) this.waiters.delete(edge);
          if (!this.waiters.size) { clearInterval(this.recheck); this.recheck = undefined; }
          resolve(o);
        },
      };
      settle = w.settle;
      this.waiters.set(edge, w);
    });
    this.recheck ??= setInterval(() => this.poke(), this.o.recheckMs);
    this.recheck.unref?.();
    this.poke();
    return { outcome, cancel: () => settle({ kind: 'cancelled' }) };
  }

  /** The policy may have changed: one check for every waiter (calls during a check coalesce into one more). */
  poke(): void {
    if (!this.waiters.size || this.closed) return;
    if (this.checking) { this.again = true; return; }
    this.checking = true;
    void this.check().finally(() => {
      this.checking = false;
      if (this.again) { this.again = false; this.poke(); }
    });
  }

  private async check(): Promise<void> {
    let cur: Current;
    try { cur = await this.current(); } catch (err) { this.o.onError(err); return; }
    for (const w of [...this.waiters.values()]) if (w.have !== cur.version) w.settle({ kind: 'changed', current: cur });
  }

  /** Answers every waiter ("closed") and refuses new ones: the listener is shutting down. */
  close(): void {
    this.closed = true;
    for (const w of [...this.waiters.values()]) w.settle({ kind: 'closed' });
    clearInterval(this.recheck);
  }
}
