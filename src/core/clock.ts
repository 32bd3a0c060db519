// Time comes from a Clock so that windows, retries and expiries are testable
// on a controlled clock.
export interface Clock {
  now(): number; // milliseconds since the epoch
}
export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  private t: number;
  constructor(start = Date.UTC(2026, 0, 1)) { this.t = start; }
  now(): number { return this.t; }
  advance(ms: number): void { this.t += ms; }
  set(ms: number): void { this.t = ms; }
}
