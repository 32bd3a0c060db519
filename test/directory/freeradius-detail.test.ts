// A real FreeRADIUS 3.2 writes the detail file: radclient sends accounting to a
// private freeradius -X on loopback (a minimal raddb in a temporary directory,
// the detail module in its accounting section), and DetailSource follows the
// file it writes, across appends, logrotate-style rotation and a restart of
// the follower. Times: Event-Timestamp as FreeRADIUS prints it, else the
// record's Timestamp minus Acct-Delay-Time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger } from '../../src/core/index.ts';
import { DetailSource, PositionFiles } from '../../src/directory/index.ts';
import { needTools, tempDir } from '../lib/tools.ts';
import { radclient, packet } from '../lib/radclient.ts';
import { openTestDirectory, type TestDirectory } from '../lib/directory.ts';

const skip = needTools('freeradius', 'radclient');
const SECRET = 'fr-test-secret';
const T = 1_764_681_600;
let tmp: { path: string; remove(): void };
let dir: TestDirectory;
let fr: ChildProcess | undefined;
let target = '';
let detail = '';
let positions: PositionFiles;

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function raddb(root: string, port: number): void {
  for (const d of ['radacct', 'log', 'run']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'dictionary'), '');
  writeFileSync(join(root, 'radiusd.conf'), `
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = ${root}
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
logdir = ${root}/log
run_dir = ${root}/run
db_dir = ${root}
radacctdir = ${root}/radacct
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
  destination = stdout
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
thread pool {
  start_servers = 1
  max_servers = 1
  min_spare_servers = 1
  max_spare_servers = 1
  max_requests_per_server = 0
}
client localhost {
  ipaddr = 127.0.0.1
  secret = ${SECRET}
}
modules {
  detail {
    filename = \${radacctdir}/detail
    header = "%t"
    permissions = 0600
  }
}
server default {
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = ${port}
  }
  accounting {
    detail
  }
}
`);
}

before(async () => {
  if (skip) return;
  tmp = tempDir('pw-freeradius-');
  dir = await openTestDirectory();
  positions = new PositionFiles(join(tmp.path, 'state'));
  const port = await freePort();
  const root = join(tmp.path, 'raddb');
  raddb(root, port);
  detail = join(root, 'radacct', 'detail');
  target = `127.0.0.1:${port}`;
  fr = spawn('freeradius', ['-X', '-d', root, '-n', 'radiusd'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`freeradius did not start:\n${out}`)), 10_000);
    const on = (d: Buffer): void => { out += d.toString(); if (out.includes('Ready to process requests')) { clearTimeout(t); resolve(); } };
    fr!.stdout!.on('data', on);
    fr!.stderr!.on('data', on);
    fr!.once('exit', () => { clearTimeout(t); reject(new Error(`freeradius exited:\n${out}`)); });
  });
  fr.removeAllListeners('exit');
});

after(async () => {
  fr?.kill('SIGTERM');
  await dir?.close();
  tmp?.remove();
});

const holders = async (a: string, at: number, port?: number): Promise<string[]> => (await dir.repo.holdersAt(a, at, port)).map((h) => h.subscriber);
const send = async (...p: Array<Record<string, string | number>>): Promise<void> => {
  const r = await radclient(target, SECRET, p.map(packet));
  assert.equal(r.replies, p.length, r.out);
};

test('what FreeRADIUS writes is applied as the same packets sent to our server would be', { skip }, async () => {
  await send(
    { 'User-Name': 'Nora', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'n1', 'NAS-Identifier': 'bng1', 'Event-Timestamp': T,
      'Framed-IP-Address': '100.64.30.1', 'Delegated-IPv6-Prefix': '2001:db8:300::/56', 'Alc-Nat-Port-Range': '198.51.100.30 4096-8191 router base nat-policy p' },
    { 'User-Name': 'omar "the \\ quoted"', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'o1', 'NAS-Identifier': 'bng1', 'Acct-Delay-Time': 30,
      'Framed-IP-Address': '100.64.30.2', 'IP-Port-Range-Ext-IPv4-Addr': '192.0.2.30', 'IP-Port-Range-Range-Start': 1024, 'IP-Port-Range-Range-End': 2047 },
  );
  assert.ok(existsSync(detail));
  const src = new DetailSource({ path: detail, repo: dir.repo, positions, logger: new MemoryLogger() });
  assert.equal(await src.poll(), 2);
  assert.deepEqual(await holders('100.64.30.1', T * 1000), ['nora']);
  assert.deepEqual(await holders('2001:db8:300:1::1', T * 1000), ['nora']);
  assert.deepEqual(await holders('198.51.100.30', T * 1000, 5000), ['nora']);
  // No Event-Timestamp: FreeRADIUS's Timestamp (its arrival) minus Acct-Delay-Time.
  const ts = Number(/Acct-Delay-Time = 30\n(?:.*\n)*?\tTimestamp = (\d+)/.exec(readFileSync(detail, 'utf8'))![1]);
  const [o] = await dir.repo.currentOf('omar "the \\ quoted"');
  assert.equal(o.start, (ts - 30) * 1000);
  assert.deepEqual(await holders('192.0.2.30', o.start, 1500), ['omar "the \\ quoted"']);

  // Interim and Stop appended by FreeRADIUS.
  await send({ 'User-Name': 'Nora', 'Acct-Status-Type': 'Interim-Update', 'Acct-Session-Id': 'n1', 'NAS-Identifier': 'bng1', 'Event-Timestamp': T + 300, 'Framed-IP-Address': '100.64.30.1', 'Acct-Session-Time': 300 });
  await send({ 'User-Name': 'Nora', 'Acct-Status-Type': 'Stop', 'Acct-Session-Id': 'n1', 'NAS-Identifier': 'bng1', 'Event-Timestamp': T + 600, 'Framed-IP-Address': '100.64.30.1', 'Acct-Session-Time': 600 });
  assert.equal(await src.poll(), 2);
  assert.deepEqual(await holders('100.64.30.1', (T + 599) * 1000), ['nora']);
  assert.deepEqual(await holders('100.64.30.1', (T + 600) * 1000), []);
  assert.deepEqual(await holders('2001:db8:300::1', (T + 600) * 1000), []);

  // logrotate (create): the file is moved away; FreeRADIUS's next write makes a new one.
  renameSync(detail, `${detail}.1`);
  await send({ 'User-Name': 'pia', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'p1', 'NAS-Identifier': 'bng1', 'Event-Timestamp': T + 700, 'Framed-IP-Address': '100.64.30.3' });
  assert.equal(await src.poll(), 1);
  assert.deepEqual(await holders('100.64.30.3', (T + 700) * 1000), ['pia']);
  await src.stop();

  // The follower restarts after FreeRADIUS wrote more: only the new record is read.
  await send({ 'User-Name': 'quinn', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'q1', 'NAS-Identifier': 'bng1', 'Event-Timestamp': T + 800, 'Framed-IP-Address': '100.64.30.4' });
  const writes = dir.writes();
  const again = new DetailSource({ path: detail, repo: dir.repo, positions, logger: new MemoryLogger() });
  assert.equal(await again.poll(), 1);
  assert.deepEqual(await holders('100.64.30.4', (T + 800) * 1000), ['quinn']);
  assert.ok(dir.writes() - writes <= 3, 'one record applied (subscriber created, assigned), nothing re-applied');
  await again.stop();
  assert.deepEqual(src.counts.refused, {});
});
