// One SMTP session: input framing (command lines, SASL lines, DATA, BDAT),
// its lifecycle (greeting, TLS upgrade per RFC 3207 and RFC 8314, shutdown) and
// the transaction state the command files work on. Its replies and their
// backpressure are in output.ts, its timers in timers.ts.
//
// Input is processed strictly in order by one pump; a command's reply is
// decided (handler promises awaited) before the next command is read.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { isUtf8 } from 'node:buffer';
import type { SecureContext } from 'node:tls';
import type { Logger, Reply, Verdict } from '../core/index.ts';
import type { AuthInfo, ListenerOptions, SaslExchange, SessionInfo, SmtpHandler } from './types.ts';
import { upgradeTls } from './tls-upgrade.ts';
import { abortTx, finishBody } from './transaction.ts';
import type { BdatChunk, TxState } from './transaction.ts';
import { R, greeting, shuttingDown, tooManyErrors } from './replies.ts';
import { ReplyOutput } from './output.ts';
import { SessionTimers } from './timers.ts';
import { dispatch } from './commands.ts';
import { authLine } from './cmd-auth.ts';
import { endChunk } from './cmd-data.ts';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;
/** Unprocessed input above which we stop reading the socket (a pipelining flood, a slow handler). */
const INPUT_HIGH_WATER = 256 * 1024;
const MAX_WARNINGS = 10;

export interface SessionHost {
  readonly opts: ListenerOptions;
  readonly handler: SmtpHandler;
  readonly logger: Logger;
  readonly secureContext?: () => SecureContext;
  readonly draining: boolean;
  sessionClosed(s: Session): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type Mode = 'greeting' | 'line' | 'auth' | 'data' | 'bdat' | 'tls' | 'closed';

interface AuthState {
  exchange: SaslExchange;
  mechanism: string;
  /** Waiting for the client's empty line after server-final data (RFC 4954 §4). */
  identity: string | null;
}

export class Session {
  readonly host: SessionHost;
  readonly opts: ListenerOptions;
  readonly handler: SmtpHandler;
  readonly log: Logger;
  readonly info: Mutable<SessionInfo>;
  socket: Socket;
  mode: Mode = 'greeting';
  tx: TxState | null = null;
  auth: AuthState | null = null;
  errors = 0;
  /** Set by a command that ends a pipelining group (RFC 2920 §3.1). */
  groupEnd = false;
  bdat: BdatChunk | null = null;
  readonly output: ReplyOutput;
  readonly timers: SessionTimers;

  private inbuf: Buffer = EMPTY;
  private busy = false;
  /** Input arrived while a step was awaiting a handler: the pump must look at it before it stops. */
  private moreInput = false;
  private discardingLine = false;
  private warnings = 0;
  private readonly onData = (chunk: Buffer): void => this.input(chunk);
  private readonly onSocketError = (err: Error): void => {
    this.log.debug({ err: err.message }, 'socket error');
    this.socket.destroy();
  };
  readonly onSocketClose = (): void => this.finalize();

  constructor(host: SessionHost, socket: Socket) {
    this.host = host;
    this.opts = host.opts;
    this.handler = host.handler;
    this.socket = socket;
    const id = randomBytes(6).toString('base64url');
    this.info = {
      id,
      listener: this.opts.name,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      startedAt: Date.now(),
      tls: null,
      helo: null,
      esmtp: false,
      auth: null,
      messages: 0,
    };
    this.log = host.logger.child({ session: id, remote: this.info.remoteAddress, port: this.info.remotePort, listener: this.opts.name });
    this.output = new ReplyOutput(this);
    this.timers = new SessionTimers(this);
    socket.setNoDelay(true);
    this.attach(socket);
  }

  start(): void {
    this.log.debug({ local: this.info.localAddress, localPort: this.info.localPort }, 'connect');
    if (this.opts.tls !== 'implicit') {
      void this.greet();
      return;
    }
    const ctx = this.tlsContext();
    if (ctx) upgradeTls(this, ctx, () => void this.greet());
    else this.socket.destroy();
  }

  get closed(): boolean {
    return this.mode === 'closed';
  }

  get tlsActive(): boolean {
    return this.info.tls !== null;
  }

  // ---- output -------------------------------------------------------------

  send(r: Reply): void {
    this.output.send(r);
  }

  /** An engine-detected protocol error: counts toward maxErrors. */
  sendError(r: Reply, why?: string): void {
    this.errors++;
    this.send(r);
    if (why) this.warn({ code: r.code, why }, 'protocol error');
  }

  flush(): void {
    this.output.flush();
  }

  warn(obj: object, msg: string): void {
    // RFC 6409 §5.2: log misconfiguration, but do not let a client flood the log.
    this.warnings++;
    if (this.warnings <= MAX_WARNINGS) this.log.warn(obj, msg);
    else if (this.warnings === MAX_WARNINGS + 1) this.log.warn({}, 'further warnings for this session suppressed');
  }

