// The capture sink: the tests' one fake next-hop MTA, a minimal SMTP server on
// loopback that records the exact bytes of every session, every command line and
// every DATA payload (still dot-stuffed). It is the only way to check byte-exact
// what portwarden relays (REQUIREMENTS conventions). Replies can be scripted per
// command to exercise retry and bounce paths; STARTTLS is offered when given a
// key and cert. Used by the e2e tests (via test/lib/portwarden.ts) and by the
// relay's unit tests alike.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface CapturedMessage {
  /** The full MAIL line, e.g. 'MAIL FROM:<a@b> SIZE=10'. */
  mail: string;
  /** The MAIL line after "MAIL FROM:". */
  mailFrom: string;
  /** The full RCPT lines that were accepted (2xx). */
  rcpts: string[];
  /** The addresses of the accepted recipients. */
  rcptTo: string[];
  /** DATA payload exactly as received, up to and including the final CRLF.CRLF. */
  raw: Buffer;
  /** DATA payload up to and including the CRLF before the final dot (raw without the trailing ".\r\n"). */
  data: Buffer;
  /** Whether the message came over STARTTLS. */
  tls: boolean;
  at: number;
}

export interface SinkOptions {
  /** EHLO extensions (STARTTLS is added when tls or brokenTls is set). */
  extensions?: string[];
  tls?: { key: string; cert: string };
  /** Answer STARTTLS with 220, then send bytes no TLS client can take (a broken TLS setup). */
  brokenTls?: boolean;
  /**
   * Return a reply line to override the default for this command line, e.g. '451 4.3.0 later';
   * '.' stands for the end of DATA, and a non-2xx reply to it means the message is not kept.
   * Takes precedence over rcptReply and dataReply.
   */
  reply?: (line: string) => string | undefined;
  /** Reply to RCPT for a given address (default 250). */
  rcptReply?: (address: string) => string;
  /** Reply after the end of DATA (default 250); called after the message was recorded, which it always is. */
  dataReply?: () => string;
}

export class CaptureSink {
  readonly messages: CapturedMessage[] = [];
  /** Raw bytes per closed session (after STARTTLS: the decrypted bytes). */
  readonly sessions: Buffer[] = [];
  /** Every command line, across sessions (not the DATA payload). */
  readonly commands: string[] = [];
  connections = 0;
  /** Sessions open now, and the most ever open at once. */
  open = 0;
  peak = 0;
  port = 0;
  private readonly server: Server;
  private readonly opts: SinkOptions;
  private waiters: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  constructor(opts: SinkOptions = {}) {
    this.opts = opts;
    this.server = createServer((s) => this.session(s));
  }

  /** A sink, listening. */
  static async start(opts: SinkOptions = {}, host?: string, port?: number): Promise<CaptureSink> {
    const s = new CaptureSink(opts);
    await s.listen(host, port);
    return s;
  }

