// A capture sink: a fake next-hop MTA speaking just enough SMTP, recording
// every command line and the raw DATA bytes exactly as they arrived (still
// dot-stuffed, up to and including the CRLF before the final dot). Replies can
// be scripted per command; STARTTLS is offered when given a key and cert.
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface Captured { mail: string; rcpts: string[]; data: Buffer; tls: boolean }

export interface SinkOptions {
  extensions?: string[];
  tls?: { key: string; cert: string };
  /** Answer STARTTLS with 220, then send bytes no TLS client can take (a broken TLS setup). */
  brokenTls?: boolean;
  /** Return a reply line to override the default for this command, e.g. '451 4.3.0 later'. */
  reply?: (line: string) => string | undefined;
}

export class CaptureSink {
  readonly messages: Captured[] = [];
  readonly commands: string[] = [];
  connections = 0;
  /** Sessions open now, and the most ever open at once. */
  open = 0;
  peak = 0;
  port = 0;
  private readonly server: Server;
  private readonly opts: SinkOptions;
  private readonly sockets = new Set<Socket>();

  constructor(opts: SinkOptions = {}) {
    this.opts = opts;
    this.server = createServer((s) => this.session(s));
  }

  /** MX tests put several sinks on one port, each on its own loopback address. */
  async listen(host = '127.0.0.1', port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.removeListener('error', reject); resolve(); });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private session(raw: Socket): void {
    this.connections++;
    this.open++;
    this.peak = Math.max(this.peak, this.open);
    this.sockets.add(raw);
    raw.on('close', () => { this.open--; this.sockets.delete(raw); });
    raw.on('error', () => {});
    raw.setNoDelay(true); // replies go out as written: with PIPELINING, Nagle would hold the 2nd and 3rd back ~40 ms
    let sock: Socket = raw;
    let buf = Buffer.alloc(0);
    let inData = false;
    let tls = false;
    let tx: { mail: string; rcpts: string[] } | null = null;
    const ext = this.opts.extensions ?? ['PIPELINING', 'SIZE 10240000', '8BITMIME', 'DSN', 'SMTPUTF8', 'ENHANCEDSTATUSCODES'];
    const send = (l: string): void => { sock.write(l + '\r\n'); };
    const answer = (line: string, dflt: string): void => send(this.opts.reply?.(line) ?? dflt);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (inData) {
          const at = buf.subarray(0, 3).equals(Buffer.from('.\r\n')) ? -2 : buf.indexOf('\r\n.\r\n');
          if (at === -1) return;
          const data = buf.subarray(0, at + 2);
          buf = buf.subarray(at + 5);
          inData = false;
          const r = this.opts.reply?.('.');
          if (!r || r.startsWith('2')) this.messages.push({ mail: tx!.mail, rcpts: tx!.rcpts, data: Buffer.from(data), tls });
          send(r ?? '250 2.0.0 Ok: queued');
          tx = null;
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        this.commands.push(line);
        const verb = line.split(/[ :]/)[0].toUpperCase();
        if (verb === 'EHLO') {
          const lines = ['sink.test', ...ext, ...((this.opts.tls || this.opts.brokenTls) && !tls ? ['STARTTLS'] : [])];
          send(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`).join('\r\n'));
        } else if (verb === 'STARTTLS' && this.opts.tls && !tls) {
          send('220 2.0.0 Ready to start TLS');
          sock.removeListener('data', onData);
          buf = Buffer.alloc(0); // RFC 3207: anything pipelined before the handshake is discarded
          const t = new TLSSocket(sock, { isServer: true, key: this.opts.tls.key, cert: this.opts.tls.cert });
          t.on('error', () => {});
          t.on('data', onData);
          sock = t;
          tls = true;
        } else if (verb === 'STARTTLS' && this.opts.brokenTls) {
          send('220 2.0.0 Ready to start TLS');
          sock.removeListener('data', onData);
          sock.once('data', () => sock.end('this is not a TLS server hello\r\n')); // answers the ClientHello
          return;
        } else if (verb === 'STARTTLS') {
          send('502 5.5.1 STARTTLS not offered');
        } else if (verb === 'MAIL') {
          tx = { mail: line, rcpts: [] };
          answer(line, '250 2.1.0 Ok');
        } else if (verb === 'RCPT') {
          const r = this.opts.reply?.(line) ?? '250 2.1.5 Ok';
          if (r.startsWith('2')) tx?.rcpts.push(line);
          send(r);
        } else if (verb === 'DATA') {
          const r = this.opts.reply?.(line) ?? (tx?.rcpts.length ? '354 End data with <CR><LF>.<CR><LF>' : '554 5.5.1 No valid recipients');
          if (r.startsWith('354')) inData = true;
          send(r);
        } else if (verb === 'RSET') { tx = null; send('250 2.0.0 Ok'); }
        else if (verb === 'QUIT') { send('221 2.0.0 Bye'); sock.end(); return; }
        else answer(line, '250 2.0.0 Ok');
      }
    };
    sock.on('data', onData);
    send('220 sink.test ESMTP');
  }
}
