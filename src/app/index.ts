// app: the application layer. Every operation a provider's staff (or a part
// acting on its own) can perform, declared once with its schemas and scope,
// returning a result or an error from one catalogue of coded errors, and
// writing an audit record for every mutation. The CLI, the control socket and
// the HTTP API call these and nothing else.
//
// Trusts: the repositories it is given and the actor its front end
// authenticated. Trusts nothing in an operation's input: the schemas are
// checked by the front end (HTTP: Fastify's validator; CLI: the same
// schemas through `check()`), and each operation checks meaning.
export { AppError, ERRORS, ERROR_CODES, asAppError, isAppError, type ErrorCode } from './errors.ts';
export { SCOPES, STAFF_ROLES, scopeAllows, systemActor, type Actor, type ActorKind, type Context, type Scope, type StaffRole } from './actor.ts';
export { invoke, operation, redact, type AuditEntry, type AuditSink, type HttpMethod, type OperationDef } from './operation.ts';
export {
  TOKEN_MIGRATIONS, TOKEN_OPERATIONS, TOKEN_PREFIX, TokenRepository, tokenHash, tokensAdd, tokensList, tokensRevoke,
  type TokenDeps, type TokenInfo,
} from './tokens.ts';
export { AuditLog, AUDIT_MIGRATIONS, AUDIT_PAGE_MAX, type AuditQuery, type AuditRow } from './audit.ts';
export { need, type AppDeps, type LimitsLookup, type RelayKick, type TierPolicy } from './deps.ts';
export { loadOperation, loadOperations } from './registry.ts';
export { actorRefusal, roleAllows } from './roles.ts';
export { checkInput } from './check.ts';
export {
  STAFF_MIGRATIONS, STAFF_NAME, STAFF_PASSWORD_MAX, STAFF_PASSWORD_MIN, StaffRepository, TOTP_PERIOD_S, checkedStaffName, generatePassword, staffName, totpFor,
  type CodeCheck, type NewTotp, type PasswordCheck, type StaffInfo,
} from './staff.ts';
export { StaffAccess, addressKey, nameKey, sessionHash, type LockPolicy, type SessionRow, type SessionStage } from './staff-access.ts';
export { ADDRESS_CLASSES, PORT25_REASONS, explainPolicy, type Explanation } from './ops/explain.ts';
export {
  CHECK_NAMES, EXEMPTION_MIGRATIONS, EXEMPTION_STATES, ExemptionRepository, dnsResolver, runChecks,
  type DnsAsk, type ExemptionCheck, type ExemptionDesk, type ExemptionRequest, type ExemptionSettings, type ExemptionState, type ExemptionStep,
} from './exemptions.ts';
