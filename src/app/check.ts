// The front ends' check of an operation's input against its schema (the HTTP
// layer's validator does the same from the same schema): the first bad field
// named, as a bad-request.
import { Value } from 'typebox/value';
import { AppError } from './errors.ts';
import type { OperationDef } from './operation.ts';

/** The input against the op's schema: a bad-request naming the first bad field. */
export function checkInput(op: OperationDef, input: unknown): void {
  if (Value.Check(op.input, input)) return;
  const errors = [...Value.Errors(op.input, input)];
  // The most specific error first: one at a named field, not the umbrella "must match a schema in anyOf".
  const e = errors.find((x) => x.instancePath && x.keyword !== 'anyOf') ?? errors.find((x) => x.instancePath) ?? errors[0];
  const extra = errors.find((x) => x.keyword === 'additionalProperties');
  const field = e?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? '';
  if (extra && (!field || e?.keyword === 'boolean')) throw new AppError('bad-request', `${op.name}: unknown field ${JSON.stringify(field)}`, { field });
  throw new AppError('bad-request', `${op.name}: ${field || 'input'} ${e?.message ?? 'is invalid'}`, { field });
}

