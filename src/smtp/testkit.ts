// Test helpers for the smtp engine's tests: a recording handler, a raw
// byte-exact client (net, upgradable to TLS), a throwaway certificate.
// Not part of the public API (not exported from index.ts).
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { accept, refuse, reply, MemoryLogger } from '../core/index.ts';
import type { Verdict } from '../core/index.ts';
import { SmtpServer, defaultListenerOptions } from './index.ts';
import type { ListenerOptions, MailFrom, RcptTo, SaslExchange, SaslStep, SessionInfo, SmtpHandler, Transaction } from './index.ts';

export interface Message {
  from: MailFrom;
  to: RcptTo[];
  mode: 'data' | 'bdat' | null;
  body: Buffer;
}

/** Accepts everything except addresses starting with "reject"; records every call. */
export class RecordingHandler implements SmtpHandler {
  calls: string[] = [];
  messages: Message[] = [];
  bodyErrors: Error[] = [];
  authInputs: Array<Buffer | null> = [];
  mechanisms = ['PLAIN', 'SCRAMLIKE'];
  /** Delay per body chunk (a slow consumer). */
  chunkDelayMs = 0;
  onData?: (body: Readable) => Promise<Verdict>;
  helo?: SmtpHandler['helo'];
  connect?: SmtpHandler['connect'];
  close?: SmtpHandler['close'];

  authMechanisms(): readonly string[] {
    return this.mechanisms;
  }

  authStart(_s: SessionInfo, mechanism: string): SaslExchange | null {
    this.calls.push(`authStart ${mechanism}`);
    const inputs = this.authInputs;
    if (mechanism === 'PLAIN') {
      let asked = false;
      return {
        step: async (input): Promise<SaslStep> => {
          inputs.push(input);
          if (input === null && !asked) {
            asked = true;
            return { type: 'challenge', data: Buffer.alloc(0) };
          }
          const [, user, pass] = (input ?? Buffer.alloc(0)).toString('utf8').split('\0');
          if (user === 'user' && pass === 'pass') return { type: 'success', identity: user };
          return { type: 'failure', reply: reply(535, '5.7.8', 'Error: authentication failed') };
        },
      };
    }
    if (mechanism === 'SCRAMLIKE') {
      let n = 0;
      return {
        step: async (input): Promise<SaslStep> => {
          inputs.push(input);
          n++;
          if (n === 1) return { type: 'challenge', data: Buffer.from('first-challenge') };
          if (input?.toString() === 'proof') return { type: 'success', identity: 'scram-user', data: Buffer.from('v=server-final') };
          return { type: 'failure', reply: reply(535, '5.7.8', 'Error: authentication failed') };
        },
      };
    }
    return null;
  }

  mailFrom(_s: SessionInfo, from: MailFrom): Verdict {
    this.calls.push(`mail ${from.address}`);
    return from.address.startsWith('reject') ? refuse(reply(550, '5.7.1', 'Sender refused')) : accept();
  }

  rcptTo(_s: SessionInfo, _tx: Transaction, rcpt: RcptTo): Verdict {
    this.calls.push(`rcpt ${rcpt.address}`);
    return rcpt.address.startsWith('reject') ? refuse(reply(550, '5.7.1', 'Recipient refused')) : accept();
  }

  async data(_s: SessionInfo, tx: Transaction, body: Readable): Promise<Verdict> {
    this.calls.push('data');
    if (this.onData) return this.onData(body);
    const parts: Buffer[] = [];
    try {
      for await (const chunk of body) {
        parts.push(chunk as Buffer);
        if (this.chunkDelayMs) await new Promise((r) => setTimeout(r, this.chunkDelayMs));
      }
    } catch (err) {
      this.bodyErrors.push(err as Error);
      throw err;
    }
    this.messages.push({ from: tx.mailFrom, to: [...tx.rcptTo], mode: tx.bodyMode, body: Buffer.concat(parts) });
    return accept();
  }

  reset(): void {
    this.calls.push('reset');
  }
}

export interface Harness {
  server: SmtpServer;
  port: number;
  handler: RecordingHandler;
  logger: MemoryLogger;
  stop(): Promise<void>;
}

export async function startServer(
  partial: Partial<ListenerOptions> = {},
  opts: { handler?: RecordingHandler; secureContext?: SecureContext } = {},
): Promise<Harness> {
  const handler = opts.handler ?? new RecordingHandler();
  const logger = new MemoryLogger();
  const ctx = opts.secureContext;
  const server = new SmtpServer({
    listeners: [defaultListenerOptions({ name: 'test', host: '127.0.0.1', port: 0, hostname: 'mx.test', ...partial })],
    handler,
    logger,
    ...(ctx ? { secureContext: () => ctx } : {}),
  });
  await server.listen();
  return { server, port: server.addresses()[0].port, handler, logger, stop: () => server.close() };
}

/** A byte-exact SMTP client. Replies are parsed from a latin1 buffer. */
export class Client {
  socket: Socket | TLSSocket;
  private buf = '';
  private ended = false;
  private waiters: Array<() => void> = [];
  private readonly onData = (d: Buffer): void => {
    this.buf += d.toString('latin1');
    this.wake();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake();
  };

  private constructor(socket: Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host }, () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }

  static connectTls(port: number, options: ConnectionOptions = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options }, () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }

  private listen(s: Socket): void {
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('close', this.onEnd);
    s.on('error', this.onEnd);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /** Reads one complete (possibly multi-line) reply. */
  async reply(timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return m[0];
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.ended) throw new Error(`no complete reply (have ${JSON.stringify(this.buf.slice(0, 200))}, ended=${this.ended})`);
      await this.wait(left);
    }
  }

  async replies(n: number, timeoutMs = 3000): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.reply(timeoutMs));
    return out;
  }

  /** Sends a line (CRLF added) and returns the reply. */
  async cmd(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Whatever arrives within `ms` (without consuming it as a reply). */
  async collect(ms: number): Promise<string> {
    const end = Date.now() + ms;
    while (Date.now() < end && !this.ended) await this.wait(end - Date.now());
    const out = this.buf;
    this.buf = '';
    return out;
  }

  /** Resolves true once the server has closed the connection (false on timeout). */
  async closed(timeoutMs = 3000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < end) await this.wait(end - Date.now());
    return this.ended;
  }

  /** Upgrades after a 220 to STARTTLS. */
  upgrade(options: ConnectionOptions = {}): Promise<void> {
    const plain = this.socket as Socket;
    plain.removeListener('data', this.onData);
    plain.removeListener('end', this.onEnd);
    plain.removeListener('close', this.onEnd);
    plain.removeListener('error', this.onEnd);
    this.buf = '';
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ socket: plain, rejectUnauthorized: false, ...options }, () => resolve());
      s.once('error', reject);
      this.socket = s;
      this.listen(s);
    });
  }

  end(): void {
    this.socket.destroy();
  }
}

let certCache: { key: Buffer; cert: Buffer } | null = null;

/** A throwaway self-signed P-256 certificate for localhost. */
export function testCert(): { key: Buffer; cert: Buffer; context: SecureContext } {
  if (!certCache) {
    const dir = mkdtempSync(join(tmpdir(), 'pw-smtp-cert-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      certCache = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { ...certCache, context: createSecureContext({ ...certCache, minVersion: 'TLSv1.2' }) };
}

export const code = (r: string): string => r.slice(0, 3);
export const ehloKeywords = (r: string): string[] =>
  r.trim().split(/\r\n/).slice(1).map((l) => l.slice(4).split(' ')[0]);