  /** Sends `final` (if any) and everything pending, then ends the connection. */
  close(final?: Reply): void {
    if (this.mode === 'closed') return;
    if (final) this.send(final);
    this.flush();
    this.mode = 'closed';
    this.inbuf = EMPTY;
    abortTx(this, 'session closed');
    this.socket.end();
    // A peer that never closes its side must not hold the slot.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  // ---- handler calls ------------------------------------------------------

  /** Runs a handler call; an exception is a bug: logged, answered 451 4.3.0, null returned. */
  async ask<T>(what: string, fn: () => T | Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      this.log.error({ err, phase: what }, 'handler failed');
      this.send(R.internal);
      return null;
    }
  }

  /** Sends a refusal verdict's reply, closing when it asks to. */
  refuse(v: Verdict & { ok: false }): void {
    if (v.close) this.close(v.reply);
    else this.send(v.reply);
  }

  // ---- input --------------------------------------------------------------

  attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
  }

  detach(socket: Socket): void {
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onSocketError);
    socket.removeListener('close', this.onSocketClose);
  }

  /** Forgets unprocessed input (STARTTLS: nothing sent in plaintext may act after TLS). */
  purgeInput(): void {
    this.inbuf = EMPTY;
    this.discardingLine = false;
  }

  private input(chunk: Buffer): void {
    if (this.mode === 'closed' || this.mode === 'tls') return;
    this.timers.touch();
    this.inbuf = this.inbuf.length ? Buffer.concat([this.inbuf, chunk]) : chunk;
    this.updateFlow();
    void this.pump();
  }

  /** Reads from the socket only while the body consumer keeps up and unprocessed input is small. */
  updateFlow(): void {
    const sink = this.tx?.sink;
    const stop = (sink !== null && sink !== undefined && sink.backpressured) || this.inbuf.length > INPUT_HIGH_WATER || this.output.blocked;
    if (stop) {
      if (!this.socket.isPaused()) this.socket.pause();
    } else if (this.socket.isPaused() && this.mode !== 'closed' && this.mode !== 'tls') {
      this.socket.resume();
    }
  }

  private async pump(): Promise<void> {
    if (this.busy) {
      this.moreInput = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.moreInput = false;
        while (this.inbuf.length > 0 && !this.closed && this.mode !== 'tls' && this.mode !== 'greeting') {
          if (!(await this.step())) break;
          this.output.flushIfLarge();
          if (this.output.backlogged && !(await this.output.drain())) break;
          if (this.errors >= this.opts.maxErrors && !this.closed) {
            this.warn({ errors: this.errors }, 'too many errors');
            this.close(tooManyErrors(this.opts.hostname));
          }
        }
        // A step that awaited (a handler verdict, DATA's 354) may have returned "need more input"
        // while more input arrived meanwhile; without another pass it would wait for the next packet.
      } while (this.moreInput && !this.closed);
    } catch (err) {
      this.log.error({ err }, 'session failed');
      this.close(R.internal);
    } finally {
      this.busy = false;
    }
    this.flush();
    this.updateFlow();
    // Shutting down: a session that just finished its transaction is let go now.
    if (this.host.draining && this.idle) this.close(shuttingDown(this.opts.hostname));
  }

  /** Enters a BDAT chunk: its octets follow the command line immediately. */
  async beginChunk(chunk: BdatChunk): Promise<void> {
    if (chunk.remaining === 0) {
      await endChunk(this, chunk);
      return;
    }
    this.bdat = chunk;
    this.mode = 'bdat';
  }

  /** Processes one unit of input; false when more input is needed. */
  private async step(): Promise<boolean> {
    switch (this.mode) {
      case 'data': {
        const sink = this.tx!.sink!;
        const end = sink.feedDot(this.inbuf);
        if (end < 0) {
          this.inbuf = EMPTY;
          return false;
        }
        this.inbuf = this.inbuf.subarray(end);
        this.mode = 'line';
        await finishBody(this);
        return true;
      }
      case 'bdat': {
        const b = this.bdat!;
        const n = Math.min(b.remaining, this.inbuf.length);
        const sink = this.tx?.sink;
        if (b.fail === null && sink) sink.feedRaw(this.inbuf.subarray(0, n));
        b.remaining -= n;
        this.inbuf = this.inbuf.subarray(n);
        if (b.remaining > 0) return false;
        this.mode = 'line';
        this.bdat = null;
        await endChunk(this, b);
        return true;
      }
      default:
        return this.lineStep();
    }
  }

  private async lineStep(): Promise<boolean> {
    const buf = this.inbuf;
    const limit = this.mode === 'auth' || isAuthCommand(buf) ? this.opts.maxAuthLine : this.opts.maxCommandLine;
    const lf = buf.indexOf(LF);
    if (this.discardingLine) {
      if (lf < 0) {
        this.inbuf = EMPTY;
        return false;
      }
      this.inbuf = buf.subarray(lf + 1);
      this.discardingLine = false;
      this.lineTooLong();
      return true;
    }
    if (lf < 0) {
      if (buf.length >= limit) {
        this.discardingLine = true;
        this.inbuf = EMPTY;
      }
      return false;
    }
    this.inbuf = buf.subarray(lf + 1);
    if (lf + 1 > limit) {
      this.lineTooLong();
      return true;
    }
    const crlf = lf > 0 && buf[lf - 1] === CR;
    const line = buf.subarray(0, crlf ? lf - 1 : lf);
    if (this.mode === 'auth') {
      await authLine(this, line);
      return true;
    }
    await this.commandLine(line, crlf);
    return true;
  }

  private lineTooLong(): void {
    if (this.mode === 'auth') {
      this.auth = null;
      this.mode = 'line';
      this.sendError(R.authLineTooLong, 'AUTH line too long');
    } else {
      this.sendError(R.tooLong, 'command too long');
    }
  }

  private async commandLine(line: Buffer, crlf: boolean): Promise<void> {
    if (!crlf && this.opts.bareLf === 'reject') {
      this.sendError(R.bareLfCommand, 'bare LF in command');
      return;
    }
    if (line.includes(0) || !isUtf8(line)) {
      this.sendError(R.badSyntax, 'NUL or invalid UTF-8 in command');
      return;
    }
    const text = line.toString('utf8');
    this.groupEnd = false;
    await dispatch(this, text);
    if (this.mode === 'closed') return;
    if (this.groupEnd && this.inbuf.length > 0 && this.opts.forbidUnauthPipelining && !this.info.auth) {
      this.warn({ pending: this.inbuf.length }, 'pipelining violation');
      this.close(R.syncError);
    }
  }

  // ---- greeting, TLS ------------------------------------------------------

  private async greet(): Promise<void> {
    if (this.mode === 'closed') return;
    if (this.handler.connect) {
      const v = await this.ask('connect', () => this.handler.connect!(this.info));
      if (this.closed) return;
      if (v === null) return this.close();
      if (!v.ok) return this.close(v.reply);
    }
    if (this.host.draining) return this.close(shuttingDown(this.opts.hostname));
    if (this.inbuf.length > 0 && this.opts.forbidUnauthPipelining) {
      // Talking before the greeting is what spam bots do (Postfix postscreen "pregreet").
      this.warn({ pending: this.inbuf.length }, 'client spoke before greeting');
      return this.close(R.syncError);
    }
    this.send(greeting(this.opts.hostname));
    this.mode = 'line';
    this.flush();
    void this.pump();
  }

  /** The current TLS context, or null when there is none (or it cannot be built). */
  tlsContext(): SecureContext | null {
    try {
      return this.host.secureContext?.() ?? null;
    } catch (err) {
      this.log.error({ err }, 'TLS context unavailable');
      return null;
    }
  }

  setAuth(a: AuthInfo): void {
    this.info.auth = a;
    this.timers.authenticated();
  }

  // ---- state, shutdown ----------------------------------------------------

  /** Nothing of ours is pending: no step awaits a handler and the body consumer keeps up. */
  get waitingForClient(): boolean {
    return !this.busy && !(this.tx?.sink?.backpressured ?? false);
  }

  /** Between transactions and waiting for a command: safe to end for a shutdown. */
  get idle(): boolean {
    return !this.busy && this.mode === 'line' && this.tx === null && this.inbuf.length === 0;
  }

  shutdown(force: boolean): void {
    if (this.mode === 'closed') return;
    if (this.idle || (force && (this.mode === 'line' || this.mode === 'auth'))) this.close(shuttingDown(this.opts.hostname));
    else if (force) this.socket.destroy();
  }

  private finalized = false;
  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.mode = 'closed';
    this.timers.stop();
    abortTx(this, 'connection closed');
    try {
      this.handler.close?.(this.info);
    } catch (err) {
      this.log.error({ err }, 'handler close failed');
    }
    this.log.debug({ messages: this.info.messages, errors: this.errors, bytesIn: this.socket.bytesRead, bytesOut: this.socket.bytesWritten }, 'disconnect');
    this.host.sessionClosed(this);
  }
}

function isAuthCommand(buf: Buffer): boolean {
  return buf.length >= 5 && (buf[0] | 0x20) === 0x61 && (buf[1] | 0x20) === 0x75 && (buf[2] | 0x20) === 0x74 && (buf[3] | 0x20) === 0x68 && buf[4] === 0x20;
}
