// Every operation: the HTTP layer mounts them all under /api/v1
// (`await loadOperations()`), the CLI and the control socket load the one they
// run by name. Each domain's module is imported only when asked for: a CLI
// command then loads its own parts, not every part's (measured: the account
// command took twice as long when every op was imported up front).
import type { OperationDef } from './operation.ts';
import { AppError } from './errors.ts';

type Domain = () => Promise<readonly OperationDef[]>;
const people: Domain = async () => (await import('./ops/people.ts')).PEOPLE_OPS as unknown as OperationDef[];
const DOMAINS: Record<string, Domain> = {
  accounts: async () => (await import('./ops/accounts.ts')).ACCOUNT_OPS as unknown as OperationDef[],
  subscribers: people, limits: people, trace: people, audit: people,
  queue: async () => (await import('./ops/queue.ts')).QUEUE_OPS as unknown as OperationDef[],
  policy: async () => [...(await import('./ops/policy.ts')).POLICY_OPS, ...(await import('./ops/explain.ts')).EXPLAIN_OPS as unknown as OperationDef[]],
  reports: async () => (await import('./ops/reports.ts')).REPORT_OPS as unknown as OperationDef[],
  tokens: async () => (await import('./tokens.ts')).TOKEN_OPERATIONS as unknown as OperationDef[],
  cases: async () => (await import('./ops/cases.ts')).CASE_OPS as unknown as OperationDef[],
  exemptions: async () => (await import('./ops/exemptions.ts')).EXEMPTION_OPS as unknown as OperationDef[],
  addresses: async () => (await import('./ops/directory.ts')).DIRECTORY_OPS as unknown as OperationDef[],
  staff: async () => (await import('./ops/staff.ts')).STAFF_OPS as unknown as OperationDef[],
  stats: async () => (await import('./ops/stats.ts')).STATS_OPS as unknown as OperationDef[],
};

/** All operations, once each, in a stable order. */
export async function loadOperations(): Promise<readonly OperationDef[]> {
  const lists = await Promise.all([...new Set(Object.values(DOMAINS))].map((d) => d()));
  const all = lists.flat();
  if (new Set(all.map((o) => o.name)).size !== all.length) throw new Error('two operations share a name');
  return all;
}

/** The operation of that name; `internal` when there is none (a front end's bug, not the client's). */
export async function loadOperation(name: string): Promise<OperationDef> {
  const d = DOMAINS[name.split('.')[0]];
  const op = d ? (await d()).find((o) => o.name === name) : undefined;
  if (!op) throw new AppError('internal', `no operation ${name}`);
  return op;
}
