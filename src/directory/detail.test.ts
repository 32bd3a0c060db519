// Following a FreeRADIUS detail file: records as rlm_detail writes them (header
// line, tab-indented pairs printed as FreeRADIUS prints them, Timestamp, blank
// line), across appends, a half-written record, restarts, rotation (also while
// we were stopped) and truncation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger } from '../core/index.ts';
import { DetailSource, PositionFiles } from './index.ts';
import { detailValue } from './detail-parse.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { openTestDirectory, type TestDirectory } from '../../test/lib/directory.ts';

const T = 1_764_681_600; // Tue Dec  2 13:20:00 2025 UTC
let dir: TestDirectory;
let tmp: { path: string; remove(): void };
let file: string;
let positions: PositionFiles;

before(async () => {
  dir = await openTestDirectory();
  tmp = tempDir('pw-detail-');
  file = join(tmp.path, 'detail');
  positions = new PositionFiles(join(tmp.path, 'state'));
});
after(async () => { await dir.close(); tmp.remove(); });

/** One record the way rlm_detail writes it (the pairs as FreeRADIUS 3.2 prints them: radclient -x shows the same printer). */
function record(ts: number, pairs: string[]): string {
  const header = new Date(ts * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_, d, n, m, y, t) => `${d} ${m} ${String(Number(n)).padStart(2)} ${t} ${y}`);
  return `${header}\n${pairs.map((p) => `\t${p}\n`).join('')}\tTimestamp = ${ts}\n\n`;
}
const start = (user: string, sid: string, ip: string, extra: string[] = []): string[] =>
  [`Acct-Session-Id = "${sid}"`, 'Acct-Status-Type = Start', `User-Name = "${user}"`, `Framed-IP-Address = ${ip}`, 'NAS-IP-Address = 192.0.2.1', ...extra];
const holders = async (a: string, at: number): Promise<string[]> => (await dir.repo.holdersAt(a, at)).map((h) => h.subscriber);
const source = (): DetailSource => new DetailSource({ path: file, repo: dir.repo, positions, logger: new MemoryLogger() });

test('values are unescaped as FreeRADIUS escapes them', () => {
  assert.equal(detailValue('"o\\"brien\\\\x"'), 'o"brien\\x');
  assert.equal(detailValue('"caf\\303\\251"'), 'café');
  assert.equal(detailValue('"caf\\303"'), null, 'not UTF-8');
  assert.equal(detailValue('"unterminated'), null);
  assert.equal(detailValue('Interim-Update'), 'Interim-Update');
});

test('records are applied as they are appended; a half-written one waits; Event-Timestamp, else Timestamp minus Acct-Delay-Time', async () => {
  writeFileSync(file, record(T + 2, start('alice', 'a1', '100.64.1.1', ['Event-Timestamp = "Dec  2 2025 13:20:00 UTC"', 'Delegated-IPv6-Prefix = 2001:db8:200::/56']))
    + record(T + 40, start('Bob', 'b1', '100.64.1.2', ['Acct-Delay-Time = 30', 'Alc-Nat-Port-Range = "198.51.100.7 2048-4095 router base nat-policy p"'])));
  const s = source();
  assert.equal(await s.poll(), 2);
  assert.deepEqual(await holders('100.64.1.1', T * 1000), ['alice']);
  assert.deepEqual(await holders('2001:db8:200:1::1', T * 1000), ['alice']);
  assert.equal((await dir.repo.currentOf('bob'))[0].start, (T + 10) * 1000);
  assert.deepEqual((await dir.repo.holdersAt('198.51.100.7', (T + 10) * 1000, 3000)).map((h) => h.subscriber), ['bob']);

  const stop = record(T + 100, ['Acct-Session-Id = "a1"', 'Acct-Status-Type = Stop', 'User-Name = "alice"', 'Framed-IP-Address = 100.64.1.1', 'NAS-IP-Address = 192.0.2.1', 'Acct-Session-Time = 100']);
  appendFileSync(file, stop.slice(0, 40));
  assert.equal(await s.poll(), 0, 'a half-written record is not read');
  appendFileSync(file, stop.slice(40));
  assert.equal(await s.poll(), 1);
  assert.deepEqual(await holders('100.64.1.1', (T + 100) * 1000), []);
  assert.deepEqual(await holders('100.64.1.1', (T + 99) * 1000), ['alice']);
  await s.stop();
});

