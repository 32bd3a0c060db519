// Test helpers for the smtp engine's tests: a recording handler, a server on
// loopback, a throwaway certificate. The client is the tests' one scripted SMTP
// client, test/lib/smtpclient.ts (RawClient).
// Not part of the public API (not exported from index.ts).
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
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
