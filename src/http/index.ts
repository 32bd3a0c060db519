// http: the one HTTP layer. Every listener (metrics, the edge agents'
// endpoint, the admin API) comes from one factory with the same caps: a
// connection cap, header/request/keep-alive timeouts, header size and count
// caps, a body limit per route (64 KiB unless a route needs more: an edge
// report takes its configured cap), and one JSON error shape
// {error: {code, message, detail?}} with codes from src/app/errors.ts. A
// handler that throws answers 500 and is logged; it never reaches the process.
//
// Why Fastify 5 (on Node's own http/https servers, built here): it is
// schema-first — requests are validated by Ajv against the very JSON Schemas
// the OpenAPI 3.1 document is generated from (@fastify/swagger), and responses
// are serialised from the output schemas, so what is documented is what is
// enforced; the body limit is set per route; it is mature and well kept (an
// OpenJS Foundation project, frequent releases, LTS lines). Hono is small and
// fast too, but on Node it needs an adapter (@hono/node-server) and a
// validator and OpenAPI generator of its own choosing on top, which is three
// moving parts where Fastify has one.
//
// Trusts: nothing a client sends. Tokens are looked up by SHA-256 (see
// src/app/tokens.ts for why that needs no constant-time compare); the edge
// endpoint compares its edge-bound tokens in constant time (netpolicy).
// Standards: HTTP/1.1 (RFC 9110/9112), bearer tokens (RFC 6750: 401 with
// WWW-Authenticate: Bearer), OpenAPI 3.1, the Prometheus text format.
export { createHttpListener, methodNotAllowed, DEFAULT_BODY_LIMIT, type HttpListener, type ListenerOptions } from './listener.ts';
export { codeForStatus, errorBody, toAppError, ERROR_SCHEMA } from './errors.ts';
export { healthRoutes, type ReadinessCheck } from './health.ts';
export { metricsRoutes } from './metrics.ts';
export { edgeRoutes, type EdgeRouteOptions } from './edge.ts';
export { apiRoutes, routeSchemas, API_BASE, type ApiOptions, type TokenAuthenticator } from './api.ts';
export { noticeRoutes, CAPTIVE_API_PATH, type NoticeRouteOptions } from './notice.ts';
export { autoconfigRoutes, POX_LIMIT, type AutoconfigRouteOptions } from './autoconfig.ts';