test('a restart goes on from the saved position; rotation is followed, also when it happened while stopped', async () => {
  const writes = dir.writes();
  const s = source();
  assert.equal(await s.poll(), 0, 'nothing read twice after a restart');
  assert.equal(dir.writes(), writes);

  // Rotation while running: the writer adds one more record to the old file, then a new file begins.
  renameSync(file, `${file}.1`);
  appendFileSync(`${file}.1`, record(T + 200, start('carol', 'c1', '100.64.1.3')));
  writeFileSync(file, record(T + 210, start('dave', 'd1', '100.64.1.4')));
  assert.equal(await s.poll(), 2);
  assert.deepEqual(await holders('100.64.1.3', (T + 200) * 1000), ['carol']);
  assert.deepEqual(await holders('100.64.1.4', (T + 210) * 1000), ['dave']);
  await s.stop();

  // Rotation while stopped: the rest of the old file is found by its inode.
  appendFileSync(file, record(T + 300, start('erin', 'e1', '100.64.1.5')));
  renameSync(file, `${file}.2`);
  writeFileSync(file, record(T + 310, start('frank', 'f1', '100.64.1.6')));
  const s2 = source();
  assert.equal(await s2.poll(), 2);
  assert.deepEqual(await holders('100.64.1.5', (T + 300) * 1000), ['erin']);
  assert.deepEqual(await holders('100.64.1.6', (T + 310) * 1000), ['frank']);

  // Truncation in place (logrotate copytruncate), and a new record as long as the old content: the size alone cannot tell.
  truncateSync(file, 0);
  writeFileSync(file, record(T + 400, start('grace', 'g1', '100.64.1.7')));
  assert.equal(record(T + 400, start('grace', 'g1', '100.64.1.7')).length, record(T + 310, start('frank', 'f1', '100.64.1.6')).length);
  assert.equal(await s2.poll(), 1);
  assert.deepEqual(await holders('100.64.1.7', (T + 400) * 1000), ['grace']);
  await s2.stop();
});

test('a bad record is counted and skipped; a store failure keeps the position and the record is applied at the next poll', async () => {
  const s = source();
  await s.poll();
  appendFileSync(file, 'garbage without pairs\n\tnot a pair\n\n' + record(T + 500, ['Acct-Status-Type = Start', 'Acct-Session-Id = "x"', 'NAS-IP-Address = 192.0.2.1']) + record(T + 510, start('heidi', 'h1', '100.64.1.8')));
  dir.failNext(1);
  await assert.rejects(s.poll());
  assert.deepEqual(await holders('100.64.1.8', (T + 510) * 1000), []);
  assert.equal(await s.poll(), 3);
  assert.deepEqual(await holders('100.64.1.8', (T + 510) * 1000), ['heidi']);
  assert.ok((s.counts.refused.malformed ?? 0) >= 1);
  assert.ok((s.counts.refused['user-name'] ?? 0) >= 1);

  // A record far past any FreeRADIUS writes (64 KiB without a blank line) is skipped whole, the next one read.
  appendFileSync(file, `Wed Dec  2 13:20:00 2026\n\tUser-Name = "${'x'.repeat(200_000)}"\n\n` + record(T + 520, start('ivy', 'i1', '100.64.1.9')));
  for (let i = 0; i < 10 && !(await holders('100.64.1.9', (T + 520) * 1000)).length; i++) await s.poll(); // bounded: one poll suffices
  assert.equal(s.counts.refused.oversize, 1);
  assert.deepEqual(await holders('100.64.1.9', (T + 520) * 1000), ['ivy']);
  await s.stop();
});
