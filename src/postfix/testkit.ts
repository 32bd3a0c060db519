// A raw policy-protocol client for tests: writes attribute blocks, reads action lines.
import { connect, type Socket } from 'node:net';

export class PolicyClient {
  private readonly sock: Socket;
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(sock: Socket) {
    this.sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => { this.buf += d; this.wake(); });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', () => {});
  }

  /** localAddress picks the source address (e.g. 127.0.0.2, still loopback). */
  static open(port: number, host = '127.0.0.1', localAddress?: string): Promise<PolicyClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () => resolve(new PolicyClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  writeRaw(text: string): void { this.sock.write(text); }

  send(attrs: Record<string, string | number>): void {
    this.sock.write(Object.entries(attrs).map(([k, v]) => `${k}=${v}\n`).join('') + '\n');
  }

  /** The next answer's action, or null when the server closed the connection. */
  async read(timeoutMs = 3000): Promise<string | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf('\n\n');
      if (i >= 0) {
        const block = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        const m = /^action=(.*)$/.exec(block);
        if (!m) throw new Error(`not an action: ${JSON.stringify(block)}`);
        return m[1];
      }
      if (this.closed) return null;
      const left = end - Date.now();
      if (left <= 0) throw new Error('no answer from policy server');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  async ask(attrs: Record<string, string | number>): Promise<string | null> {
    this.send(attrs);
    return this.read();
  }

  close(): void { this.sock.destroy(); }
}
