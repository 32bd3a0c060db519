// auth: who may submit mail. SASL PLAIN (RFC 4616), LOGIN and SCRAM-SHA-256
// (RFC 5802, RFC 7677) server mechanisms for the SMTP engine's AUTH (RFC 4954),
// the account store (logins, subscribers, status, tiers, allowed sender
// addresses) and the password hashes an ISP already holds (argon2id, bcrypt,
// SHA-512-crypt, Dovecot {SCHEME} forms and passwd-files).
//
// Trusts: the store (its SQL and its data) and the core types. Trusts nothing a
// client sends: every SASL message is parsed strictly, an unknown user (or an
// account without SCRAM keys) is indistinguishable from a wrong password (reply,
// and timing: a dummy argon2id and one failure floor), and a disabled account is
// revealed (525 5.7.13, RFC 5248) only after the password proved correct. Hash
// work is bounded (hash-pool.ts). Brute-force counting is the limits part's: the
// SASL exchanges ask a `gate` with the login before any lookup or hash, and
// report each outcome through `onResult` so the caller can feed the counters.
// Logins are normalised per RFC 8265 (UsernameCaseMapped) and UTS #46.
export { AccountStore, AccountError, AUTH_MIGRATIONS } from './accounts.ts';
export type {
  Account, AccountErrorCode, AccountRepository, AccountStatus, AuthRecord, CredentialSource, NewAccount,
} from './accounts.ts';
export { Authenticator } from './authenticator.ts';
export { KnownPrefixTable, type KnownPrefixRepository } from './known-prefixes.ts';
export type { AuthFailure, AuthResult, AuthenticatorOptions, AuthorizeHook, LoginGate, ScramLookup } from './authenticator.ts';
export { ARGON2_PARAMS, checkPassword, hashPassword, identifyHash, needsRehash, verifyPassword } from './hashes.ts';
export type { HashCaps, HashScheme, VerifyOptions, VerifyResult } from './hashes.ts';
export { configureHashing, hashStats, HashBusyError, HASH_WORKER_URL } from './hash-pool.ts';
export type { HashingOptions } from './hash-pool.ts';
export { normalizeAddress, normalizeLogin } from './names.ts';
export type { ImportOptions, ImportResult, PasswdEntry } from './passwd-file.ts';
export { AUTH_FAILED, MALFORMED, TEMPORARY, accountDisabled } from './replies.ts';
export { deriveScramCredentials, SCRAM_ITERATIONS } from './scram-keys.ts';
export { loadScramSecret } from './scram-secret.ts';
export type { ScramCredentials } from './scram-keys.ts';
export { createSaslServer, SASL_MECHANISMS } from './sasl/index.ts';
export type { SaslMechanism } from './sasl/index.ts';
export type { SaslOptions, SaslOutcome } from './sasl/common.ts';
export type { SaslExchange, SaslStep } from './sasl/types.ts';
