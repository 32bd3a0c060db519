// A raw SMTP client for byte-exact transcript tests: write exactly these bytes,
// read the next complete reply (multi-line aware), upgrade with STARTTLS.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface ParsedReply { code: number; lines: string[]; text: string }

export class RawClient {
  private sock: Socket | TLSSocket;
  private buf = '';
  private waiting: Array<() => void> = [];
  closed = false;

  private constructor(sock: Socket | TLSSocket) {
    this.sock = sock;
    this.attach();
  }

  private attach(): void {
    this.sock.setEncoding('latin1');
    this.sock.on('data', (d: string) => { this.buf += d; this.wake(); });
    this.sock.on('close', () => { this.closed = true; this.wake(); });
    this.sock.on('error', () => { this.closed = true; this.wake(); });
  }

  private wake(): void { for (const w of this.waiting.splice(0)) w(); }

  static async connect(port: number, opts: { tls?: boolean; host?: string; minVersion?: 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<RawClient> {
    const host = opts.host ?? '127.0.0.1';
    const sock = await new Promise<Socket | TLSSocket>((res, rej) => {
      const s = opts.tls
        ? tlsConnect({ port, host, rejectUnauthorized: false, maxVersion: opts.maxVersion, minVersion: opts.maxVersion === 'TLSv1.1' ? 'TLSv1' : undefined }, () => res(s))
        : netConnect(port, host, () => res(s));
      s.once('error', rej);
    });
    return new RawClient(sock);
  }

  get tlsProtocol(): string | null {
    return 'getProtocol' in this.sock ? (this.sock as TLSSocket).getProtocol() : null;
  }

  /** This end's port: the server logs it as the session's `port`, which finds the session's log lines. */
  get localPort(): number { return this.sock.localPort ?? 0; }

  write(data: string | Buffer): void { this.sock.write(data); }

  /** Everything received so far and not yet consumed by read(). */
  get pending(): string { return this.buf; }

  /** Reads one complete reply; rejects on timeout or close. */
  async read(ms = 5000): Promise<ParsedReply> {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = this.tryParse();
      if (r) return r;
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for reply; pending: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiting.push(() => { clearTimeout(t); res(); });
      });
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
        this.buf = this.buf.slice(pos);
        return { code: Number(line.slice(0, 3)), lines, text: lines.map((l) => l.slice(4)).join('\n') };
      }
    }
  }

  /** Sends a line (CRLF added) and reads the reply. */
  async cmd(line: string, ms?: number): Promise<ParsedReply> {
    this.write(`${line}\r\n`);
    return this.read(ms);
  }

  /** Upgrades after a 220 to STARTTLS; discards nothing the server sent (tests check that). */
  async starttls(): Promise<void> {
    const plain = this.sock as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    this.sock = await new Promise<TLSSocket>((res, rej) => {
      const s = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' }, () => res(s));
      s.once('error', rej);
    });
    this.attach();
  }

  /** Waits until the server closes the connection. */
  async waitClose(ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void { this.sock.destroy(); }
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const plainAuth = (user: string, pass: string): string => b64(`\0${user}\0${pass}`);

/** EHLO + STARTTLS + EHLO + AUTH PLAIN on a starttls listener; returns a ready client. */
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
