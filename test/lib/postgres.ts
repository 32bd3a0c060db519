// A private PostgreSQL for tests: initdb in a temp dir, the server listening on a
// unix socket in that dir and on a loopback port, removed afterwards. The Debian
// package's binaries (postgresql-15) are used; PostgreSQL refuses to run as root,
// so under root initdb and postgres run as the `postgres` user the package
// creates, on a directory chowned to it. Missing: a skip reason locally, an error
// under CI (.ci/run installs the package).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './tools.ts';

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth, loopback only). */
  url: string;
  port: number;
  /** The directory holding the unix socket (.s.PGSQL.PORT). */
  socketDir: string;
  /** A fresh, empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The server's bin directory, or a skip reason (thrown under CI). */
export function postgresBin(): { bin: string } | { skip: string } {
  const bin = BIN_DIRS.find((d) => existsSync(join(d, 'postgres')) && existsSync(join(d, 'initdb')));
  if (bin) return { bin };
  const msg = 'PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)';
  if (process.env.CI === 'true') throw new Error(msg);
  return { skip: msg };
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function startPostgres(): Promise<TestPostgres> {
  const found = postgresBin();
  if ('skip' in found) throw new Error(found.skip);
  const dir = mkdtempSync(join(tmpdir(), 'pw-pg-'));
  const user = runAs();
  if (user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const opts = { ...(user ?? {}), stdio: 'pipe' as const, env: { ...process.env, LC_ALL: 'C' } };
  execFileSync(join(found.bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], opts);
  const port = await freePort();
  const child: ChildProcess = spawn(join(found.bin, 'postgres'), [
    '-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=60', '-c', 'shared_buffers=32MB',
  ], { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => { if (log.length < 20_000) log += b.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // fast shutdown
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    url, port, socketDir: dir, stop,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: lower-case letters, digits, _`);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try { await c.query(`CREATE DATABASE ${name}`); } finally { await c.end(); }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
  };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      return;
    } catch {
      await c.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('postgres did not accept connections within 10 s');
}
