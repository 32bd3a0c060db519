// The brute-force lock as auth sees it: consulted with the login before any
// lookup or hash work, and answered the same whatever the password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply } from '../core/index.ts';
import { kit } from './testkit.ts';
import { createSaslServer } from './sasl/index.ts';
import type { SaslOutcome } from './sasl/common.ts';

const LOCKED = reply(454, '4.7.0', 'Too many failed authentication attempts; try again later');
const B = (s: string) => Buffer.from(s);

test('a locked login is refused before its password is looked at: same reply for right and wrong, no lookup, no hash', async () => {
  const waits: number[] = [];
  const k = await kit({ failureFloorMs: 300, wait: async (ms: number) => { waits.push(ms); } });
  try {
    await k.accounts.add({ login: 'alice@isp.example', password: 'right' });
    let lookups = 0;
    const authRecord = k.accounts.authRecord.bind(k.accounts);
    k.accounts.authRecord = (l: string) => { lookups++; return authRecord(l); };
    const asked: string[] = [];
    const outcomes: SaslOutcome[] = [];
    const opts = { gate: async (login: string) => { asked.push(login); return LOCKED; }, onResult: (o: SaslOutcome) => outcomes.push(o) };
    const right = await createSaslServer(k.auth, 'PLAIN', opts)!.step(B('\0alice@isp.example\0right'));
    const wrong = await createSaslServer(k.auth, 'PLAIN', opts)!.step(B('\0alice@isp.example\0wrong'));
    const login = createSaslServer(k.auth, 'LOGIN', opts)!;
    await login.step(B('ALICE@isp.example'));
    const viaLogin = await login.step(B('right'));
    const scram = await createSaslServer(k.auth, 'SCRAM-SHA-256', opts)!.step(B('n,,n=alice@isp.example,r=abc'));
    for (const s of [right, wrong, viaLogin, scram]) assert.deepEqual(s, { type: 'failure', reply: LOCKED });
    assert.deepEqual(asked, ['alice@isp.example', 'alice@isp.example', 'ALICE@isp.example', 'alice@isp.example']);
    assert.equal(lookups, 0, 'nothing was looked up or verified');
    assert.deepEqual(outcomes.map((o) => o.fail), ['locked', 'locked', 'locked', 'locked']);
    assert.deepEqual(waits, [300, 300, 300, 300], 'each waits the failure floor, as a failure does');
    // Unlocked, the same exchange goes on as usual.
    const open = await createSaslServer(k.auth, 'PLAIN', { gate: async () => null })!.step(B('\0alice@isp.example\0right'));
    assert.equal(open.type, 'success');
  } finally { k.done(); }
});
