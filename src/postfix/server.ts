// Postfix policy delegation protocol (SMTPD_POLICY_README): a request is
// "name=value" lines ended by an empty line; the answer is "action=…" and an
// empty line; Postfix keeps the connection for many requests. Anything that is
// not that protocol (a line without "=", an oversized line or request, a
// request that is not smtpd_access_policy) closes the connection: Postfix then
// reconnects, and a stranger learns nothing. Unknown attributes are ignored.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { type Logger, silentLogger } from '../core/index.ts';
import { PolicyEngine, type PolicyEngineOptions } from './engine.ts';
import { CidrList } from '../limits/index.ts';

export interface PolicyServerOptions extends PolicyEngineOptions {
  /** Idle connections are closed after this long. Default 10 minutes (Postfix's own max_idle is 300 s). */
  idleTimeoutMs?: number;
  maxConnections?: number;
  /** Longest attribute line accepted. Default 8 KiB. */
  maxLineBytes?: number;
  /** Most attributes in one request. Default 256. */
  maxAttributes?: number;
  /** Networks (CIDR) whose clients are served; others are closed at accept. Default loopback: 127.0.0.0/8, ::1/128. */
  allow?: readonly string[];
}

const DEFAULT_POLICY_ALLOW: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** The allowed networks as the limits' CidrList (IPv4-mapped clients judged as IPv4); throws on a malformed entry (config validates them first). */
function allowList(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = CidrList.parse(cidrs);
  if (!(list instanceof CidrList)) throw new Error(`policyService.allow: not a network: ${list.invalid.join(', ')}`);
  return (address) => !!address && list.has(address);
}

export interface PolicyServer {
  readonly engine: PolicyEngine;
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createPolicyServer(opts: PolicyServerOptions): PolicyServer {
  const engine = new PolicyEngine(opts);
  const logger: Logger = opts.logger ?? silentLogger;
  const maxLine = opts.maxLineBytes ?? 8192;
  const maxAttrs = opts.maxAttributes ?? 256;
  const idle = opts.idleTimeoutMs ?? 600_000;
  const sockets = new Set<Socket>();
  const allowed = allowList(opts.allow ?? DEFAULT_POLICY_ALLOW);

  const server: Server = createServer((sock) => {
    sock.on('error', () => { /* peer reset: nothing to answer */ });
    if (!allowed(sock.remoteAddress)) {
      logger.warn({ event: 'policy', remote: sock.remoteAddress }, 'policy client not in policyService.allow, closing');
      sock.destroy();
      return;
    }
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(idle, () => sock.destroy());
    sock.on('close', () => sockets.delete(sock));
    let buf = '';
    let attrs = new Map<string, string>();
    // Requests are answered in order; a client that sends many without reading waits its turn.
    let chain: Promise<void> = Promise.resolve();
    let queued = 0;
    const bad = (why: string): void => {
      logger.warn({ event: 'policy', remote: sock.remoteAddress, why }, 'policy protocol error, closing');
      buf = '';
      sock.destroy();
    };
    sock.setEncoding('utf8');
    // An exception here must cost this connection only, never the process (and SMTP with it).
    sock.on('data', (chunk: string) => {
      try { onData(chunk); } catch (err) {
        logger.error({ event: 'policy', remote: sock.remoteAddress, err: String(err) }, 'policy connection failed');
        sock.destroy();
      }
    });
    const onData = (chunk: string): void => {
      if (sock.destroyed) return;
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        let line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line.length > maxLine) return bad('line too long');
        if (line === '') {
          const req = attrs;
          attrs = new Map();
          if (++queued > 16) return bad('too many pending requests');
          chain = chain.then(async () => {
            const action = await engine.decide(req);
            queued--;
            if (sock.destroyed) return;
            if (action === null) return bad('not an smtpd_access_policy request');
            sock.write(`action=${action}\n\n`);
          }).catch((err: unknown) => {
            logger.error({ event: 'policy', err: String(err) }, 'policy connection failed');
            sock.destroy();
          });
          continue;
        }
        const eq = line.indexOf('=');
        if (eq <= 0) return bad('line without name=value');
        if (attrs.size >= maxAttrs) return bad('too many attributes');
        attrs.set(line.slice(0, eq), line.slice(eq + 1));
      }
      if (buf.length > maxLine) bad('line too long');
    };
  });
  if (opts.maxConnections !== undefined) server.maxConnections = opts.maxConnections;

  return {
    engine,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) { resolve(); return; }
        server.close(() => resolve());
      });
    },
  };
}
