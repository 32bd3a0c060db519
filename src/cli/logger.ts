// JSON logs via pino: one line per event (cli/log-events.ts makes them from the
// bus), to stdout (the default; under systemd that is the journal), or to a file
// (`log.file`, reopened on SIGHUP after logrotate moved it), and optionally
// also to a syslog collector over UDP (`log.syslog: udp://host:port`, RFC 5424
// framing, RFC 5426 transport). Node has no unix datagram sockets, so
// `/dev/log` cannot be written to directly: run rsyslog/syslog-ng with a UDP
// input on loopback, or use the journal (stdout).
import { createSocket, type Socket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../core/index.ts';

export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'portwarden' }, timestamp: pino.stdTimeFunctions.isoTime }) as unknown as Logger;
}

export interface LogSinkOptions {
  level: string;
  file?: string;
  syslog?: string;
}

export interface LogSink {
  logger: Logger;
  /** SIGHUP: reopen the file (logrotate moved it). */
  reopen(): void;
  /** Flushes what is buffered. */
  close(): Promise<void>;
}

/** "udp://host:port" (a bracketed IPv6 host allowed) → host and port; null when it is not one. */
export function parseSyslogUrl(url: string): { host: string; port: number } | null {
  const m = /^udp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(url);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

export function createLogSink(o: LogSinkOptions): LogSink {
  // Written synchronously, as pino writes stdout: a line is in the file (the page cache) when the call
  // returns, a reopen takes effect at once, and the thread pool stays free for the spool's fsyncs.
  if (o.file) {
    // Opened once here so that a wrong path stops the start with one clear line, not an async error later.
    try { closeSync(openSync(o.file, 'a', 0o640)); } catch (err) { throw new Error(`cannot open log.file ${o.file}: ${(err as Error).message}`); }
  }
  const file = o.file ? pino.destination({ dest: o.file, sync: true, mkdir: false, append: true, mode: 0o640 }) : null;
  // A failing disk must not end the process through an unhandled 'error' event; say it where someone may see it.
  file?.on('error', (err: Error) => { try { process.stderr.write(`portwarden: log.file ${o.file}: ${err.message}\n`); } catch { /* nowhere left */ } });
  type Stream = pino.DestinationStream;
  const streams: Array<{ stream: Stream; level: pino.Level }> = [{ stream: (file ?? pino.destination(1)) as Stream, level: o.level as pino.Level }];
  const sys = o.syslog ? new SyslogStream(o.syslog) : null;
  if (sys) streams.push({ stream: sys as unknown as Stream, level: o.level as pino.Level });
  const dest = streams.length === 1 ? streams[0].stream : pino.multistream(streams);
  const logger = pino({ level: o.level, base: { svc: 'portwarden' }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  return {
    logger: logger as unknown as Logger,
    reopen: () => file?.reopen(),
    close: async () => {
      if (file) { file.flushSync(); file.destroy(); }
      sys?.close();
    },
  };
}

const SEVERITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };
/** RFC 5426 §3.2: a receiver must take 480 bytes and should take 2048; loopback and LANs take more. */
const MAX_DATAGRAM = 8192;
const FACILITY_MAIL = 2;

/** One JSON log line → one RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG. */
export function syslogFrame(line: string, host: string, pid: number, now: Date = new Date()): Buffer {
  let level = 30, event = '-';
  try {
    const rec = JSON.parse(line) as { level?: number; event?: unknown };
    if (typeof rec.level === 'number') level = rec.level;
    // MSGID: 1*32 PRINTUSASCII; our event names are of that shape already, anything else is '-'.
    if (typeof rec.event === 'string' && /^[\x21-\x7e]{1,32}$/.test(rec.event)) event = rec.event;
  } catch { /* not JSON: sent as it is, at info */ }
  const pri = FACILITY_MAIL * 8 + (SEVERITY[level] ?? 6);
  const head = Buffer.from(`<${pri}>1 ${now.toISOString()} ${host} portwarden ${pid} ${event} - `, 'ascii');
  const msg = Buffer.from(line.replace(/\n$/, ''), 'utf8');
  return Buffer.concat([head, msg.subarray(0, Math.max(0, MAX_DATAGRAM - head.length))]);
}

/** A pino destination that sends each line as one datagram; a lost datagram is lost (UDP), never a blocked server. */
class SyslogStream extends Writable {
  private readonly socket: Socket;
  private readonly host: string;
  private readonly port: number;
  private readonly name = (hostname().split('.')[0] || '-').replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  private pending = '';
  constructor(url: string) {
    super({ decodeStrings: false });
    const t = parseSyslogUrl(url);
    if (!t) throw new Error(`log.syslog: expected udp://host:port, got ${JSON.stringify(url)}`);
    this.host = t.host;
    this.port = t.port;
    this.socket = createSocket(t.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('error', () => { /* the collector is away: nothing to do but drop */ });
    this.socket.unref();
  }
  override _write(chunk: string | Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending += chunk.toString();
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (line) this.socket.send(syslogFrame(line, this.name, process.pid), this.port, this.host);
    }
    cb();
  }
  close(): void { try { this.socket.close(); } catch { /* closed */ } }
}
