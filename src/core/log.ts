// The logger shape every part receives. pino satisfies it; tests pass a
// recording logger. Parts never create loggers or read the environment.

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

const noop = (): void => {};
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

/** Keeps every record in memory; for tests. */
export class MemoryLogger implements Logger {
  readonly records: Array<{ level: string; msg?: string } & Record<string, unknown>>;
  private readonly bindings: object;
  constructor(records: MemoryLogger['records'] = [], bindings: object = {}) {
    this.records = records;
    this.bindings = bindings;
  }
  private add(level: string, obj: object, msg?: string): void {
    this.records.push({ level, ...this.bindings, ...obj, msg });
  }
  debug(obj: object, msg?: string): void { this.add('debug', obj, msg); }
  info(obj: object, msg?: string): void { this.add('info', obj, msg); }
  warn(obj: object, msg?: string): void { this.add('warn', obj, msg); }
  error(obj: object, msg?: string): void { this.add('error', obj, msg); }
  child(bindings: object): Logger { return new MemoryLogger(this.records, { ...this.bindings, ...bindings }); }
}
