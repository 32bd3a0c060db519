// The one factory every HTTP listener comes from: Fastify on a node:http or
// node:https server built here, so the caps are the same everywhere —
// a connection cap, header/request/keep-alive timeouts, a header size and
// count cap, a body limit per route (small by default), "Expect:
// 100-continue" refused before the body when it is declared too large, and
// one JSON error shape. A handler that throws answers 500 and is logged; a
// failed TLS handshake or a malformed request concerns its connection only.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { visible, type Logger } from '../core/index.ts';
import { AppError } from '../app/index.ts';
import { codeForStatus, errorBody, toAppError } from './errors.ts';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface ListenerOptions {
  /** Names the listener in logs ("metrics", "netpolicy", "api"). */
  name: string;
  logger: Logger;
  /** HTTPS with this material (the TlsStore's options); plain HTTP when absent. */
  tls?: SecureContextOptions;
  /** Default 64. */
  maxConnections?: number;
  /** Default body limit of a route (a route may set its own); default 64 KiB. */
  bodyLimit?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxHeaderSize?: number;
}

export interface HttpListener {
  readonly name: string;
  readonly app: FastifyInstance;
  readonly tls: boolean;
  /** Binds (after every route is registered); resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** New certificate and key for new connections (SIGHUP); nothing on plain HTTP. */
  setSecureContext(opts: SecureContextOptions): void;
  close(): Promise<void>;
}

const plainStatus: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };

/** A request Node could not parse: one JSON answer, then the connection closes. */
function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) { socket.destroy(); return; }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(errorBody(new AppError(status === 431 ? 'too-large' : codeForStatus(status), status === 408 ? 'request timeout' : 'malformed HTTP request')));
  socket.end(`HTTP/1.1 ${status} ${plainStatus[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function createHttpListener(opts: ListenerOptions): HttpListener {
  const log = opts.logger;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  // The largest body any route takes: "Expect: 100-continue" beyond it is refused before the client sends.
  let largest = bodyLimit;
  let server!: Server | HttpsServer;
  const serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const common = {
      headersTimeout: opts.headersTimeoutMs ?? 10_000, requestTimeout: opts.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000, maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
    };
    server = opts.tls ? createHttpsServer({ ...opts.tls, ...common }, handler) : createHttpServer(common, handler);
    server.maxConnections = opts.maxConnections ?? 64;
    server.maxHeadersCount = 64;
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (Number(req.headers['content-length'] ?? 0) > largest) {
        const body = JSON.stringify(errorBody(new AppError('too-large', `the request body is larger than ${largest} bytes`)));
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(body);
        return;
      }
      res.writeContinue();
      handler(req, res);
    });
    server.on('tlsClientError', () => { /* a failed handshake concerns that connection only */ });
    return server as Server;
  };
  const app = Fastify({
    serverFactory, logger: false, bodyLimit, return503OnClosing: true,
    clientErrorHandler: clientError,
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: false },
  });
  app.addHook('onRoute', (r) => { largest = Math.max(largest, r.bodyLimit ?? bodyLimit); });
  app.setErrorHandler((err, req, reply) => {
    const { error, expected } = toAppError(err);
    if (!expected) {
      try {
        log.error({ event: 'http', listener: opts.name, method: req.method, path: visible(req.url).slice(0, 200), err: String(err) }, 'http: handler failed');
      } catch { /* the log is gone; the answer still goes */ }
    }
    // A refused request whose body was not read: close rather than read the rest.
    if (!req.raw.complete) reply.header('connection', 'close');
    if (error.code === 'unauthenticated' && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer');
    reply.code(error.status).header('cache-control', 'no-store').type('application/json').send(errorBody(error));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).header('cache-control', 'no-store').send(errorBody(new AppError('not-found', 'no such resource')));
  });
  return {
    name: opts.name,
    app,
    tls: !!opts.tls,
    async listen(host, port) {
      await app.listen({ host, port });
      return (app.server.address() as { port: number }).port;
    },
    setSecureContext(o) { if (opts.tls) (server as HttpsServer).setSecureContext(o); },
    close: () => app.close(),
  };
}

/** Answers 405 with Allow for the methods a resource does not take. */
export function methodNotAllowed(app: FastifyInstance, url: string, allow: readonly string[]): void {
  const others = (['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'] as const).filter((m) => !allow.includes(m));
  app.route({
    method: [...others], url, schema: { hide: true } as never,
    handler: async (_req, reply) => {
      reply.header('allow', allow.join(', '));
      throw new AppError('method-not-allowed', `${url} takes ${allow.join(', ')}`);
    },
  });
}
