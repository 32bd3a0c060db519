// Issue 10 item 2: sender binding covers every originator field and agrees
// with other parsers. Each form goes through the whole MSA decision (the real
// MessageFixer and SubmissionHandler, accounts faked) and, in one python3
// process, through email.headerregistry and email.utils.getaddresses: whatever
// portwarden accepts, Python must read as the account's own addresses only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needTools } from '../../test/lib/tools.ts';
import { pyReadAddresses } from '../../test/lib/pyemail.ts';
import type { Verdict } from '../core/index.ts';
import { makeKit, OWNED } from './testkit.ts';
import { CORPUS } from '../../test/lib/originator-corpus.ts';

const skip = needTools('python3');

function message(field: string, value: string): string {
  const from = field === 'From' ? '' : 'From: alice@isp.example\r\n';
  return `${from}${field}: ${value}\r\nTo: bob@example.org\r\nSubject: corpus\r\n\r\nbody\r\n`;
}

describe('originator fields: strict, and read alike by Python (issue 10 item 2)', { skip }, () => {
  it(`a corpus of ${CORPUS.length} header forms: accepted ones read as the account's own addresses only`, async () => {
    assert.ok(CORPUS.length >= 40);
    const kit = makeKit();
    const verdicts: Verdict[] = [];
    for (const [field, value] of CORPUS) verdicts.push(await kit.send(kit.session(), 'alice@isp.example', ['bob@example.org'], message(field, value)));
    const py = pyReadAddresses(CORPUS.map(([f, v]) => [f, v]));
    const wrong: string[] = [];
    CORPUS.forEach(([field, value, accept, note], i) => {
      const v = verdicts[i];
      const label = `${field}: ${JSON.stringify(value)}${note ? ` (${note})` : ''}`;
      if (v.ok !== accept) wrong.push(`${label}: expected ${accept ? 'accept' : 'refuse'}, got ${v.ok ? 'accept' : `${v.reply?.code} ${v.reply?.enhanced} ${v.reply?.text}`}`);
      if (!v.ok) {
        if (v.reply?.code !== 550 || !v.reply.enhanced?.startsWith('5.7.')) wrong.push(`${label}: refusal is not 550 5.7.x: ${JSON.stringify(v.reply)}`);
        return;
      }
      // Differential: both Python readers see only the account's addresses, as many as we did.
      for (const [which, list] of [['headerregistry', py[i].registry], ['getaddresses', py[i].utils], ['getaddresses(strict=False)', py[i].utils_lax]] as const) {
        if (!list || list.length === 0 || !list.every((a) => OWNED.has(a.toLowerCase()))) wrong.push(`${label}: accepted, but ${which} reads ${JSON.stringify(list)}`);
      }
      // Obsolete syntax (the "." of "A. Smith") is read the same and only flagged; anything else is a disagreement.
      const defects = (py[i].defects ?? []).filter((d) => d !== 'ObsoleteHeaderDefect');
      if (defects.length) wrong.push(`${label}: accepted, but headerregistry reports defects ${defects}`);
    });
    assert.deepEqual(wrong, []);
  });

  it('every originator field is bound: one From and one Sender at most, each Resent block checked', async () => {
    const kit = makeKit();
    const s = kit.session();
    const send = (h: string) => kit.send(s, 'alice@isp.example', ['bob@example.org'], `${h}To: bob@example.org\r\n\r\nb\r\n`);
    assert.equal((await send('From: alice@isp.example\r\nFrom: alice@isp.example\r\n')).ok, false, 'two From fields');
    assert.equal((await send('From: alice@isp.example\r\nSender: alice@isp.example\r\nSender: alice@isp.example\r\n')).ok, false, 'two Sender fields');
    assert.equal((await send('From: alice@isp.example\r\nResent-From: alice@isp.example\r\nResent-From: bob@evil.example\r\n')).ok, false, 'second Resent block foreign');
    assert.equal((await send('From: alice@isp.example\r\nResent-Sender: alice@isp.example\r\nResent-From: alice@isp.example\r\nResent-Sender: a.smith@isp.example\r\n')).ok, true, 'two own Resent blocks');
    assert.equal((await send('Sender: alice@isp.example\r\n')).ok, false, 'no From');
  });
});

describe('originator fields: only the four are read', () => {
  it('a harmless field named like an Object.prototype member is not bound (Constructor:, __proto__:)', async () => {
    const kit = makeKit();
    const s = kit.session();
    for (const name of ['Constructor', '__proto__', 'toString']) {
      const v = await kit.send(s, 'alice@isp.example', ['bob@example.org'], `From: alice@isp.example\r\n${name}: hello world\r\nTo: bob@example.org\r\n\r\nb\r\n`);
      assert.equal(v.ok, true, `${name}: ${JSON.stringify(v.reply)}`);
    }
  });
});
