// Real Kea servers hand out real leases: kea-dhcp4 and kea-dhcp6 (2.2) run in a
// network namespace the test creates, a DHCP client (busybox udhcpc for v4,
// ISC dhclient -6 for an address and a delegated prefix) runs in another one
// joined by a veth pair; the memfile lease files are in a temporary
// directory, and KeaLeaseSource turns each lease into an assignment of the
// subscriber the client's hardware address names, and the release into its end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger } from '../../src/core/index.ts';
import { KeaLeaseSource, PositionFiles } from '../../src/directory/index.ts';
import { canUseNetns, needTools, tempDir } from '../lib/tools.ts';
import { openTestDirectory, type TestDirectory } from '../lib/directory.ts';

const skip = needTools('ip', 'kea-dhcp4', 'kea-dhcp6', 'busybox', 'dhclient') || (canUseNetns() ? false : 'needs root for network namespaces');
const id = `pw-${randomBytes(3).toString('hex')}`;
const SRV = `${id}-dhcp`, CLI = `${id}-cpe`;
const MAC = '02:00:5e:10:00:0a';
const sh = (...a: string[]): string => execFileSync(a[0], a.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, ...a: string[]): string => sh('ip', 'netns', 'exec', ns, ...a);
const children: ChildProcess[] = [];
let tmp: { path: string; remove(): void };
let dir: TestDirectory;

