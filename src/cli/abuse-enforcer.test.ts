// The Enforcer over a real PolicyStore, AccountStore, Spool and audit log in a
// temporary directory: each method changes exactly what it returns, leaves what
// someone else did alone, and every change is audited with the actor "abuse".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { AccountStore, Authenticator } from '../auth/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { Spool, listQueue } from '../spool/index.ts';
import { AUDIT_MIGRATIONS, AuditLog } from '../app/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { createEnforcer } from './abuse-enforcer.ts';

describe('abuse enforcer', () => {
  const tmp = tempDir('pw-enforcer-');
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 12));
  const logger = new MemoryLogger();
  let store: Store, policy: PolicyStore, accounts: AccountStore, spool: Spool, audit: AuditLog;
  let enforcer: ReturnType<typeof createEnforcer>;
  const desk = { actor: 'alice-desk', reason: 'manual' };

  const queue = async (account: string, n: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const w = spool.create({ mailFrom: { address: account }, recipients: [{ address: 'x@example.net' }], account });
      w.stream.end(`From: <${account}>\r\nSubject: ${i}\r\n\r\nbody\r\n`);
      await w.commit();
      ids.push(w.id);
    }
    return ids;
  };

  before(async () => {
    store = await openStore(join(tmp.path, 'state.db'));
    await store.migrate(AUDIT_MIGRATIONS);
    policy = await PolicyStore.open(store, clock);
    accounts = await AccountStore.open(store, { clock });
    spool = await Spool.open(join(tmp.path, 'spool'), { logger });
    audit = new AuditLog(store.db);
    enforcer = createEnforcer({ policy, accounts, spool, audit, clock, logger });
  });
  after(async () => { await spool.close(); await store.close(); tmp.remove(); });

  test('quarantine returns only the prefixes it newly quarantined; unquarantine removes them; audited as abuse', async () => {
    assert.ok((await policy.quarantine('198.51.100.9', 's-other', 'desk-1', desk)).ok);
    const rev0 = await enforcer.policyRevision();
    const newly = await enforcer.quarantine('s1', 'case-1', ['2001:DB8:0:100::/56', '198.51.100.9', '192.0.2.7/32', 'nonsense'], 'bot rule fired');
    assert.deepEqual(newly, ['2001:db8:0:100::/56', '192.0.2.7'], 'canonical text; the desk quarantine of 198.51.100.9 is not "newly"');
    const q = new Map((await policy.listQuarantines()).map((x) => [x.prefix, x]));
    assert.equal(q.get('198.51.100.9')?.caseId, 'desk-1', 'the existing quarantine keeps its case');
    assert.equal(q.get('192.0.2.7')?.caseId, 'case-1');
    assert.equal(q.get('192.0.2.7')?.by, 'abuse');
    assert.equal(await enforcer.policyRevision(), rev0 + 2, 'policyRevision is the store revision after the changes');
    const rows = (await policy.audit(10)).filter((r) => r.action === 'quarantine.add' && r.actor === 'abuse');
    assert.deepEqual(rows.map((r) => [r.object, r.reason]).sort(), [['192.0.2.7', 'bot rule fired'], ['2001:db8:0:100::/56', 'bot rule fired']]);

    await enforcer.unquarantine(newly, 'released by the desk');
    assert.deepEqual((await policy.listQuarantines()).map((x) => x.prefix), ['198.51.100.9']);
    const removed = (await policy.audit(10)).filter((r) => r.action === 'quarantine.remove');
    assert.deepEqual(removed.map((r) => [r.actor, r.reason]), [['abuse', 'released by the desk'], ['abuse', 'released by the desk']]);
    await enforcer.unquarantine(['192.0.2.7'], 'again'); // already gone: no error
  });

  test("suspend disables the subscriber's active accounts (AUTH 525 5.7.13) and holds their queued mail; not another subscriber's", async () => {
    await accounts.add({ login: 'zombie@isp.example', password: 'correct horse', subscriber: 's2' });
    await accounts.add({ login: 'zombie2@isp.example', password: 'correct horse', subscriber: 's2' });
    await accounts.add({ login: 'victim@isp.example', password: 'correct horse', subscriber: 's3' });
    await accounts.disable('zombie2@isp.example', 'disabled by the desk last week');
    const mine = await queue('zombie@isp.example', 2);
    const old = await queue('zombie2@isp.example', 1);
    const theirs = await queue('victim@isp.example', 1);

    // Explicit names: the victim's account (a bot at s2 guessing its password) is not s2's to lose.
    const named = await enforcer.suspend('s2', ['zombie@isp.example', 'victim@isp.example'], 'credential abuse');
    assert.deepEqual(named.accounts, ['zombie@isp.example']);
    assert.deepEqual(named.held.sort(), [...mine].sort());
    assert.equal((await accounts.get('victim@isp.example'))?.status, 'active');

    const all = await enforcer.suspend('s2', null, 'credential abuse (case c9 d1)');
    assert.deepEqual(all.accounts, [], 'both are disabled now: nothing newly suspended (the desk-disabled one is not ours to undo)');
    const retry = await enforcer.suspend('s2', null, 'credential abuse');
    assert.deepEqual(retry.accounts, ['zombie@isp.example'], 'a retry of the same decision (same reason) claims the account it disabled before');
    assert.deepEqual(retry.held, []);
    assert.deepEqual(all.held, old, "the already-disabled account's queued mail is held too");
    const held = new Map((await listQueue(spool, ['hold'])).map((m) => [m.id, m]));
    for (const id of [...mine, ...old]) assert.match(held.get(id)?.holdReason ?? '', /^held by abuse: credential abuse/);
    assert.ok(!held.has(theirs[0]));

    const auth = new Authenticator(accounts, { disabledUrl: 'https://isp.example/help', logger: new MemoryLogger(), failureFloorMs: 0 });
    const r = await auth.verifyPlain('zombie@isp.example', 'correct horse');
    assert.ok(!r.ok && `${r.reply.code} ${r.reply.enhanced}` === '525 5.7.13', JSON.stringify(r));

    const trail = (await audit.list({ actor: 'abuse' })).entries;
    assert.deepEqual(trail.map((e) => [e.action, e.object, e.reason, e.actorKind]).sort(), [
      ['abuse.hold', 'queue account=zombie2@isp.example', 'credential abuse (case c9 d1)', 'system'],
      ['abuse.hold', 'queue account=zombie@isp.example', 'credential abuse', 'system'],
      ['abuse.suspend', 'account zombie@isp.example', 'credential abuse', 'system'],
    ]);

    await enforcer.unsuspend(named.accounts, 'desk release');
    assert.equal((await accounts.get('zombie@isp.example'))?.status, 'active');
    assert.equal((await accounts.get('zombie2@isp.example'))?.status, 'disabled', 'not in the list: stays as the desk left it');
    assert.ok((await auth.verifyPlain('zombie@isp.example', 'correct horse')).ok);
    assert.equal((await listQueue(spool, ['hold'])).filter((m) => mine.includes(m.id)).length, 2, 'held mail stays held for the desk');
    const line = logger.records.find((x) => x.action === 'unsuspend');
    assert.match(String(line?.msg), /2 held message\(s\) stay held .*portwarden queue release --account zombie@isp\.example/);
    assert.equal((await audit.list({ actor: 'abuse', action: 'abuse.unsuspend' })).entries.length, 1);
  });

  test("revokeExemptions takes the subscriber's grants and those inside its space, returns them; restore puts them back with their expiry", async () => {
    const day = 86_400_000;
    const t = clock.now();
    assert.ok((await policy.addExemption('203.0.113.5', 'S4', t + 10 * day, desk)).ok, 'same subscriber, other spelling');
    assert.ok((await policy.addExemption('203.0.113.64/29', 'someone', null, desk)).ok, 'inside the subscriber prefix');
    assert.ok((await policy.addExemption('203.0.113.64/29', 'another', t + day, desk)).ok, 'same prefix, another grant');
    assert.ok((await policy.addExemption('203.0.113.0/24', 'business-x', null, desk)).ok, 'wider, another customer: stays');
    const revoked = await enforcer.revokeExemptions('s4', ['203.0.113.64/28'], 'bot rule fired');
    assert.deepEqual(revoked.sort((a, b) => a.customer.localeCompare(b.customer)), [
      { prefix: '203.0.113.64/29', customer: 'another', expiresAt: t + day },
      { prefix: '203.0.113.5', customer: 'S4', expiresAt: t + 10 * day },
      { prefix: '203.0.113.64/29', customer: 'someone', expiresAt: null },
    ]);
    assert.deepEqual((await policy.listExemptions()).map((e) => e.prefix), ['203.0.113.0/24']);
    assert.ok((await policy.audit(20)).some((r) => r.action === 'exempt.remove' && r.actor === 'abuse' && r.reason === 'bot rule fired'));

    clock.advance(2 * day); // "another" expired meanwhile
    await enforcer.restoreExemptions(revoked, 'case released');
    const back = (await policy.listExemptions()).map((e) => [e.prefix, e.customer, e.expiresAt, e.grantedBy]).sort();
    assert.deepEqual(back, [
      ['203.0.113.0/24', 'business-x', null, 'alice-desk'],
      ['203.0.113.5', 'S4', t + 10 * day, 'abuse'],
      ['203.0.113.64/29', 'someone', null, 'abuse'],
    ]);
    const expired = logger.records.filter((x) => x.action === 'restore-exemption');
    assert.deepEqual(expired.map((x) => [x.level, x.customer, x.msg]), [['info', 'another', 'the exemption expired meanwhile; not restored']]);
    await enforcer.restoreExemptions(revoked, 'twice'); // nothing doubles
    assert.equal((await policy.listExemptions()).length, 3);
  });
});