  /** Returns the port. MX tests put several sinks on one port, each on its own loopback address. */
  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.removeListener('error', reject); resolve(); });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Resolves when at least n messages were captured, or rejects after ms. */
  async waitFor(n: number, ms = 15000): Promise<CapturedMessage[]> {
    const deadline = Date.now() + ms;
    while (this.messages.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`sink: ${this.messages.length}/${n} messages after ${ms} ms`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
    return this.messages;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }

  private keep(m: CapturedMessage): void {
    this.messages.push(m);
    for (const w of this.waiters.splice(0)) w();
  }

  private session(rawSock: Socket): void {
    this.connections++;
    this.open++;
    this.peak = Math.max(this.peak, this.open);
    this.sockets.add(rawSock);
    const log: Buffer[] = [];
    rawSock.on('close', () => { this.open--; this.sockets.delete(rawSock); this.sessions.push(Buffer.concat(log)); });
    rawSock.on('error', () => {});
    rawSock.setNoDelay(true); // replies go out as written: with PIPELINING, Nagle would hold the 2nd and 3rd back ~40 ms
    let sock: Socket = rawSock;
    let buf = Buffer.alloc(0);
    let inData = false;
    let tls = false;
    let tx: { mail: string; rcpts: string[]; rcptTo: string[] } | null = null;
    const ext = this.opts.extensions ?? ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'DSN', 'SIZE 104857600', 'ENHANCEDSTATUSCODES'];
    // Replies to one read go out in one write, as a real MTA answers a pipelined group (RFC 2920).
    let out: string[] = [];
    let ending = false;
    const send = (l: string): void => { out.push(l + '\r\n'); };
    const flush = (): void => {
      if (!out.length) return;
      const text = out.join('');
      out = [];
      if (ending) sock.end(text); else sock.write(text);
    };
    const answer = (line: string, dflt: string): void => send(this.opts.reply?.(line) ?? dflt);
    const onData = (chunk: Buffer): void => {
      log.push(chunk);
      buf = Buffer.concat([buf, chunk]);
      try { scan(); } finally { flush(); }
    };
    const scan = (): void => {
      for (;;) {
        if (inData) {
          const atStart = buf.subarray(0, 3).equals(Buffer.from('.\r\n'));
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0 && !atStart) return;
          const cut = atStart ? 3 : end + 5;
          const raw = Buffer.from(buf.subarray(0, cut));
          buf = buf.subarray(cut);
          inData = false;
          const t = tx ?? { mail: '', rcpts: [], rcptTo: [] };
          tx = null;
          const m: CapturedMessage = {
            mail: t.mail, mailFrom: t.mail.slice(10), rcpts: t.rcpts, rcptTo: t.rcptTo,
            raw, data: raw.subarray(0, raw.length - 3), tls, at: Date.now(),
          };
          const r = this.opts.reply?.('.');
          if (r) {
            if (r.startsWith('2')) this.keep(m);
            send(r);
          } else {
            this.keep(m);
            send(this.opts.dataReply?.() ?? '250 2.0.0 Ok: queued');
          }
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        this.commands.push(line);
        const verb = line.split(/[ :]/)[0].toUpperCase();
        if (verb === 'EHLO') {
          const lines = ['sink.test', ...ext, ...((this.opts.tls || this.opts.brokenTls) && !tls ? ['STARTTLS'] : [])];
          send(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`).join('\r\n'));
        } else if (verb === 'STARTTLS' && this.opts.tls && !tls) {
          send('220 2.0.0 Ready to start TLS');
          flush();
          sock.removeListener('data', onData);
          buf = Buffer.alloc(0); // RFC 3207: anything pipelined before the handshake is discarded
          const t = new TLSSocket(sock, { isServer: true, key: this.opts.tls.key, cert: this.opts.tls.cert });
          t.on('error', () => {});
          t.on('data', onData);
          sock = t;
          tls = true;
          return;
        } else if (verb === 'STARTTLS' && this.opts.brokenTls) {
          send('220 2.0.0 Ready to start TLS');
          flush();
          sock.removeListener('data', onData);
          sock.once('data', () => sock.end('this is not a TLS server hello\r\n')); // answers the ClientHello
          return;
        } else if (verb === 'STARTTLS') {
          send('502 5.5.1 STARTTLS not offered');
        } else if (verb === 'MAIL') {
          tx = { mail: line, rcpts: [], rcptTo: [] };
          answer(line, '250 2.1.0 Ok');
        } else if (verb === 'RCPT') {
          const addr = /<([^>]*)>/.exec(line)?.[1] ?? '';
          const r = this.opts.reply?.(line) ?? this.opts.rcptReply?.(addr) ?? '250 2.1.5 Ok';
          if (r.startsWith('2') && tx) { tx.rcpts.push(line); tx.rcptTo.push(addr); }
          send(r);
        } else if (verb === 'DATA') {
          const r = this.opts.reply?.(line) ?? (tx?.rcpts.length ? '354 End data with <CR><LF>.<CR><LF>' : '554 5.5.1 No valid recipients');
          if (r.startsWith('354')) inData = true;
          send(r);
        } else if (verb === 'RSET') { tx = null; send('250 2.0.0 Ok'); }
        else if (verb === 'QUIT') { send('221 2.0.0 Bye'); ending = true; return; }
        else if (verb === 'HELO') answer(line, '250 sink.test');
        else answer(line, '250 2.0.0 Ok');
      }
    };
    sock.on('data', onData);
    send('220 sink.test ESMTP');
    flush();
  }
}

/** Every CR is followed by LF and every LF preceded by CR. */
export function hasOnlyCrlf(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0d && b[i + 1] !== 0x0a) return false;
    if (b[i] === 0x0a && b[i - 1] !== 0x0d) return false;
  }
  return true;
}
