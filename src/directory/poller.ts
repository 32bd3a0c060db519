// Calls `once` every `ms` until stopped, one call at a time (the next waits for
// the last to finish); a failure is reported and the polling goes on. The same
// failure again and again (a file that stays unreadable) is reported once,
// until a call succeeds or the failure changes.
export class Poller {
  private readonly once: () => Promise<unknown>;
  private readonly ms: number;
  private readonly onError: (err: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private lastError: string | undefined;

  constructor(once: () => Promise<unknown>, ms: number, onError: (err: unknown) => void) {
    this.once = once;
    this.ms = ms;
    this.onError = onError;
  }

  start(): void {
    this.stopped = false;
    this.tick();
  }

  private tick(): void {
    this.running = this.once().then(() => { this.lastError = undefined; }, (err: unknown) => {
      if (String(err) !== this.lastError) this.onError(err);
      this.lastError = String(err);
    }).finally(() => {
      this.running = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.ms);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
