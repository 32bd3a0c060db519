// Following Kea memfile lease files, rows as Kea 2.2 writes them (the header
// lines are copied from files kea-dhcp4/kea-dhcp6 2.2.0 wrote): a lease is an
// assignment from expire − valid_lifetime, a valid_lifetime-0 row ends it,
// an expiry with no row ends it at the expiry, LFC's rename to .1 is followed,
// a restart applies only what is new, unknown devices are counted and skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { KeaLeaseSource, PositionFiles } from './index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { openTestDirectory, type TestDirectory } from '../../test/lib/directory.ts';

const H4 = 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n';
const H6 = 'address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source\n';
const NOW = Math.floor(Date.now() / 1000);
const clock = new ManualClock(NOW * 1000);
let dir: TestDirectory;
let tmp: { path: string; remove(): void };
let positions: PositionFiles;

before(async () => {
  dir = await openTestDirectory();
  tmp = tempDir('pw-kea-');
  positions = new PositionFiles(join(tmp.path, 'state'));
  await dir.repo.putSubscriber({ id: 'alice', access: ['hw:02:00:00:00:00:01'] });
  await dir.repo.putSubscriber({ id: 'bob', access: ['duid:00:01:00:01:32:a2:de:d6:02:00:00:00:00:02'] });
});
after(async () => { await dir.close(); tmp.remove(); });

const v4 = (addr: string, hw: string, vlt: number, expire: number, state = 0): string => `${addr},${hw},01:${hw},${vlt},${expire},1,0,0,,${state},\n`;
const holders = async (a: string, at: number): Promise<string[]> => (await dir.repo.holdersAt(a, at)).map((h) => h.subscriber);

test('DHCPv4: a lease, its renewal, its release; an unknown device is counted; LFC rotation and a restart', async () => {
  const file = join(tmp.path, 'kea-leases4.csv');
  writeFileSync(file, H4 + v4('198.51.100.100', '02:00:00:00:00:01', 3600, NOW + 3000) + v4('198.51.100.101', '02:00:00:00:00:99', 3600, NOW + 3000));
  const src = new KeaLeaseSource({ path: file, repo: dir.repo, positions, logger: new MemoryLogger(), clock });
  await src.poll();
  const start = (NOW - 600) * 1000;
  assert.deepEqual(await holders('198.51.100.100', start), ['alice'], 'from expire − valid_lifetime');
  assert.deepEqual(await holders('198.51.100.100', start - 1), []);
  assert.deepEqual(await holders('198.51.100.101', start), [], 'an unknown device is not recorded');
  assert.equal(src.counts.refused['unknown-subscriber'], 1);

  appendFileSync(file, v4('198.51.100.100', '02:00:00:00:00:01', 3600, NOW + 3500));
  await src.poll();
  const [a] = await dir.repo.currentOf('alice');
  assert.equal(a.start, start, 'a renewal keeps the start');

  // LFC: Kea renames the file to .1 and starts a new one with its header; the release goes into the new one.
  renameSync(file, `${file}.1`);
  writeFileSync(file, H4 + v4('198.51.100.100', '02:00:00:00:00:01', 0, NOW - 100));
  await src.poll();
  const ended = (await dir.repo.history({ subscriber: 'alice' }))[0];
  assert.notEqual(ended.end, null);
  assert.ok(ended.end! >= (NOW - 100) * 1000 && ended.end! <= Date.now(), 'ended when the row was written, not before the last renewal');
  await src.stop();

  // A restart: nothing read twice; a new lease after it is applied.
  const writes = dir.writes();
  const again = new KeaLeaseSource({ path: file, repo: dir.repo, positions, logger: new MemoryLogger(), clock });
  await again.poll();
  assert.equal(dir.writes(), writes);
  appendFileSync(file, v4('198.51.100.102', '02:00:00:00:00:01', 600, NOW + 300));
  await again.poll();
  assert.deepEqual(await holders('198.51.100.102', NOW * 1000), ['alice']);

  // It runs out with no row: ended at its expiry.
  clock.set((NOW + 301) * 1000);
  await again.poll();
  assert.deepEqual(await holders('198.51.100.102', (NOW + 299) * 1000), ['alice']);
  assert.deepEqual(await holders('198.51.100.102', (NOW + 300) * 1000), []);
  await again.stop();
  clock.set(NOW * 1000);
});

test('DHCPv6: an address (IA_NA) and a delegated prefix (IA_PD) by DUID; garbage rows are counted', async () => {
  const file = join(tmp.path, 'kea-leases6.csv');
  const duid = '00:01:00:01:32:a2:de:d6:02:00:00:00:00:02';
  writeFileSync(file, H6
    + `2001:db8:1::100,${duid},3600,${NOW + 3000},1,3000,0,2452881194,128,0,0,,02:00:00:00:00:02,0,,1,2\n`
    + `2001:db8:8000::,${duid},3600,${NOW + 3000},1,3000,2,2452881194,56,0,0,,02:00:00:00:00:02,0,,1,2\n`
    + 'not,a,lease\n');
  const src = new KeaLeaseSource({ path: file, repo: dir.repo, positions, logger: new MemoryLogger(), clock });
  await src.poll();
  assert.deepEqual(await holders('2001:db8:1::100', NOW * 1000), ['bob']);
  assert.deepEqual(await holders('2001:db8:8000:ff::1', NOW * 1000), ['bob']);
  assert.equal(src.counts.refused.malformed, 1);
  appendFileSync(file, `2001:db8:8000::,${duid},0,${NOW - 600},1,0,2,2452881194,56,0,0,,02:00:00:00:00:02,0,,1,2\n`);
  await src.poll();
  assert.deepEqual(await holders('2001:db8:8000:ff::1', Date.now() + 1), []);
  assert.deepEqual(await holders('2001:db8:1::100', Date.now() + 1), ['bob']);
  await src.stop();
});

test('state 2 (expired-reclaimed) ends a lease at its expiry, state 1 (declined) at the decline', async () => {
  const file = join(tmp.path, 'kea-states4.csv');
  const src = new KeaLeaseSource({ path: file, repo: dir.repo, positions, logger: new MemoryLogger(), clock });
  writeFileSync(file, H4 + v4('198.51.100.120', '02:00:00:00:00:01', 3600, NOW + 100) + v4('198.51.100.121', '02:00:00:00:00:01', 3600, NOW + 200));
  await src.poll();
  assert.deepEqual(await holders('198.51.100.120', NOW * 1000), ['alice']);
  appendFileSync(file, v4('198.51.100.120', '02:00:00:00:00:01', 3600, NOW + 100, 2) + v4('198.51.100.121', '', 86400, NOW + 86400 - 50, 1));
  await src.poll();
  const h = await dir.repo.history({ subscriber: 'alice' });
  assert.equal(h.find((a) => a.prefix === '198.51.100.120')!.end, (NOW + 100) * 1000, 'reclaimed: at its expiry');
  assert.equal(h.find((a) => a.prefix === '198.51.100.121')!.end, (NOW - 50) * 1000, 'declined: at the decline (expire − probation)');
  await src.stop();
});
