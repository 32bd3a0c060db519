// Dovecot passwd-file lines: user:password:uid:gid:gecos:home:shell:extra_fields.
// Only user and password matter for submission; uid and gecos are kept because an
// ISP may have recorded the customer number there. planImport decides line by
// line what can go in; AccountStore writes the result in one transaction.
import type { Logger } from '../core/index.ts';
import { hashCapError, identifyHash, newCredentials, scramFromHash, type HashCaps } from './hashes.ts';
import { normalizeLogin } from './names.ts';
import type { ScramCredentials } from './scram-keys.ts';

export interface PasswdEntry {
  line: number;
  user: string;
  password: string;
  uid: string;
  gecos: string;
}

export interface PasswdParse {
  entries: PasswdEntry[];
  bad: Array<{ line: number; reason: string }>;
}

export function parsePasswdFile(text: string): PasswdParse {
  const entries: PasswdEntry[] = [];
  const bad: PasswdParse['bad'] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const f = raw.split(':');
    if (f.length < 2) { bad.push({ line, reason: 'no password field' }); continue; }
    const [user, password, uid = '', , gecos = ''] = f;
    if (user === '') { bad.push({ line, reason: 'empty user' }); continue; }
    if (password === '') { bad.push({ line, reason: 'empty password field' }); continue; }
    entries.push({ line, user, password, uid, gecos });
  }
  return { entries, bad };
}

export interface ImportOptions {
  /** Where the subscriber id comes from; default the login. A function returning null skips the line. */
  subscriberFrom?: 'login' | 'uid' | 'gecos' | ((entry: PasswdEntry) => string | null);
  /** Import {PLAIN} lines by hashing them now (argon2id + SCRAM); off by default. */
  allowPlain?: boolean;
  tier?: string;
  /** PBKDF2 count for the SCRAM keys of {PLAIN} lines; the store passes its own. */
  scramIterations?: number;
  /** Lines whose hash would cost more than this per login are skipped; the store passes its own. */
  hashCaps?: HashCaps;
}

export interface ImportResult {
  imported: number;
  skipped: Array<{ line: number; reason: string }>;
}

export interface ImportRow {
  line: number;
  login: string;
  subscriber: string;
  hash: string;
  scram: ScramCredentials | null;
}

export async function planImport(text: string, opts: ImportOptions, logger: Logger): Promise<{ rows: ImportRow[]; skipped: ImportResult['skipped'] }> {
  const { entries, bad } = parsePasswdFile(text);
  const skipped = [...bad];
  const rows: ImportRow[] = [];
  const seen = new Set<string>();
  const pending: Array<Promise<void>> = [];
  for (const e of entries) {
    const login = normalizeLogin(e.user);
    if (login === null) { skipped.push({ line: e.line, reason: 'invalid login' }); continue; }
    if (seen.has(login)) { skipped.push({ line: e.line, reason: `duplicate login ${login}` }); continue; }
    const id = identifyHash(e.password);
    if ('error' in id) { skipped.push({ line: e.line, reason: id.error }); continue; }
    const capped = hashCapError(id, opts.hashCaps);
    if (capped) { skipped.push({ line: e.line, reason: capped }); continue; }
    if (id.scheme === 'plain' && !opts.allowPlain) {
      skipped.push({ line: e.line, reason: 'cleartext {PLAIN} password (import with allowPlain to hash it)' });
      continue;
    }
    const subscriber = subscriberOf(e, login, opts.subscriberFrom);
    if (!subscriber) { skipped.push({ line: e.line, reason: 'no subscriber' }); continue; }
    seen.add(login);
    const row: ImportRow = { line: e.line, login, subscriber, hash: e.password, scram: scramFromHash(e.password) };
    rows.push(row);
    if (id.scheme === 'plain') {
      if (id.body === '') { rows.pop(); seen.delete(login); skipped.push({ line: e.line, reason: 'empty password' }); continue; }
      logger.warn({ login, line: e.line }, 'importing a cleartext password; hashing it with argon2id');
      pending.push(newCredentials(id.body, opts.scramIterations).then((c) => { row.hash = c.hash; row.scram = c.scram; }));
      // The argon2 pool has a few threads; keep the queue short on big files.
      if (pending.length >= 8) await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
  return { rows, skipped };
}

function subscriberOf(e: PasswdEntry, login: string, from: ImportOptions['subscriberFrom']): string | null {
  if (typeof from === 'function') return from(e);
  if (from === 'uid') return e.uid || null;
  if (from === 'gecos') return e.gecos || null;
  return login;
}
