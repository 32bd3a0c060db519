// D5: what we spool must satisfy an RFC 5322 parser that is not ours. Python's
// email package with policy.strict reports header defects (bad dates,
// malformed addresses, missing separator) as errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { needTools } from '../../test/lib/tools.ts';
import { run } from './testkit.ts';

const PY = `
import sys, json, base64, email, email.policy
out = []
for b in json.load(sys.stdin):
    try:
        m = email.message_from_bytes(base64.b64decode(b), policy=email.policy.strict)
        defects = [type(d).__name__ for d in m.defects]
        for k, v in m.items():
            defects += [k + ': ' + type(d).__name__ for d in getattr(v, 'defects', [])]
        out.append({'defects': defects, 'mid': str(m['Message-ID']), 'date': str(m['Date']), 'subject': str(m['Subject'])})
    except Exception as e:
        out.append({'defects': [repr(e)]})
print(json.dumps(out))
`;

const INPUTS = [
  'From: Alice <alice@isp.example>\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nbody\r\n',
  'From: a@isp.example\r\nSubject: s\r\n%%garbage\r\nx\r\n\r\nbody\r\n',
  'From: a@isp.example\r\nX-A: 1\r\n \t\r\nSubject: s\r\n\r\nbody\r\n',
  'From: a@isp.example\r\nSubject: a\rContent-Type: text/html\r\n\r\nb\r\n',
  `From: a@isp.example\r\nSubject: ${'word '.repeat(2500)}end\r\n\r\nb\r\n`,
  'From: a@isp.example\r\nDate: yesterday\r\nMessage-ID: nope\r\nBcc: x@y\r\nReturn-Path: <r@x>\r\n\r\nb\r\n',
  'From: a@isp.example\r\nSubject: s\r\n\r\nx\n.\r\nMAIL FROM:<a@b>\r\ny\r.\r\nend',
];

describe('strict RFC 5322 parse by Python email (policy.strict)', () => {
  const skip = needTools('python3');
  it('every fixer output parses without a defect', { skip }, async () => {
    const outs = [];
    for (const text of INPUTS) outs.push((await run(text)).out.toString('base64'));
    const res = JSON.parse(execFileSync('python3', ['-c', PY], { input: JSON.stringify(outs), encoding: 'utf8', timeout: 20_000 })) as
      Array<{ defects: string[]; mid: string; date: string; subject: string }>;
    assert.equal(res.length, INPUTS.length);
    res.forEach((r, i) => {
      assert.deepEqual(r.defects, [], `input ${i}`);
      assert.match(r.mid, /^<[^@]+@mail\.isp\.example>$/, `input ${i}`);
      assert.equal(r.date, 'Thu, 01 Jan 2026 00:00:00 +0000', `input ${i}`);
    });
    assert.equal(res[3].subject, 'a Content-Type: text/html');
    assert.equal(res[4].subject, `${'word '.repeat(2500)}end`);
  });
});
