// `serve()` as an ordered list of services. Each starts after the ones before
// it and stops before them (reverse order), so a listener never outlives what
// it hands work to, and a start that fails half way stops what already runs.
import type { Logger } from '../core/index.ts';

export interface Service {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export class Services {
  private readonly started: Service[] = [];
  private readonly logger: Logger;
  constructor(logger: Logger) {
    this.logger = logger;
  }

  /** Starts each service in order; on a failure stops those already started and rethrows. */
  async start(list: readonly Service[]): Promise<void> {
    for (const s of list) {
      try {
        await s.start();
      } catch (err) {
        await this.stop();
        throw err;
      }
      this.started.push(s);
    }
  }

  /** Stops in reverse order; one service failing to stop is logged and the rest still stop. */
  async stop(): Promise<void> {
    while (this.started.length) {
      const s = this.started.pop()!;
      try {
        await s.stop();
      } catch (err) {
        this.logger.error({ event: 'stopping', service: s.name, err: String(err) }, 'a service failed to stop');
      }
    }
  }

  names(): string[] {
    return this.started.map((s) => s.name);
  }
}
