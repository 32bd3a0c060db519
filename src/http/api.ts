// The admin API: every operation of the registry mounted generically under
// /api/v1. Path parameters (":login") are input fields of the same name;
// GET and DELETE take the rest from the query string, POST/PUT/PATCH from the
// JSON body. Fastify validates against JSON Schemas cut from the operation's
// TypeBox input and serialises its output schema; the OpenAPI 3.1 document at
// /api/v1/openapi.json is generated (@fastify/swagger) from the same route
// schemas. Every request but the document's needs `Authorization: Bearer pw_…`;
// invoke() checks the token's scope and writes the audit record.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { TSchema } from 'typebox';
import { AppError, ERROR_CODES, ERRORS, invoke, type Actor, type AuditSink, type OperationDef, type Scope } from '../app/index.ts';
import { ERROR_SCHEMA } from './errors.ts';

export const API_BASE = '/api/v1';
const REASON_MAX = 1000;

export interface TokenAuthenticator {
  authenticate(secret: string): Promise<{ name: string; scope: Scope } | null>;
}

export interface ApiOptions<D> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  operations: ReadonlyArray<OperationDef<any, any, D>>;
  deps: D;
  audit: AuditSink;
  tokens: TokenAuthenticator;
  version?: string;
}

type JsonObject = { type?: string; properties?: Record<string, unknown>; required?: string[]; [k: string]: unknown };
const plain = (s: TSchema): JsonObject => JSON.parse(JSON.stringify(s)) as JsonObject;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The op's input split into the route's params and its querystring or body, each a JSON Schema object. */
export function routeSchemas(op: OperationDef): { params?: JsonObject; querystring?: JsonObject; body?: JsonObject } {
  const input = plain(op.input);
  const props = input.properties ?? {};
  const required = new Set(input.required ?? []);
  const pathNames = [...op.http.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
  for (const n of pathNames) if (!(n in props)) throw new Error(`${op.name}: path parameter :${n} is not an input field`);
  const pick = (names: string[], extra: Record<string, unknown> = {}): JsonObject => {
    const { properties: _p, required: _r, ...rest } = input;
    return {
      ...rest, type: 'object',
      properties: { ...extra, ...Object.fromEntries(names.map((n) => [n, props[n]])) },
      required: names.filter((n) => required.has(n)),
    };
  };
  const others = Object.keys(props).filter((n) => !pathNames.includes(n));
  // Every request may say why (the audit keeps it); an op may declare its own `reason` field.
  const reason = { reason: { type: 'string', maxLength: REASON_MAX, description: 'why (kept in the audit record); or the X-Reason header' } };
  const out: { params?: JsonObject; querystring?: JsonObject; body?: JsonObject } = {};
  if (pathNames.length) out.params = pick(pathNames);
  out[BODY_METHODS.has(op.http.method) ? 'body' : 'querystring'] = pick(others, reason);
  return out;
}

/** `Authorization: Bearer pw_…` → the token's actor; anything else is 401 with WWW-Authenticate. */
async function authenticate(req: FastifyRequest, tokens: TokenAuthenticator): Promise<Actor> {
  const m = /^Bearer +(\S+)$/.exec(req.headers.authorization ?? '');
  if (!m) throw new AppError('unauthenticated', 'an API token is required (Authorization: Bearer pw_…)');
  const t = await tokens.authenticate(m[1]);
  if (!t) throw new AppError('unauthenticated', 'the token is unknown or revoked');
  return { kind: 'token', name: t.name, from: req.ip, scope: t.scope };
}

function reasonOf(req: FastifyRequest, src: Record<string, unknown>): string | undefined {
  const h = req.headers['x-reason'];
  if (typeof h === 'string' && h !== '') {
    if (h.length > REASON_MAX) throw new AppError('bad-request', `X-Reason is longer than ${REASON_MAX} characters`, { field: 'X-Reason' });
    return h;
  }
  return typeof src.reason === 'string' ? src.reason : undefined;
}

export async function apiRoutes<D>(app: FastifyInstance, opts: ApiOptions<D>): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'portwarden admin API', version: opts.version ?? '1',
        description: `Errors are {error: {code, message, detail?}}; codes: ${ERROR_CODES.map((c) => `${c} (${ERRORS[c].status})`).join(', ')}.`,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token, pw_… (portwarden token add NAME --scope read|operate|admin)' } } },
      security: [{ bearer: [] }],
    },
  });
  app.addSchema(ERROR_SCHEMA);
  app.get(`${API_BASE}/openapi.json`, { schema: { hide: true } as never }, async () => app.swagger());
  const actors = new WeakMap<FastifyRequest, Actor>();
  await app.register(async (scope) => {
    // JSON only: any other body type is 415.
    scope.removeContentTypeParser('text/plain');
    scope.addHook('onRequest', async (req) => { actors.set(req, await authenticate(req, opts.tokens)); });
    // A POST whose op takes nothing in its body may come without one.
    scope.addHook('preValidation', async (req) => { if (BODY_METHODS.has(req.method) && req.body === undefined) req.body = {}; });
    for (const op of opts.operations) mount(scope, op, opts, actors);
  });
}

function mount<D>(app: FastifyInstance, op: OperationDef<TSchema, TSchema, D>, opts: ApiOptions<D>, actors: WeakMap<FastifyRequest, Actor>): void {
  const parts = routeSchemas(op as OperationDef);
  const declaresReason = 'reason' in (plain(op.input).properties ?? {});
  const fromBody = BODY_METHODS.has(op.http.method);
  app.route({
    method: op.http.method,
    url: `${API_BASE}${op.http.path}`,
    schema: {
      ...parts,
      operationId: op.name,
      summary: op.summary,
      description: `${op.summary}. Needs a token of scope ${op.scope} or above${op.mutates ? '; writes an audit record' : ''}.`,
      tags: [op.name.split('.')[0]],
      'x-portwarden-scope': op.scope,
      response: { 200: plain(op.output), '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } },
    } as never,
    handler: async (req) => {
      const src = { ...((fromBody ? req.body : req.query) as Record<string, unknown> | undefined ?? {}) };
      const reason = reasonOf(req, src);
      if (!declaresReason) delete src.reason;
      const input = { ...src, ...(req.params as Record<string, unknown>) };
      return invoke(op, input as never, { actor: actors.get(req)!, ...(reason !== undefined ? { reason } : {}) }, opts.deps, opts.audit);
    },
  });
}
