import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, headerLines, strongest } from './pipeline.ts';
import type { ScanResult } from './types.ts';

const r = (over: Partial<ScanResult>): ScanResult => ({ scanner: 'rspamd', verdict: 'clean', action: 'accept', reason: '', score: null, headers: [], host: '127.0.0.1:11333', ms: 1, ...over });

test('the strongest action wins; reject and tempfail carry the catalogue replies', () => {
  assert.equal(strongest([r({}), r({ action: 'hold' }), r({ action: 'add-header' })]), 'hold');
  const rej = decide([r({ action: 'add-header', verdict: 'add-header' }), r({ scanner: 'clamd', verdict: 'reject', action: 'reject', reason: 'Eicar' })]);
  assert.equal(rej.action, 'reject');
  assert.equal(`${rej.reply?.code} ${rej.reply?.enhanced}`, '554 5.7.1');
  assert.doesNotMatch(String(rej.reply?.text), /Eicar/); // the scanner's reason is for the log
  assert.equal(decide([r({ verdict: 'soft-reject', action: 'tempfail' })]).reply?.code, 451);
  assert.equal(decide([r({ verdict: 'failed', action: 'tempfail' })]).reply?.enhanced, '4.3.0');
  assert.equal(decide([r({ verdict: 'oversize', action: 'reject' })]).reply?.code, 552);
  const held = decide([r({ scanner: 'clamd', verdict: 'hold', action: 'hold', reason: 'Win.Test' })]);
  assert.equal(held.holdReason, 'scan: clamd Win.Test');
  assert.equal(decide([r({})]).reply, undefined);
});

test('scanner headers: names checked, identity fields refused, values encoded (no CR/LF injection)', () => {
  const lines = headerLines([r({ headers: [['X-Spam', 'yes\r\nBcc: victim@example.net'], ['From', 'evil@example.net'], ['Bad Name', 'x'], ['X-Spam-Score', '7.5']] })]);
  assert.equal(lines.length, 2);
  for (const l of lines) {
    assert.ok(l.endsWith('\r\n'));
    assert.doesNotMatch(l.slice(0, -2), /[\r\n](?![ \t])/); // only folding continues a line
  }
  assert.ok(lines[0].startsWith('X-Spam: yes'));
  assert.doesNotMatch(lines.join(''), /^Bcc:/m);
});
