// A raw capture sink: a minimal next-hop SMTP server on loopback that records
// the exact bytes of every session and every DATA payload. It is the only way to
// check byte-exact what portwarden relays (REQUIREMENTS conventions). Replies can
// be scripted per phase to exercise retry and bounce paths.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export interface CapturedMessage {
  mailFrom: string; // the full MAIL FROM line after "MAIL FROM:"
  rcptTo: string[];
  /** DATA payload exactly as received, up to and including the final CRLF.CRLF. */
  raw: Buffer;
  at: number;
}

export interface SinkOptions {
  /** Reply to RCPT for a given address (default 250). */
  rcptReply?: (address: string) => string;
  /** Reply after the end of DATA (default 250). */
  dataReply?: () => string;
  ehloExtensions?: string[];
}

export class CaptureSink {
  readonly messages: CapturedMessage[] = [];
  readonly sessions: Buffer[] = [];
  private server: Server;
  private readonly opts: SinkOptions;
  private waiters: Array<() => void> = [];
  private sockets = new Set<Socket>();

  constructor(opts: SinkOptions = {}) {
    this.opts = opts;
    this.server = createServer((s) => this.session(s));
  }

  async listen(host = '127.0.0.1'): Promise<number> {
    this.server.listen(0, host);
    await once(this.server, 'listening');
    return (this.server.address() as { port: number }).port;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
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

  private session(sock: Socket): void {
    this.sockets.add(sock);
    const log: Buffer[] = [];
    let buf = Buffer.alloc(0);
    let inData = false;
    let cur: { mailFrom: string; rcptTo: string[] } = { mailFrom: '', rcptTo: [] };
    const ext = this.opts.ehloExtensions ?? ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'DSN', 'SIZE 104857600', 'ENHANCEDSTATUSCODES'];
    sock.setNoDelay(true);
    sock.write('220 sink.test ESMTP capture\r\n');
    sock.on('close', () => { this.sockets.delete(sock); this.sessions.push(Buffer.concat(log)); });
    sock.on('error', () => {});
    // Replies to one read go out in one write, as a real MTA answers a pipelined group (RFC 2920).
    let out: string[] = [];
    const reply = { write: (s: string): void => { out.push(s); }, end: (s: string): void => { out.push(s); ending = true; } };
    let ending = false;
    sock.on('data', (chunk: Buffer) => {
      log.push(chunk);
      buf = Buffer.concat([buf, chunk]);
      try { scan(); } finally {
        if (out.length) { const text = out.join(''); out = []; if (ending) sock.end(text); else sock.write(text); }
      }
    });
    const scan = (): void => {
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          const atStart = buf.subarray(0, 3).equals(Buffer.from('.\r\n'));
          if (end < 0 && !atStart) return;
          const cut = atStart ? 3 : end + 5;
          this.messages.push({ ...cur, raw: Buffer.from(buf.subarray(0, cut)), at: Date.now() });
          buf = buf.subarray(cut);
          inData = false;
          cur = { mailFrom: '', rcptTo: [] };
          reply.write(`${this.opts.dataReply?.() ?? '250 2.0.0 Ok: captured'}\r\n`);
          for (const w of this.waiters.splice(0)) w();
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') reply.write(`250-sink.test\r\n${ext.map((e, i) => `250${i === ext.length - 1 ? ' ' : '-'}${e}\r\n`).join('')}`);
        else if (verb === 'HELO') reply.write('250 sink.test\r\n');
        else if (verb === 'MAIL') { cur.mailFrom = line.slice(10); reply.write('250 2.1.0 Ok\r\n'); }
        else if (verb === 'RCPT') {
          const addr = /<([^>]*)>/.exec(line)?.[1] ?? '';
          const r = this.opts.rcptReply?.(addr) ?? '250 2.1.5 Ok';
          if (r.startsWith('2')) cur.rcptTo.push(addr);
          reply.write(`${r}\r\n`);
        } else if (verb === 'DATA') {
          if (cur.rcptTo.length) { inData = true; reply.write('354 go ahead\r\n'); }
          else reply.write('554 5.5.1 no valid recipients\r\n');
        } else if (verb === 'RSET') { cur = { mailFrom: '', rcptTo: [] }; reply.write('250 2.0.0 Ok\r\n'); }
        else if (verb === 'QUIT') { reply.end('221 2.0.0 Bye\r\n'); return; }
        else if (verb === 'NOOP') reply.write('250 2.0.0 Ok\r\n');
        else reply.write('502 5.5.2 unrecognized\r\n');
      }
    };
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
