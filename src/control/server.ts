// The control socket: a Unix domain socket in the data directory, mode 0600,
// so only the server's own user (and root) may change the queue. It is bound
// inside a fresh 0700 directory, restricted, then renamed into place: at no
// moment can another user connect to it, whatever the umask.
// A live socket at the path means another server owns this data directory,
// and starting a second one on the same spool is refused.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/index.ts';
import type { QueueDeps } from './ops.ts';
import { runQueueOp } from './ops.ts';
import { MAX_REQUEST_BYTES, controlError, parseRequest, type ControlResponse } from './protocol.ts';

export interface ControlServerOptions extends QueueDeps {
  /** Socket path, normally controlSocketPath(dataDir). */
  path: string;
  /** Connections idle longer than this are closed (ms). */
  idleMs?: number;
  maxConnections?: number;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

export const controlSocketPath = (dataDir: string): string => join(dataDir, 'control.sock');

/**
 * True when a server answers at path. Ask before opening the spool: a second
 * server's recovery would delete the first one's files in flight.
 */
export function controlServerRunning(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function createControlServer(o: ControlServerOptions): Promise<ControlServer> {
  const logger = o.logger.child({ part: 'control' });
  if (await controlServerRunning(o.path)) throw new Error(`another portwarden answers on ${o.path}: one server per data directory`);
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => serve(sock, o, logger, sockets));
  server.maxConnections = o.maxConnections ?? 16;
  const privateDir = await mkdtemp(join(dirname(o.path), '.control-'));
  const tmp = join(privateDir, 'sock');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tmp, () => { server.off('error', reject); resolve(); });
    });
    await chmod(tmp, 0o600);
    await rename(tmp, o.path);
  } catch (err) {
    server.close();
    throw err;
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
  server.on('error', (err) => logger.error({ err: String(err) }, 'control socket error'));
  logger.info({ event: 'control', path: o.path }, 'control socket listening');
  return {
    path: o.path,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(o.path).catch(() => {});
    },
  };
}

function serve(sock: Socket, deps: ControlServerOptions, logger: Logger, sockets: Set<Socket>): void {
  sockets.add(sock);
  let busy = 0;
  sock.setTimeout(60_000, () => { if (!busy) sock.destroy(); });
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => {});
  let buf = '';
  let chain = Promise.resolve();
  const answer = (r: ControlResponse): void => { if (sock.writable) sock.write(`${JSON.stringify(r)}\n`); };
  sock.setEncoding('utf8');
  let refused = false;
  sock.on('data', (chunk: string) => {
    if (refused) return;
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      // One at a time per connection, so answers come back in order.
      busy++;
      chain = chain.then(async () => {
        const req = parseRequest(line);
        if ('error' in req) return answer(req.error);
        try {
          answer(await runQueueOp(deps, req));
        } catch (err) {
          logger.error({ op: req.op, err: String((err as Error).stack ?? err) }, 'control request failed');
          answer(controlError('internal', 'internal error; see the server log'));
        }
      }).finally(() => { busy--; });
    }
    if (Buffer.byteLength(buf) > MAX_REQUEST_BYTES) {
      // Answer what came before, then this, then hang up.
      refused = true;
      buf = '';
      chain = chain.then(() => { answer(controlError('too-large', `request longer than ${MAX_REQUEST_BYTES} bytes`)); sock.end(); });
    }
  });
}
