// Test helpers for this folder only: a SubmissionHandler over the real
// MessageFixer and in-memory fakes for accounts, spool and limits, so that a
// unit test can drive MAIL, RCPT and DATA as the SMTP engine would.
import { Readable, Writable } from 'node:stream';
import { ManualClock, silentLogger, type Verdict } from '../core/index.ts';
import { MessageFixer, buildReceived, protocolName } from '../message/index.ts';
import type { MailFrom, RcptTo, SessionInfo, Transaction } from '../smtp/index.ts';
import { SubmissionHandler, type SubmissionDeps, type SubmissionOptions } from './handler.ts';
import type { FixerPort, LimitContext, LimitsPort, SpoolEnvelope, SpoolPort } from './ports.ts';

export const ACCOUNT = 'alice@isp.example';
export const OWNED = new Set(['alice@isp.example', 'a.smith@isp.example']);

export interface Kit {
  handler: SubmissionHandler;
  /** Committed messages; `hold` is the reason when the commit went to hold/. */
  spooled: Array<{ envelope: SpoolEnvelope; data: Buffer; hold?: string }>;
  /** Units taken minus units refunded, per counter. */
  charged: { messages: number; recipients: number };
  session(auth?: boolean, ip?: string): SessionInfo;
  /** MAIL, RCPTs and DATA of one transaction; returns the verdict of the last step that ran. */
  send(s: SessionInfo, from: string, to: string[], message: string, opts?: { smtputf8?: boolean }): Promise<Verdict>;
}

export function addr(a: string): { address: string; localPart: string; domain: string; utf8: boolean } {
  const at = a.lastIndexOf('@');
  return { address: a, localPart: at < 0 ? a : a.slice(0, at), domain: at < 0 ? '' : a.slice(at + 1), utf8: /[^\x00-\x7f]/.test(a) };
}

export function makeKit(opts: Partial<SubmissionOptions> = {}, extra: Partial<Pick<SubmissionDeps, 'postmaster' | 'decision' | 'bus'>> = {}): Kit {
  const spooled: Kit['spooled'] = [];
  const charged = { messages: 0, recipients: 0 };
  const spool: SpoolPort = {
    create(envelope) {
      const parts: Buffer[] = [];
      const stream = new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } });
      return { id: `Q${spooled.length + 1}`, stream, async commit(o) { spooled.push({ envelope, data: Buffer.concat(parts), ...(o?.hold !== undefined ? { hold: o.hold } : {}) }); }, async abort() {} };
    },
  };
  const fixer: FixerPort = {
    create: (input) => new MessageFixer({ hostname: 'msa.isp.example', clock: new ManualClock() }, { received: input.received, queueId: input.queueId, smtputf8: input.smtputf8 }),
    received: (input) => buildReceived(input),
    protocolName: (flags) => protocolName(flags),
  };
  const limits: LimitsPort = {
    async onMail() { charged.messages++; return null; },
    async onRcpt() { charged.recipients++; return null; },
    async refund(_ctx: LimitContext, recipients: number, messages: number) { charged.recipients -= recipients; charged.messages -= messages; },
  };
  const handler = new SubmissionHandler(
    { hostname: 'msa.isp.example', helpUrl: 'https://help.example', postmasterDomains: ['isp.example'], ...opts },
    {
      accounts: {
        get: async (login) => (login === ACCOUNT ? { login, subscriber: 'cust-1', status: 'active', tier: 'residential' } : null),
        mayUseAddress: async (login, a) => login === ACCOUNT && OWNED.has(a.toLowerCase()),
      },
      sasl: { mechanisms: [], start: () => null },
      spool,
      fixer,
      limits,
      logger: silentLogger,
      clock: new ManualClock(),
      ...extra,
    },
  );
  let n = 0;
  const session = (auth = true, ip = '192.0.2.7'): SessionInfo => ({
    id: `s${++n}`, listener: 'submission', localAddress: '127.0.0.1', localPort: 587, remoteAddress: ip, remotePort: 40000 + n,
    startedAt: 0, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, helo: 'laptop.example', esmtp: true,
    auth: auth ? { identity: ACCOUNT, mechanism: 'PLAIN' } : null, messages: 0,
  });
  async function send(s: SessionInfo, from: string, to: string[], message: string, o: { smtputf8?: boolean } = {}): Promise<Verdict> {
    const mailFrom: MailFrom = { ...addr(from), params: o.smtputf8 ? { smtputf8: true } : {} };
    let v = await handler.mailFrom(s, mailFrom);
    if (!v.ok) { handler.reset(s); return v; }
    const rcptTo: RcptTo[] = [];
    const tx = { mailFrom, rcptTo, bodyMode: null } as Transaction;
    for (const r of to) {
      const rc: RcptTo = { ...addr(r), params: {} };
      v = await handler.rcptTo(s, tx, rc);
      if (v.ok) rcptTo.push(rc);
    }
    if (!rcptTo.length) { handler.reset(s); return v; }
    v = await handler.data(s, { ...tx, bodyMode: 'data' }, Readable.from([Buffer.from(message, 'utf8')]));
    handler.reset(s); // the engine ends every transaction this way
    return v;
  }
  return { handler, spooled, charged, session, send };
}
