// Every operation, in one array: the HTTP layer mounts them all under /api/v1,
// the CLI and the control socket look them up by name.
import type { OperationDef } from './operation.ts';
import { ACCOUNT_OPS } from './ops/accounts.ts';
import { PEOPLE_OPS } from './ops/people.ts';
import { POLICY_OPS } from './ops/policy.ts';
import { QUEUE_OPS } from './ops/queue.ts';
import { AppError } from './errors.ts';

export const OPERATIONS: readonly OperationDef[] = [
  ...(ACCOUNT_OPS as unknown as OperationDef[]), ...(PEOPLE_OPS as unknown as OperationDef[]),
  ...(QUEUE_OPS as unknown as OperationDef[]), ...POLICY_OPS,
];

const BY_NAME = new Map(OPERATIONS.map((o) => [o.name, o]));
if (BY_NAME.size !== OPERATIONS.length) throw new Error('two operations share a name');

/** The operation of that name; `internal` when there is none (a front end's bug, not the client's). */
export function operationByName(name: string): OperationDef {
  const op = BY_NAME.get(name);
  if (!op) throw new AppError('internal', `no operation ${name}`);
  return op;
}
