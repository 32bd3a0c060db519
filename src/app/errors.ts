// The one catalogue of coded errors every operation may return. A code is
// stable (scripts and the API's clients match on it); the message is for
// people and may change. Each code has one HTTP status and one CLI exit code,
// so the front ends never decide a failure's meaning themselves.

export const ERRORS = {
  'bad-request': { status: 400, exit: 2, title: 'the request is malformed' },
  'invalid-login': { status: 400, exit: 1, title: 'not a valid login' },
  'invalid-address': { status: 400, exit: 1, title: 'not a valid mail address' },
  'invalid-password': { status: 400, exit: 1, title: 'the password does not meet the policy' },
  'invalid-hash': { status: 400, exit: 1, title: 'not a password hash this server can verify' },
  'invalid-prefix': { status: 400, exit: 1, title: 'not a valid address prefix' },
  'invalid-value': { status: 400, exit: 1, title: 'a field has a value outside its range' },
  unauthenticated: { status: 401, exit: 1, title: 'no valid credentials' },
  forbidden: { status: 403, exit: 1, title: 'the credentials do not allow this' },
  'not-found': { status: 404, exit: 1, title: 'no such object' },
  'method-not-allowed': { status: 405, exit: 2, title: 'the resource does not take this method' },
  exists: { status: 409, exit: 1, title: 'the object already exists' },
  conflict: { status: 409, exit: 1, title: 'the change conflicts with the current state' },
  'too-large': { status: 413, exit: 1, title: 'the request is too large' },
  'unsupported-media-type': { status: 415, exit: 2, title: 'the request body is not of a type this resource takes' },
  unprocessable: { status: 422, exit: 1, title: 'the request is well-formed but its content is refused' },
  'rate-limited': { status: 429, exit: 1, title: 'too many requests' },
  unavailable: { status: 503, exit: 1, title: 'a part this needs is not running or not configured' },
  internal: { status: 500, exit: 1, title: 'an internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** An operation's refusal: a catalogue code, a message for people, and optional details (field names, ids). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail?: Record<string, unknown>;
  constructor(code: ErrorCode, message?: string, detail?: Record<string, unknown>) {
    super(message ?? ERRORS[code].title);
    this.name = 'AppError';
    this.code = code;
    if (detail) this.detail = detail;
  }
  get status(): number { return ERRORS[this.code].status; }
  get exit(): number { return ERRORS[this.code].exit; }
  toJSON(): { code: ErrorCode; message: string; detail?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.detail ? { detail: this.detail } : {}) };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Anything thrown that is not an AppError becomes `internal`; its text is logged, never shown to a client. */
export function asAppError(e: unknown): AppError {
  return e instanceof AppError ? e : new AppError('internal');
}
