// Test and bench helper (not exported from index.ts): a real redis-server on a
// free loopback port, no persistence, stoppable and restartable on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => { c.destroy(); resolve(ok); };
    c.setTimeout(200, () => done(false));
    c.once('error', () => done(false));
    c.once('connect', () => c.write('PING\r\n'));
    c.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export class RedisServer {
  port = 0;
  private proc: ChildProcess | null = null;

  private readonly extraArgs: readonly string[];

  /** extraArgs are redis-server options, e.g. ['--rename-command', 'HELLO', ''] to act as a Redis before 6. */
  constructor(extraArgs: readonly string[] = []) { this.extraArgs = extraArgs; }

  get url(): string { return `redis://127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs], { stdio: 'ignore' });
    this.proc = proc;
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}) on port ${this.port}`);
      if (await answersPing(this.port)) return;
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error('redis-server did not answer within 3 s');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}
