// Shared pieces of the operations: schema shorthands and the mapping of each
// part's own errors onto the catalogue.
import { Type, type TSchema } from 'typebox';
import { AccountError } from '../../auth/index.ts';
import type { Result } from '../../netpolicy/index.ts';
import { AppError } from '../errors.ts';

/** A flat input object: unknown fields are refused (the HTTP layer and the CLI check the same schema). */
export const Input = <P extends Record<string, TSchema>>(props: P) => Type.Object(props, { additionalProperties: false });
export const Str = (description: string, opts: { minLength?: number; maxLength?: number } = {}) => Type.String({ description, maxLength: 1000, ...opts });
/** Free text an operator gives as the why of a change (audit). */
export const Reason = Type.Optional(Str('why (recorded in the audit)', { maxLength: 500 }));
export const Limit = (max: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: max, description: `page size, 1..${max}` }));
export const Done = Type.Object({ done: Type.Boolean() });

/** AccountError codes are catalogue codes already; anything else goes up unchanged. */
export function accountCall<T>(fn: () => T | Promise<T>): Promise<T> {
  return (async () => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof AccountError) throw new AppError(e.code, e.message);
      throw e;
    }
  })();
}

/** A netpolicy Result's error text onto a catalogue code; the text stays the message. */
export function policyCode(error: string): AppError['code'] {
  if (error.startsWith('no such entry')) return 'not-found';
  if (error.startsWith('not an address or prefix') || / is wider than \//.test(error)) return 'invalid-prefix';
  if (/ overlaps pool /.test(error)) return 'conflict';
  return 'invalid-value';
}

export function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new AppError(policyCode(r.error), r.error);
  return r.value;
}
