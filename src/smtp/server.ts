// Listeners, connection accounting and graceful shutdown. Each accepted
// connection becomes a Session; TLS (implicit or STARTTLS) is done per session
// so that the context is fetched per connection (reload takes effect at once).
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from '../core/index.ts';
import type { ListenerOptions, SmtpHandler, SmtpServerOptions } from './types.ts';
import { Session } from './session.ts';
import type { SessionHost } from './session.ts';
import { tooManyConnections, tooManyFromAddress, tooManyFromNetwork } from './replies.ts';
import { clientKeys, formatReply, type ClientKeys } from '../core/index.ts';
import type { Reply } from '../core/index.ts';

class Listener implements SessionHost {
  readonly opts: ListenerOptions;
  readonly handler: SmtpHandler;
  readonly logger: Logger;
  readonly secureContext?: () => SecureContext;
  readonly server: Server;
  /** Open sessions, each with the keys it is counted under. */
  readonly sessions = new Map<Session, ClientKeys>();
  /** Open sessions per client address and per client network (IPv4 /24, IPv6 /64 by default). */
  private readonly perIp = new Map<string, number>();
  private readonly perNet = new Map<string, number>();
  private readonly owner: SmtpServer;

  constructor(owner: SmtpServer, opts: ListenerOptions, o: SmtpServerOptions) {
    this.owner = owner;
    this.opts = opts;
    this.handler = o.handler;
    this.logger = o.logger.child({ listener: opts.name });
    if (o.secureContext) this.secureContext = o.secureContext;
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => this.logger.error({ err }, 'listener error'));
  }

  get draining(): boolean {
    return this.owner.draining;
  }

  private accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    // A peer without an IP address (a test's pipe) counts as itself.
    const k = clientKeys(ip, this.opts.ipv4NetworkPrefix, this.opts.ipv6NetworkPrefix) ?? { address: ip, network: ip };
    const fromIp = this.perIp.get(k.address) ?? 0;
    const fromNet = this.perNet.get(k.network) ?? 0;
    const over: Reply | null = this.sessions.size >= this.opts.maxConnections ? tooManyConnections(this.opts.hostname)
      : fromIp >= this.opts.maxConnectionsPerIp ? tooManyFromAddress(this.opts.hostname)
        : fromNet >= this.opts.maxConnectionsPerNetwork ? tooManyFromNetwork(this.opts.hostname) : null;
    if (over) {
      this.logger.warn({ remote: k.address, network: k.network, sessions: this.sessions.size, fromIp, fromNetwork: fromNet, reply: over.text }, 'too many connections');
      socket.on('error', () => {});
      // On implicit TLS a plaintext reply would be noise inside the handshake: just close.
      if (this.opts.tls === 'implicit') socket.destroy();
      else socket.end(formatReply(over));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    this.perIp.set(k.address, fromIp + 1);
    this.perNet.set(k.network, fromNet + 1);
    const session = new Session(this, socket);
    this.sessions.set(session, k);
    session.start();
  }

  sessionClosed(s: Session): void {
    const k = this.sessions.get(s);
    if (!k) return;
    this.sessions.delete(s);
    release(this.perIp, k.address);
    release(this.perNet, k.network);
    this.owner.sessionEnded();
  }
}

function release(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

export class SmtpServer {
  private readonly listeners: Listener[];
  private drainWaiters: Array<() => void> = [];
  draining = false;

  constructor(opts: SmtpServerOptions) {
    for (const l of opts.listeners) {
      if (l.tls === 'implicit' && !opts.secureContext) throw new Error(`listener ${l.name}: implicit TLS needs secureContext`);
    }
    this.listeners = opts.listeners.map((l) => new Listener(this, l, opts));
  }

  async listen(): Promise<void> {
    await Promise.all(
      this.listeners.map(
        (l) =>
          new Promise<void>((resolve, reject) => {
            l.server.once('error', reject);
            l.server.listen({ host: l.opts.host, port: l.opts.port, backlog: 4096 }, () => {
              l.server.removeListener('error', reject);
              l.logger.info({ host: l.opts.host, port: (l.server.address() as { port: number }).port, tls: l.opts.tls }, 'listening');
              resolve();
            });
          }),
      ),
    );
  }

  addresses(): Array<{ listener: string; host: string; port: number }> {
    const out: Array<{ listener: string; host: string; port: number }> = [];
    for (const l of this.listeners) {
      const a = l.server.address();
      if (a && typeof a === 'object') out.push({ listener: l.opts.name, host: a.address, port: a.port });
    }
    return out;
  }

  sessionCount(): number {
    let n = 0;
    for (const l of this.listeners) n += l.sessions.size;
    return n;
  }

  /** Sessions between transactions get 421 at once; busy ones may finish until drainMs, then are cut. */
  async close(opts: { drainMs?: number } = {}): Promise<void> {
    this.draining = true;
    const stopped = Promise.all(this.listeners.map((l) => new Promise<void>((r) => (l.server.listening ? l.server.close(() => r()) : r()))));
    this.sweep(false);
    if (this.sessionCount() > 0) {
      const drained = new Promise<void>((r) => this.drainWaiters.push(r));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, opts.drainMs ?? 0)));
      await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (this.sessionCount() > 0) {
        this.sweep(true);
        await Promise.race([drained, new Promise((r) => setTimeout(r, 1000).unref())]);
        for (const l of this.listeners) for (const s of l.sessions.keys()) s.socket.destroy();
      }
    }
    await stopped;
  }

  private sweep(force: boolean): void {
    for (const l of this.listeners) for (const s of [...l.sessions.keys()]) s.shutdown(force);
  }

  sessionEnded(): void {
    if (this.draining && this.sessionCount() === 0) for (const w of this.drainWaiters.splice(0)) w();
  }
}
