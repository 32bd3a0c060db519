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

const skip = needTools('python3');

type Case = [field: string, value: string, accept: boolean, note?: string];

// The account alice@isp.example may use alice@ and a.smith@isp.example.
export const CORPUS: Case[] = [
  ['From', 'alice@isp.example', true],
  ['From', 'Alice <alice@isp.example>', true],
  ['From', '"Alice Smith" <alice@isp.example>', true],
  ['From', '"Smith, Alice" <alice@isp.example>', true, 'comma in a quoted display name'],
  ['From', 'Alice Q. Smith <alice@isp.example>', false, 'obs-phrase ("." in a display name): Python flags it obsolete'],
  ['From', '=?utf-8?q?Al=C3=AFce?= <alice@isp.example>', true, 'RFC 2047 display name'],
  ['From', 'Alice <alice@isp.example>, Smith <a.smith@isp.example>', true, 'two own mailboxes'],
  ['From', 'ALICE@ISP.EXAMPLE', true, 'case'],
  ['From', '"alice@isp.example" <alice@isp.example>', true, 'own address as display name'],
  ['From', '\u00c5lice Sm\u00efth <alice@isp.example>', true, 'RFC 6532 UTF-8 display name'],
  ['From', '<alice@isp.example>', true],
  ['From', '  alice@isp.example  ', true],
  ['From', '"Alice \\"the boss\\" Smith" <alice@isp.example>', true, 'quoted-pair in a quoted string'],
  ['From', 'Alice (home) <alice@isp.example>', true, 'comment without address characters'],
  ['Sender', 'alice@isp.example', true],
  ['Resent-From', 'Alice <alice@isp.example>', true],
  ['Resent-Sender', '<a.smith@isp.example>', true],
  ['From', 'bob@evil.example', false, 'foreign address'],
  ['From', 'alice@isp.example <bob@evil.example>', false, 'unquoted display name holding an address'],
  ['From', 'bob@evil.example <alice@isp.example>', false, 'unquoted display name holding a foreign address'],
  ['From', '(bob@evil.example) <alice@isp.example>', false, 'comment holding an address'],
  ['From', 'alice@isp.example (bob@evil.example)', false, 'trailing comment holding an address'],
  ['From', '(comment <bob@evil.example>) alice@isp.example', false, 'comment holding an angle-addr'],
  ['From', '<alice@isp.example> bob@evil.example', false, 'angle-addr followed by text'],
  ['From', '<alice@isp.example>bob@evil.example', false, 'angle-addr followed by text, no space'],
  ['From', '"Alice" <alice@isp.example> <bob@evil.example>', false, 'two angle-addrs'],
  ['From', 'alice@isp.example:bob@evil.example', false, 'addr:addr'],
  ['From', 'bob@evil.example:alice@isp.example', false, 'addr:addr, own one last'],
  ['From', 'Friends: alice@isp.example, bob@evil.example;', false, 'group'],
  ['From', 'Friends: alice@isp.example;', false, 'group of own addresses (not a mailbox-list)'],
  ['From', '"Alice <alice@isp.example>', false, 'unbalanced quote'],
  ['From', '"Alice\\" <alice@isp.example>', false, 'escape eats the closing quote'],
  ['From', 'Alice\\ <alice@isp.example>', false, 'backslash outside quotes'],
  ['From', 'Al"ice <alice@isp.example>', false, 'quote inside a word'],
  ['From', 'alice@isp.example, bob@evil.example', false, 'second mailbox foreign'],
  ['From', '<@evil.example:alice@isp.example>', false, 'obs-route'],
  ['From', 'alice@isp.example@evil.example', false, 'two @'],
  ['From', '"alice@isp.example"@evil.example', false, 'quoted local part holding an address'],
  ['From', '"alice"@isp.example', false, 'quoted local part: a second spelling'],
  ['From', 'alice(x)@isp.example', false, 'comment inside addr-spec'],
  ['From', 'alice @ isp.example', false, 'obs FWS inside addr-spec'],
  ['From', '<alice@isp.example>,', false, 'empty list element'],
  ['From', ',alice@isp.example', false, 'empty list element first'],
  ['From', '=?utf-8?q?bob=40evil.example?= <alice@isp.example>', false, 'encoded display name decoding to a foreign address'],
  ['From', '"bob@evil.example" <alice@isp.example>', false, 'quoted display name holding a foreign address'],
  ['From', 'alice@isp.example; bob@evil.example', false, 'semicolon'],
  ['From', 'Alice <alice@isp.example', false, 'unclosed angle-addr'],
  ['From', 'Alice alice@isp.example>', false, 'stray >'],
  ['From', '<<alice@isp.example>>', false, 'nested angle brackets'],
  ['From', 'Alice <"alice"@isp.example>', false, 'quoted local part in angle-addr'],
  ['From', 'alice@[192.0.2.1]', false, 'domain literal'],
  ['From', 'alice@isp.example.', false, 'trailing dot'],
  ['From', 'Alice\u202e <alice@isp.example>', false, 'bidi override in display name'],
  ['From', 'Alice\u200b <alice@isp.example>', false, 'zero-width space in display name'],
  ['From', '(a (b (c (d)))) alice@isp.example', false, 'comments nested too deep'],
  ['From', '', false, 'empty'],
  ['Sender', 'alice@isp.example, a.smith@isp.example', false, 'Sender: two mailboxes'],
  ['Sender', 'bob@evil.example', false, 'Sender foreign'],
  ['Resent-From', 'bob@evil.example', false, 'Resent-From foreign'],
  ['Resent-Sender', 'Alice <alice@isp.example>, bob@evil.example', false, 'Resent-Sender: two mailboxes'],
  ['Resent-Sender', 'bob@evil.example', false, 'Resent-Sender foreign'],
];

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
      if (py[i].defects?.length) wrong.push(`${label}: accepted, but headerregistry reports defects ${py[i].defects}`);
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
