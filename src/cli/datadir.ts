// The data directory holds password hashes, SCRAM keys, the attribution log,
// the TLS key and queued mail: only the server's own user may read any of it.
// It is created 0700 whatever the umask, and on start anything under it that
// group or others could read is tightened (named in a warning), as Postfix's
// `postfix check` would complain about a loose queue. Symbolic links are left
// alone and not followed: where they point is the operator's business.
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/index.ts';

/** Warnings named one by one; past that, one count (a spool copied with cp -r can hold a million files). */
const NAMED = 20;

/** Creates dir (and missing parents) as 0700; a directory that already exists is left to tightenDataDir. */
export function ensurePrivateDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode passes through the umask; an odd one (0o200) would leave it unusable, so set it outright.
  if (first !== undefined) chmodSync(dir, 0o700);
}

/** Removes group and other permissions from dir and everything under it, naming what it changed. */
export function tightenDataDir(dir: string, logger: Logger): void {
  let changed = 0;
  const fix = (path: string, mode: number): void => {
    const now = mode & 0o700;
    chmodSync(path, now);
    if (++changed <= NAMED) {
      logger.warn({ event: 'permissions', path, was: octal(mode), now: octal(now) }, 'data directory entry was open to group or others; tightened');
    }
  };
  const walk = (path: string, isRoot: boolean): void => {
    const st = isRoot ? statSync(path) : lstatSync(path);
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o7777;
    if (mode & 0o077) fix(path, mode);
    if (st.isDirectory()) for (const e of readdirSync(path)) walk(join(path, e), false);
  };
  walk(dir, true);
  if (changed > NAMED) logger.warn({ event: 'permissions', path: dir, count: changed }, `${changed - NAMED} more entries tightened`);
}

const octal = (m: number): string => `0${m.toString(8)}`;
