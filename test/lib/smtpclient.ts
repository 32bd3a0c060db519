// The one scripted SMTP client of the tests (the engine's own, the MSA's and the
// end-to-end ones): write exactly these bytes, read the next complete reply
// (multi-line aware, CRLF only, latin1 so every octet survives), parsed or as
// the exact bytes, upgrade with STARTTLS keeping whatever the server sent
// before (the injection tests look at it), see the server close.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface ParsedReply {
  code: number;
  lines: string[];
  /** The lines' text after "NNN-" / "NNN ", joined with \n. */
  text: string;
  /** The reply's exact bytes (latin1), CRLFs included. */
  raw: string;
}

export interface ConnectOptions extends Omit<ConnectionOptions, 'host' | 'port'> {
  /** Implicit TLS (465): the handshake first; the server's certificate is not verified. */
  tls?: boolean;
  host?: string;
}

export class RawClient {
  private sock: Socket | TLSSocket;
  private buf = '';
  private waiting: Array<() => void> = [];
  /** The server closed (or ended) the connection, or it failed. */
  closed = false;

  private constructor(sock: Socket | TLSSocket) {
    this.sock = sock;
    this.attach();
  }

  private attach(): void {
    this.sock.setEncoding('latin1');
    this.sock.on('data', (d: string) => { this.buf += d; this.wake(); });
    const gone = (): void => { this.closed = true; this.wake(); };
    this.sock.on('end', gone);
    this.sock.on('close', gone);
    this.sock.on('error', gone);
  }

  private wake(): void { for (const w of this.waiting.splice(0)) w(); }

  /** Waits until data or close arrives, or `ms` pass. */
  private wait(ms: number): Promise<void> {
    return new Promise<void>((res) => {
      const t = setTimeout(res, Math.max(0, ms));
      this.waiting.push(() => { clearTimeout(t); res(); });
    });
  }

  static async connect(port: number, opts: ConnectOptions = {}): Promise<RawClient> {
    const { tls, host = '127.0.0.1', ...tlsOptions } = opts;
    const sock = await new Promise<Socket | TLSSocket>((res, rej) => {
      // TLS 1.1 needs the floor lowered too (Node's default minimum is 1.2).
      const floor = tlsOptions.maxVersion === 'TLSv1.1' && !tlsOptions.minVersion ? { minVersion: 'TLSv1' as const } : {};
      const s = tls
        ? tlsConnect({ port, host, rejectUnauthorized: false, ...floor, ...tlsOptions }, () => res(s))
        : netConnect(port, host, () => res(s));
      s.once('error', rej);
    });
    return new RawClient(sock);
  }

  /** The socket now (the TLS one after starttls()), for tests that watch or flood it. */
  get socket(): Socket | TLSSocket { return this.sock; }

  get tlsProtocol(): string | null {
    return 'getProtocol' in this.sock ? (this.sock as TLSSocket).getProtocol() : null;
  }

  /** This end's port: the server logs it as the session's `port`, which finds the session's log lines. */
  get localPort(): number { return this.sock.localPort ?? 0; }

  /** Writes exactly these bytes (a string as UTF-8). */
  write(data: string | Buffer): void { this.sock.write(data); }

  /** Everything received so far and not yet consumed. */
  get pending(): string { return this.buf; }

  /** Reads one complete reply; rejects on timeout, or on close with no complete reply left. */
  async read(ms = 5000): Promise<ParsedReply> {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = this.tryParse();
      if (r) return r;
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.buf.slice(0, 300))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for reply; pending: ${JSON.stringify(this.buf.slice(0, 300))}`);
      await this.wait(left);
    }
  }

  private tryParse(): ParsedReply | null {
    const lines: string[] = [];
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf('\r\n', pos);
      if (nl < 0) return null;
      const line = this.buf.slice(pos, nl);
      lines.push(line);
      pos = nl + 2;
      if (line.length < 4 || line[3] !== '-') {
        const raw = this.buf.slice(0, pos);
        this.buf = this.buf.slice(pos);
        return { code: Number(line.slice(0, 3)), lines, text: lines.map((l) => l.slice(4)).join('\n'), raw };
      }
    }
  }

  /** The next reply's exact bytes. */
  async reply(ms?: number): Promise<string> {
    return (await this.read(ms)).raw;
  }

  /** The next n replies' exact bytes. */
  async replies(n: number, ms?: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.reply(ms));
    return out;
  }

  /** Sends a line (CRLF added) and reads the reply. */
  async cmd(line: string, ms?: number): Promise<ParsedReply> {
    this.write(`${line}\r\n`);
    return this.read(ms);
  }

  /** Sends a line (CRLF added) and returns the reply's exact bytes. */
  async send(line: string, ms?: number): Promise<string> {
    return (await this.cmd(line, ms)).raw;
  }

  /** Whatever arrives within `ms` (or until the server closes), consumed. */
  async collect(ms: number): Promise<string> {
    const end = Date.now() + ms;
    while (Date.now() < end && !this.closed) await this.wait(end - Date.now());
    const out = this.buf;
    this.buf = '';
    return out;
  }

  /** Upgrades after a 220 to STARTTLS; discards nothing the server sent (tests check that). */
  async starttls(options: Omit<ConnectionOptions, 'socket'> = {}): Promise<void> {
    const plain = this.sock as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    this.sock = await new Promise<TLSSocket>((res, rej) => {
      const s = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'localhost', ...options }, () => res(s));
      s.once('error', rej);
    });
    this.attach();
  }

  /** Resolves true once the server has closed the connection (false after `ms`). */
  async waitClose(ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await this.wait(deadline - Date.now());
    return this.closed;
  }

  close(): void { this.sock.destroy(); }
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const plainAuth = (user: string, pass: string): string => b64(`\0${user}\0${pass}`);

/** EHLO + STARTTLS + EHLO + AUTH PLAIN on a starttls listener (or EHLO + AUTH on implicit TLS); returns a ready client. */
export async function authedClient(port: number, user: string, pass: string, opts: { implicit?: boolean } = {}): Promise<RawClient> {
  const c = await RawClient.connect(port, { tls: opts.implicit });
  await c.read();
  if (!opts.implicit) {
    await c.cmd('EHLO client.example');
    const r = await c.cmd('STARTTLS');
    if (r.code !== 220) throw new Error(`STARTTLS: ${r.lines.join('|')}`);
    await c.starttls();
  }
  await c.cmd('EHLO client.example');
  const a = await c.cmd(`AUTH PLAIN ${plainAuth(user, pass)}`);
  if (a.code !== 235) throw new Error(`AUTH: ${a.lines.join('|')}`);
  return c;
}
