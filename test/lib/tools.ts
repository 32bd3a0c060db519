// Shared test helpers: finding real peers (swaks, postfix, redis-server, nft…).
// Locally a missing tool skips the test with a reason; under CI (CI=true) it
// fails, because .ci/run installs every tool the suite needs.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Returns a skip reason (string) when a tool is missing outside CI, throws under CI, or false when present. */
export function needTools(...cmds: string[]): string | false {
  const missing = cmds.filter((c) => !which(c));
  if (!missing.length) return false;
  const msg = `missing tools: ${missing.join(', ')} (.ci/run installs them)`;
  if (process.env.CI === 'true') throw new Error(msg);
  return msg;
}

/** True when we may create network namespaces (root with CAP_SYS_ADMIN). */
export function canUseNetns(): boolean {
  try {
    execFileSync('unshare', ['--net', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function tempDir(prefix = 'pw-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A small tmpfs mounted on a fresh directory, for disk-full tests (root only).
 * Returns the mount point and a remove() that unmounts and deletes it, or a skip reason.
 */
export function smallTmpfs(options: string, prefix = 'pw-tmpfs-'): { path: string; remove(): void } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a small tmpfs' };
  const dir = tempDir(prefix);
  const path = join(dir.path, 'mnt');
  mkdirSync(path);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path], { stdio: 'ignore' });
  } catch {
    dir.remove();
    return { skip: 'cannot mount a tmpfs here' };
  }
  return {
    path,
    remove: () => {
      try { execFileSync('umount', [path]); } finally { dir.remove(); }
    },
  };
}

/** A loopback port number that was free a moment ago (listen on 0, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `cond` every `stepMs` until it holds; throws "timed out waiting for WHAT" after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 5000, stepMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
