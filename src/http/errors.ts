// Every failure answers one JSON shape, {error: {code, message, detail?}}, with
// a code from the catalogue (src/app/errors.ts): an operation's own refusal,
// Fastify's validation (400), unknown route (404), body too large (413) and
// unsupported media type (415) alike. A client's bytes never reach a message
// unencoded (visible()).
import { visible } from '../core/index.ts';
import { AppError, ERROR_CODES, ERRORS, isAppError, type ErrorCode } from '../app/index.ts';

/** The catalogue code an HTTP status means (the first code with that status, or the nearest class). */
export function codeForStatus(status: number): ErrorCode {
  const exact = ERROR_CODES.find((c) => ERRORS[c].status === status);
  if (exact) return exact;
  return status >= 500 ? 'internal' : 'bad-request';
}

interface FastifyishError { code?: string; statusCode?: number; message?: string; validation?: Array<{ instancePath?: string; keyword?: string; params?: Record<string, unknown>; message?: string }>; validationContext?: string }

/** The AppError a thrown value answers as; `expected` is false for what must be logged (a bug or a broken part). */
export function toAppError(err: unknown): { error: AppError; expected: boolean } {
  if (isAppError(err)) return { error: err, expected: err.code !== 'internal' };
  const e = (err ?? {}) as FastifyishError;
  if (Array.isArray(e.validation)) {
    const v = e.validation[0] ?? {};
    const missing = typeof v.params?.missingProperty === 'string' ? v.params.missingProperty : undefined;
    const field = missing ?? (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const where = e.validationContext ?? 'request';
    return { error: new AppError('bad-request', visible(`${where}${field ? `.${field}` : ''}: ${v.message ?? 'is not valid'}`).slice(0, 300),
      { in: where, ...(field ? { field: visible(field).slice(0, 100) } : {}), ...(v.keyword ? { rule: v.keyword } : {}) }), expected: true };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return { error: new AppError('too-large', 'the request body is larger than this resource takes'), expected: true };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return { error: new AppError('unsupported-media-type', 'this resource takes application/json'), expected: true };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return { error: new AppError('bad-request', 'the body is not valid JSON'), expected: true };
    default: break;
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { error: new AppError(codeForStatus(e.statusCode), visible(String(e.message ?? '')).slice(0, 300) || undefined), expected: true };
  }
  return { error: new AppError('internal'), expected: false };
}

export const errorBody = (e: AppError): { error: ReturnType<AppError['toJSON']> } => ({ error: e.toJSON() });

/** The error document's JSON Schema (responses and the OpenAPI document). */
export const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES], description: 'stable; match on it' },
        message: { type: 'string', description: 'for people; may change' },
        detail: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;
