import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReport } from './parse.ts';
import { ARF, GARBAGE, PLAIN, SPARSE, own } from '../../../test/lib/abuse-reports.ts';

test('full ARF: Source-IP and Arrival-Date', async () => {
  const r = await parseReport(ARF, { isOwn: own });
  assert.deepEqual(r, { kind: 'arf', feedbackType: 'abuse', userAgent: 'SomeFBL/1.0', reportedMessageId: '<spam1@zombie>',
    source: '198.51.100.7', sourcePort: 40123, sourceFrom: 'Source-IP', at: Date.parse('2026-12-02T08:30:00Z'), atFrom: 'Arrival-Date', subject: 'report' });
});

test('sparse ARF: the first own Received hop and its date', async () => {
  const r = await parseReport(SPARSE, { isOwn: own });
  assert.equal(r.kind, 'arf');
  assert.equal(r.source, '198.51.100.20');
  assert.equal(r.sourceFrom, 'Received');
  assert.equal(r.at, Date.parse('2026-12-02T09:00:00Z'));
  assert.equal(r.atFrom, 'Received');
  assert.equal(r.reportedMessageId, '<spam2@zombie>');
});

test('plain complaint with the original attached: CGNAT hop 100.64.1.2', async () => {
  const r = await parseReport(PLAIN, { isOwn: own });
  assert.equal(r.kind, 'plain');
  assert.equal(r.source, '100.64.1.2');
  assert.equal(r.sourceFrom, 'Received');
  assert.equal(r.at, Date.parse('2026-12-02T07:00:00Z'));
  assert.equal(r.atFrom, 'Received');
});

test('garbage: plain, no source, no throw', async () => {
  const r = await parseReport(GARBAGE, { isOwn: own });
  assert.equal(r.kind, 'plain');
  assert.equal(r.source, null);
  assert.equal(r.sourceFrom, 'none');
});