before(async () => {
  if (skip) return;
  tmp = tempDir('pw-kea-dhcp-');
  dir = await openTestDirectory();
  await dir.repo.putSubscriber({ id: 'carol', access: [`hw:${MAC}`] });
  for (const ns of [SRV, CLI]) {
    sh('ip', 'netns', 'add', ns);
    inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  inNs(SRV, 'ip', 'link', 'add', 'srv0', 'type', 'veth', 'peer', 'name', 'cpe0');
  inNs(SRV, 'ip', 'link', 'set', 'cpe0', 'netns', CLI);
  inNs(SRV, 'ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'srv0');
  inNs(SRV, 'ip', '-6', 'addr', 'add', '2001:db8:1::1/64', 'dev', 'srv0', 'nodad');
  inNs(SRV, 'ip', 'link', 'set', 'srv0', 'up');
  inNs(CLI, 'ip', 'link', 'set', 'cpe0', 'address', MAC);
  inNs(CLI, 'ip', 'link', 'set', 'cpe0', 'up');
});

after(async () => {
  if (skip) return;
  for (const c of children) c.kill('SIGKILL');
  for (const ns of [CLI, SRV]) {
    for (const p of sh('ip', 'netns', 'pids', ns).split('\n').filter(Boolean)) { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }
    try { sh('ip', 'netns', 'del', ns); } catch { /* already gone */ }
  }
  await dir?.close();
  tmp?.remove();
});

function kea(v: 4 | 6, o: { lfc?: number; name?: string } = {}): string {
  const leases = join(tmp.path, o.name ?? `kea-leases${v}.csv`);
  const common = {
    'interfaces-config': { interfaces: ['srv0'], ...(v === 4 ? { 'dhcp-socket-type': 'raw' } : {}) },
    'lease-database': { type: 'memfile', persist: true, name: leases, 'lfc-interval': o.lfc ?? 0 },
    'valid-lifetime': 600,
    loggers: [{ name: `kea-dhcp${v}`, output_options: [{ output: join(tmp.path, `kea${v}.log`) }], severity: 'INFO' }],
  };
  const conf = v === 4
    ? { Dhcp4: { ...common, subnet4: [{ id: 1, subnet: '198.51.100.0/24', pools: [{ pool: '198.51.100.100 - 198.51.100.150' }] }] } }
    : { Dhcp6: { ...common, 'data-directory': tmp.path, 'preferred-lifetime': 300, subnet6: [{ id: 1, subnet: '2001:db8:1::/64', interface: 'srv0',
      pools: [{ pool: '2001:db8:1::100 - 2001:db8:1::1ff' }], 'pd-pools': [{ prefix: '2001:db8:8000::', 'prefix-len': 48, 'delegated-len': 56 }] }] } };
  const cfg = join(tmp.path, `${o.name ?? `kea${v}`}.json`);
  writeFileSync(cfg, JSON.stringify(conf));
  const c = spawn('ip', ['netns', 'exec', SRV, `kea-dhcp${v}`, '-c', cfg], { stdio: 'ignore', env: { ...process.env, KEA_PIDFILE_DIR: tmp.path, KEA_LOCKFILE_DIR: tmp.path } });
  children.push(c);
  return leases;
}

/** Polls the source until the condition holds (at most ~10 s: bounded, not a timing assertion). */
async function until(src: KeaLeaseSource, cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(src.path)) await src.poll();
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const logs = [4, 6].map((v) => join(tmp.path, `kea${v}.log`)).filter(existsSync).map((f) => readFileSync(f, 'utf8').split('\n').slice(-6).join('\n'));
  assert.fail(`never saw ${what}; Kea's log ends:\n${logs.join('\n')}`);
}

test('kea-dhcp4 and busybox udhcpc: the lease is carol\'s from its start, the release ends it', { skip }, async () => {
  const leases = kea(4);
  const src = new KeaLeaseSource({ path: leases, repo: dir.repo, positions: new PositionFiles(join(tmp.path, 'state4')), logger: new MemoryLogger() });
  const script = join(tmp.path, 'udhcpc.sh');
  // udhcpc unicasts its release from the leased address, so the script configures it.
  writeFileSync(script, '#!/bin/sh\ncase "$1" in\n deconfig) ip -4 addr flush dev "$interface" ;;\n bound|renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;\nesac\nexit 0\n');
  chmodSync(script, 0o755);
  const before = Date.now();
  const client = spawn('ip', ['netns', 'exec', CLI, 'busybox', 'udhcpc', '-f', '-R', '-i', 'cpe0', '-t', '20', '-T', '1', '-s', script], { stdio: 'ignore' });
  children.push(client);
  await until(src, async () => (await dir.repo.currentOf('carol')).some((a) => a.source === 'kea' && a.prefix.startsWith('198.51.100.')), 'the DHCPv4 lease');
  const [a] = (await dir.repo.currentOf('carol')).filter((x) => x.prefix.startsWith('198.51.100.'));
  assert.ok(a.start >= before - 1000 && a.start <= Date.now(), 'the lease began when Kea granted it');
  assert.match(readFileSync(leases, 'utf8'), new RegExp(`^${a.prefix},${MAC},`, 'm'));
  assert.deepEqual((await dir.repo.holdersAt(a.prefix, Date.now())).map((h) => h.subscriber), ['carol']);

  // Held a few seconds, so that "ended at the last renewal" (a.start, to the second) and "ended at the release" differ.
  await new Promise((r) => setTimeout(r, Math.max(0, a.start + 3000 - Date.now())));
  const releasedAt = Date.now();
  client.kill('SIGTERM'); // udhcpc -R: DHCPRELEASE on exit
  await until(src, async () => (await dir.repo.currentOf('carol')).every((x) => x.prefix !== a.prefix), 'the release');
  const ended = (await dir.repo.history({ subscriber: 'carol' })).find((x) => x.id === a.id)!;
  // Kea's release row says only the last renewal; the end is when the row was written, after we asked for the release
  // (file times come from the kernel's coarse clock, a few ms behind: a second of slack).
  assert.ok(ended.end! >= releasedAt - 1000 && ended.end! <= Date.now(), `ended ${ended.end} (release asked at ${releasedAt})`);
  assert.deepEqual((await dir.repo.holdersAt(a.prefix, Date.now() + 1)).map((h) => h.subscriber), []);
  await src.stop();
});

test('kea-dhcp6 and dhclient -6: an address and a delegated /56 are carol\'s (by the hardware address in the DUID), the release ends both', { skip }, async () => {
  const leases = kea(6);
  const src = new KeaLeaseSource({ path: leases, repo: dir.repo, positions: new PositionFiles(join(tmp.path, 'state6')), logger: new MemoryLogger() });
  const args = ['-6', '-N', '-P', '-lf', join(tmp.path, 'dhclient6.leases'), '-pf', join(tmp.path, 'dhclient6.pid'), '-sf', '/bin/true', 'cpe0'];
  const v6 = async (): Promise<string[]> => (await dir.repo.currentOf('carol')).filter((x) => x.prefix.includes(':')).map((x) => x.prefix).sort();
  // Kea needs a moment to bind; dhclient -1 tries once for a while, and is retried a few times.
  for (let i = 0; i < 5 && (await v6()).length < 2; i++) {
    try { inNs(CLI, 'timeout', '20', 'dhclient', '-1', ...args); } catch { /* no answer yet */ }
    await until(src, async () => true, 'a poll');
  }
  await until(src, async () => (await v6()).length === 2, 'the DHCPv6 address and prefix');
  const held = await v6();
  assert.ok(held.includes('2001:db8:8000::/56') || held.some((p) => p.endsWith('/56')), held.join(' '));
  assert.ok(held.some((p) => p.startsWith('2001:db8:1::')), held.join(' '));
  const pd = held.find((p) => p.endsWith('/56'))!;
  assert.deepEqual((await dir.repo.holdersAt(pd.replace('::/56', '::1'), Date.now())).map((h) => h.subscriber), ['carol']);

  inNs(CLI, 'timeout', '20', 'dhclient', '-r', ...args);
  await until(src, async () => (await v6()).length === 0, 'the DHCPv6 release');
  await src.stop();
});

test('Kea\'s lease file cleanup (kea-lfc every second) rotates the file under the follower; renewals and the release are still seen', { skip }, async () => {
  for (const c of children.splice(0)) c.kill('SIGTERM'); // the servers of the tests above
  await new Promise((r) => setTimeout(r, 500));
  const leases = kea(4, { lfc: 1, name: 'lfc-leases4.csv' });
  const src = new KeaLeaseSource({ path: leases, repo: dir.repo, positions: new PositionFiles(join(tmp.path, 'state-lfc')), logger: new MemoryLogger() });
  const script = join(tmp.path, 'udhcpc.sh');
  const v4 = async () => (await dir.repo.currentOf('carol')).filter((x) => x.prefix.startsWith('198.51.100.'));
  const client = spawn('ip', ['netns', 'exec', CLI, 'busybox', 'udhcpc', '-f', '-R', '-i', 'cpe0', '-t', '20', '-T', '1', '-s', script], { stdio: 'ignore' });
  children.push(client);
  await until(src, async () => (await v4()).length === 1, 'the DHCPv4 lease');
  const [a] = await v4();
  // Let LFC run: the file is renamed to .1, merged into .2, and Kea writes into a new file.
  await until(src, async () => existsSync(`${leases}.2`), 'an LFC run');
  const ino = (await import('node:fs')).statSync(leases).ino;
  inNs(CLI, 'kill', '-USR1', String(client.pid)); // udhcpc: renew now, a row in the new file
  await until(src, async () => readFileSync(leases, 'utf8').split('\n').length > 2 || (await import('node:fs')).statSync(leases).ino !== ino, 'the renewal row');
  assert.equal((await v4())[0]?.id, a.id, 'the renewal folds into the held lease');
  client.kill('SIGTERM');
  await until(src, async () => (await v4()).length === 0, 'the release after LFC');
  assert.deepEqual(src.counts.refused, {});
  await src.stop();
});
