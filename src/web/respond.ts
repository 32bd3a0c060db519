// How a page leaves: HTML with the headers every page carries. No script runs
// on our pages (CSP script-src 'none'), nothing frames them, forms post only to
// us, and no page is cached by a shared cache (they show a person's data).
import type { FastifyReply } from 'fastify';
import type { PageAnswer } from './types.ts';

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

export function sendPage(reply: FastifyReply, a: PageAnswer): FastifyReply {
  return reply.code(a.status ?? 200).headers(PAGE_HEADERS).send(a.body.value);
}

/** After a form's change: 303 to the page that shows it (the POST/redirect/GET pattern: a reload does not post again). */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).header('cache-control', 'no-store').send();
}
