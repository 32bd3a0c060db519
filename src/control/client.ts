// The other end of the control socket, for the `portwarden queue` command.
import { createConnection } from 'node:net';
import type { ControlRequest, ControlResponse } from './protocol.ts';
import { controlError } from './protocol.ts';

/**
 * Sends one request and waits for its answer. null means no server listens
 * there (no socket, or a stale one left by a crash): the caller may then read
 * the spool itself, never change it.
 */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 60_000): Promise<ControlResponse | null> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    let buf = '';
    let connected = false;
    const done = (r: ControlResponse | null): void => { clearTimeout(timer); sock.destroy(); resolve(r); };
    const timer = setTimeout(() => done(controlError('internal', `no answer from ${path} in ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => { connected = true; sock.write(`${JSON.stringify(req)}\n`); });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        done(JSON.parse(buf.slice(0, nl)) as ControlResponse);
      } catch {
        done(controlError('internal', 'unreadable answer from the server'));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) done(null);
      else done(controlError('internal', `control socket ${path}: ${err.code ?? err.message}`));
    });
    sock.on('close', () => done(controlError('internal', 'the server closed the control connection')));
  });
}
