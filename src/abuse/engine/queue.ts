// The bounded signal queue between ingest (synchronous, any caller's turn) and
// the drain loop: a ring of fixed capacity, so a burst of signals can never
// grow memory (IntelMQ's Redis OOM when parsers outrun outputs); beyond it a
// signal is refused and counted.
import type { Signal } from '../types.ts';

export class SignalQueue {
  private readonly ring: Array<Signal | undefined>;
  private head = 0;
  private size = 0;
  private droppedCount = 0;

  constructor(capacity: number) {
    this.ring = new Array<Signal | undefined>(Math.max(1, Math.trunc(capacity)));
  }

  get length(): number { return this.size; }
  get dropped(): number { return this.droppedCount; }

  /** Counts a signal refused for another reason (the engine stopped) as dropped. */
  refuse(): false { this.droppedCount++; return false; }

  push(s: Signal): boolean {
    if (this.size === this.ring.length) { this.droppedCount++; return false; }
    this.ring[(this.head + this.size) % this.ring.length] = s;
    this.size++;
    return true;
  }

  /** Takes up to n signals, oldest first. */
  take(n: number): Signal[] {
    const k = Math.min(n, this.size);
    const out = new Array<Signal>(k);
    for (let i = 0; i < k; i++) {
      out[i] = this.ring[this.head] as Signal;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
    }
    this.size -= k;
    return out;
  }
}
