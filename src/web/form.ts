// Small pieces the pages' forms share: a form field as one string (a repeated
// or missing field is empty), the client's address, a time in words, an
// AppError's field and words.
import type { FastifyRequest } from 'fastify';
import { AppError } from '../app/index.ts';

/** A posted field as one trimmed-free string; anything else (array, object, absent) is ''. Capped at `max` characters. */
export function field(req: FastifyRequest, name: string, max = 2000): string {
  const b = req.body as Record<string, unknown> | undefined;
  const v = b && typeof b === 'object' ? b[name] : undefined;
  return typeof v === 'string' ? v.slice(0, max) : '';
}

/** A query parameter as one string ('' when absent or repeated). */
export function query(req: FastifyRequest, name: string, max = 200): string {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q && typeof q === 'object' ? q[name] : undefined;
  return typeof v === 'string' ? v.slice(0, max) : '';
}

/** "2 Dec 2026, 14:05 UTC". */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${d.getUTCDate()} ${mon} ${d.getUTCFullYear()}, ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

/** The field an operation's refusal names, if any ("server", "reason"…). */
export function errorField(e: unknown): string {
  const f = e instanceof AppError ? e.detail?.field : undefined;
  return typeof f === 'string' ? f : '';
}

/** The words of a refusal for the person (an internal error's text is never shown). */
export function errorText(e: unknown): string {
  if (e instanceof AppError && e.code !== 'internal') return e.message.replace(/^[a-z]+(\.[a-z]+)+: /, '');
  return 'something went wrong on our side; please try again later';
}
