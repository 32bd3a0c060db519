// The address sources on the fleet's store: the same RADIUS server (radclient),
// detail follower and Kea follower writing into the directory on a private
// PostgreSQL, as nodes of a fleet do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger, systemClock } from '../../src/core/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { openDirectory, DetailSource, KeaLeaseSource, PositionFiles, RadiusServer, parseClients, type OpenedDirectory } from '../../src/directory/index.ts';
import { postgresBin, startPostgres, type TestPostgres } from '../lib/postgres.ts';
import { needTools, tempDir } from '../lib/tools.ts';
import { radclient, packet } from '../lib/radclient.ts';

const found = postgresBin();
const skip = ('skip' in found ? found.skip : false) || needTools('radclient');
const T = Math.floor(Date.now() / 1000) - 3600;
let pg: TestPostgres | undefined;
let store: Store;
let dir: OpenedDirectory;
let tmp: { path: string; remove(): void };

before(async () => {
  if (skip) return;
  pg = await startPostgres();
  store = await openStore({ kind: 'postgres', url: await pg.createDatabase('pw_sources') });
  dir = await openDirectory(store, { clock: systemClock, logger: new MemoryLogger() });
  tmp = tempDir('pw-sources-pg-');
});
after(async () => { await dir?.close(); await store?.close(); await pg?.stop(); tmp?.remove(); });

const holders = async (a: string, at: number, port?: number): Promise<string[]> => (await dir.holdersAt(a, at, port)).map((h) => h.subscriber).sort();

test('RADIUS (Start, Stop, Accounting-On), a detail record and a Kea lease on PostgreSQL', { skip }, async () => {
  const server = new RadiusServer({ repo: dir, clients: parseClients('127.0.0.1 pg-secret\n'), logger: new MemoryLogger() });
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    const s = { 'User-Name': 'uma', 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'u1', 'NAS-Identifier': 'bng1', 'Framed-IP-Address': '100.64.50.1', 'Event-Timestamp': T,
      'Delegated-IPv6-Prefix': '2001:db8:500::/56', 'IP-Port-Range-Ext-IPv4-Addr': '192.0.2.50', 'IP-Port-Range-Range-Start': 1024, 'IP-Port-Range-Range-End': 2047 };
    let r = await radclient(`127.0.0.1:${port}`, 'pg-secret', [packet(s), packet({ ...s, 'User-Name': 'vic', 'Acct-Session-Id': 'v1', 'Framed-IP-Address': '100.64.50.2', 'Delegated-IPv6-Prefix': '2001:db8:501::/56', 'IP-Port-Range-Range-Start': 2048, 'IP-Port-Range-Range-End': 3071 })]);
    assert.equal(r.replies, 2, r.out);
    assert.deepEqual(await holders('2001:db8:500:1::1', T * 1000), ['uma']);
    assert.deepEqual(await holders('192.0.2.50', T * 1000, 2500), ['vic']);
    assert.deepEqual(await holders('192.0.2.50', T * 1000), ['uma', 'vic'], 'without the port: every block holder');
    r = await radclient(`127.0.0.1:${port}`, 'pg-secret', [packet({ ...s, 'Acct-Status-Type': 'Stop', 'Event-Timestamp': T + 60 })]);
    assert.equal(r.replies, 1, r.out);
    assert.deepEqual(await holders('100.64.50.1', (T + 60) * 1000), []);
    r = await radclient(`127.0.0.1:${port}`, 'pg-secret', [packet({ 'Acct-Status-Type': 'Accounting-On', 'NAS-Identifier': 'bng1', 'Event-Timestamp': T + 120 })]);
    assert.equal(r.replies, 1, r.out);
    assert.deepEqual(await holders('100.64.50.2', (T + 120) * 1000), []);
    assert.deepEqual(await holders('100.64.50.2', (T + 119) * 1000), ['vic']);
  } finally {
    await server.close();
  }

  const positions = new PositionFiles(join(tmp.path, 'state'));
  const detail = join(tmp.path, 'detail');
  writeFileSync(detail, `Wed Dec  2 13:20:00 2026\n\tAcct-Status-Type = Start\n\tUser-Name = "wes"\n\tAcct-Session-Id = "w1"\n\tFramed-IP-Address = 100.64.50.3\n\tNAS-IP-Address = 192.0.2.1\n\tEvent-Timestamp = ${T}\n\tTimestamp = ${T + 1}\n\n`);
  const d = new DetailSource({ path: detail, repo: dir, positions, logger: new MemoryLogger() });
  assert.equal(await d.poll(), 1);
  assert.deepEqual(await holders('100.64.50.3', T * 1000), ['wes']);
  await d.stop();

  await dir.putSubscriber({ id: 'xena', access: ['duid:00:03:00:01:02:00:00:00:00:05'] });
  const kea = join(tmp.path, 'kea-leases6.csv');
  writeFileSync(kea, 'address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source\n'
    + `2001:db8:9000::,00:03:00:01:02:00:00:00:00:05,7200,${T + 7200},1,3600,2,1,48,0,0,,,0,,,\n`);
  const k = new KeaLeaseSource({ path: kea, repo: dir, positions, logger: new MemoryLogger() });
  await k.poll();
  assert.deepEqual(await holders('2001:db8:9000:abcd::1', T * 1000 + 1), ['xena']);
  await k.stop();
});
