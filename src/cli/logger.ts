// JSON logs on stdout via pino: one line per event, one line per transaction.
import { pino } from 'pino';
import type { Logger } from '../core/index.ts';

export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'portwarden' }, timestamp: pino.stdTimeFunctions.isoTime }) as unknown as Logger;
}
