// The exemption sweep wired: the sweep operation as the system actor, audited,
// offering renewal with a real notice (the notice mailer into a real spool):
// to the subscriber's contacts, linking to the request's portal page, and
// never asking for a password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { ManualClock, silentLogger } from '../core/index.ts';
import { parseConfig } from '../config/index.ts';
import { openStore } from '../store/index.ts';
import { Spool } from '../spool/index.ts';
import { InProcessBus } from '../events/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { openDirectory } from '../directory/index.ts';
import { asksForPassword } from '../abuse/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, EXEMPTION_MIGRATIONS, ExemptionRepository, type AppDeps } from '../app/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { renewalOffer, requestUrl, sweepOnce } from './exemptions-wiring.ts';

const DAY = 86_400_000;

test('the sweep offers renewal once, with a notice to the contacts linking to the portal page, and marks the end; audited as system:exemptions only when it changed something', async (t) => {
  const dir = tempDir('pw-exsweep-');
  t.after(() => dir.remove());
  const cfg = parseConfig([
    'hostname: msa.isp.example', `dataDir: ${JSON.stringify(dir.path)}`, 'listeners: [{name: submission, host: 127.0.0.1, port: 0, tls: none}]',
    'relay: {smarthost: "127.0.0.1:9"}', 'portal: {publicUrl: "https://portal.isp.example/"}', 'abuse: {notices: {from: "ISP Desk <desk@isp.example>"}}', '',
  ].join('\n'), 'pw.yaml');
  const store = await openStore({ kind: 'sqlite', path: join(dir.path, 'state.db') });
  t.after(() => store.close());
  await store.migrate([...AUDIT_MIGRATIONS, ...EXEMPTION_MIGRATIONS]);
  const spool = await Spool.open(join(dir.path, 'spool'), { logger: silentLogger });
  t.after(() => spool.close());
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 12));
  const directory = await openDirectory(store, { clock, logger: silentLogger, memory: false });
  t.after(() => directory.close());
  await directory.putSubscriber({ id: 'cust-a', tier: 'premium', contacts: ['alice@home.example', 'ops@cust-a.example'] });
  const repo = new ExemptionRepository(store.db, () => clock.now());
  const app: AppDeps = {
    clock, logger: silentLogger, audit: new AuditLog(store.db), policy: new PolicyStore(store, clock), directory,
    exemptions: { repo, settings: { tiers: ['premium'], minAccountAgeDays: 0, caseFreeDays: 90, maxDays: 365, renewBeforeDays: 14 }, dns: { reverse: async () => [], forward: async () => [] } },
  };
  app.exemptions!.offer = renewalOffer({ cfg, logger: silentLogger, bus: new InProcessBus({ logger: silentLogger }), spool, app });
  const r = await repo.create({ subscriber: 'cust-a', account: 'alice@isp.example', prefix: '198.51.100.7', server: 'mail.cust-a.example', reason: 'own server', checks: [], by: 'subscriber:alice@isp.example' });
  await repo.transition(r.id, ['pending'], { state: 'granted', expiresAt: clock.now() + 20 * DAY }, { actor: 'staff:dora', step: 'granted for 20 days', reason: 'ok' });

  assert.deepEqual(await sweepOnce(app), { expired: [], offered: [], noticeFailures: [] });
  clock.advance(7 * DAY);
  assert.deepEqual(await sweepOnce(app), { expired: [], offered: [r.id], noticeFailures: [] });
  assert.deepEqual((await sweepOnce(app)).offered, [], 'once');
  const ids = spool.list('active');
  assert.equal(ids.length, 2, 'one message per contact');
  const msgs = await Promise.all(ids.map(async (id) => ({ env: (await spool.read(id))!, body: await text(spool.body(id)) })));
  assert.deepEqual(msgs.map((m) => m.env.envelope.recipients.map((x) => x.address)).flat().sort(), ['alice@home.example', 'ops@cust-a.example']);
  const body = msgs[0].body;
  assert.match(body, /^Subject: Your port 25 exemption ends soon \(exemption-\d+\)\r$/m);
  assert.ok(body.includes(requestUrl(cfg, r.id)), body);
  assert.equal(requestUrl(cfg, r.id), `https://portal.isp.example/exemption/${r.id}`);
  assert.match(body, /address 198\.51\.100\.7, mail server mail\.cust-a\.example/);
  assert.match(body, /until 22 December 2026, 12:00 UTC/);
  assert.equal(asksForPassword(body), null);

  clock.advance(14 * DAY);
  assert.deepEqual((await sweepOnce(app)).expired, [r.id]);
  assert.equal((await repo.get(r.id))!.state, 'expired');
  const audit = (await app.audit!.list({})).entries.filter((e) => e.action === 'exemptions.sweep');
  assert.ok(audit.length === 2 && audit.every((e) => e.actorKind === 'system' && e.actor === 'exemptions' && e.outcome === 'ok'), JSON.stringify(audit));
});
