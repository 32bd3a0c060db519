// The data directory holds password hashes, SCRAM keys, the attribution log,
// the TLS key and queued mail (issue 10, item 14). The real process is started
// with umask 000 (everything it creates would be world-writable if it left
// modes to the umask) on a data directory left loose by hand: afterwards
// nothing under it may be readable by group or others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CaptureSink } from '../lib/sink.ts';
import { NextHop, Portwarden } from '../lib/portwarden.ts';
import { authedClient } from '../lib/smtpclient.ts';
import { tempDir, until } from '../lib/tools.ts';

const ACCOUNT = { login: 'fay@isp.example', password: 'fays-long-password' };
const mode = (p: string): number => lstatSync(p).mode & 0o777;
const octal = (m: number): string => `0${m.toString(8)}`;

/** Every path under dir (dir included) whose mode lets group or others in. */
function loose(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o077) out.push(`${p} ${octal(st.mode & 0o777)}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(dir);
  return out;
}

async function submit(pw: Portwarden, subject: string): Promise<string> {
  const c = await authedClient(pw.port('submissions'), ACCOUNT.login, ACCOUNT.password, { implicit: true });
  try {
    assert.equal((await c.cmd(`MAIL FROM:<${ACCOUNT.login}>`)).code, 250);
    assert.equal((await c.cmd('RCPT TO:<gus@example.net>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    const r = await c.cmd(`From: <${ACCOUNT.login}>\r\nTo: <gus@example.net>\r\nSubject: ${subject}\r\n\r\nhi\r\n.`);
    assert.equal(r.code, 250, r.text);
    return /queued as (\S+)/.exec(r.text)![1];
  } finally {
    c.close();
  }
}

test('a loose data directory is tightened on start, and what the server creates is 0600/0700 even under umask 000', { timeout: 60_000 }, async (t) => {
  const old = process.umask(0); // inherited by the CLI and server processes spawned below
  t.after(() => process.umask(old));
  const base = tempDir('pw-files-');
  const dataDir = join(base.path, 'data');
  // As an operator's `mkdir` and an older version would have left it: 0755 directories, a 0644 database.
  mkdirSync(join(dataDir, 'spool', 'deferred'), { recursive: true, mode: 0o755 });
  for (const d of [dataDir, join(dataDir, 'spool'), join(dataDir, 'spool', 'deferred')]) chmodSync(d, 0o755);
  const db = new DatabaseSync(join(dataDir, 'state.db'));
  db.exec('CREATE TABLE left_by_hand (x)');
  db.close();
  chmodSync(join(dataDir, 'state.db'), 0o644);

  const sink = new CaptureSink();
  const hop = await NextHop.reserve(await sink.listen()); // down: mail stays queued, so its file can be looked at
  const pw = await Portwarden.start({ smarthost: `127.0.0.1:${hop.port}`, accounts: [ACCOUNT], dataDir });
  t.after(async () => { await pw.destroy(); await sink.close(); base.remove(); });

  const id = await submit(pw, 'mode check');
  await until(async () => readdirSync(join(dataDir, 'spool', 'deferred')).includes(id), 'the message in deferred/', 10_000);
  assert.equal(mode(dataDir), 0o700);
  assert.equal(mode(join(dataDir, 'state.db')), 0o600);
  for (const f of ['state.db-wal', 'state.db-shm', 'tls/key.pem']) assert.equal(octal(mode(join(dataDir, f))), '0600', f);
  assert.equal(octal(mode(join(dataDir, 'spool', 'deferred', id))), '0600', 'queue file');
  assert.deepEqual(loose(dataDir), [], 'nothing under the data directory is open to group or others');
  // Each loosened path was named in a warning.
  const warned = pw.logsOf('permissions').map((l) => String(l.path));
  for (const p of [dataDir, join(dataDir, 'state.db'), join(dataDir, 'spool'), join(dataDir, 'spool', 'deferred')]) {
    assert.ok(warned.includes(p), `warning for ${p}: ${JSON.stringify(warned)}`);
  }
});

test('a data directory created from nothing (by `account add`, then start) under umask 000 is private', { timeout: 60_000 }, async (t) => {
  const old = process.umask(0);
  t.after(() => process.umask(old));
  const sink = new CaptureSink();
  const hop = await NextHop.reserve(await sink.listen());
  const pw = await Portwarden.start({ smarthost: `127.0.0.1:${hop.port}`, accounts: [ACCOUNT] });
  t.after(async () => { await pw.destroy(); await sink.close(); });
  await submit(pw, 'fresh');
  const dataDir = join(pw.dir, 'data');
  assert.ok(statSync(join(dataDir, 'state.db-wal')).isFile());
  assert.deepEqual(loose(dataDir), []);
  assert.deepEqual(pw.logsOf('permissions'), [], 'nothing needed tightening');
});
