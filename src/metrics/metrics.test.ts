import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MemoryLogger } from '../core/index.ts';
import { needTools } from '../../test/lib/tools.ts';
import { serveMetrics } from '../../test/lib/http.ts';
import { createMetrics, replyLabels, type Metrics } from './index.ts';

const run = promisify(execFile);
const skip = needTools('curl');

async function serve(t: { after(fn: () => Promise<void>): void }, m: Metrics, logger?: MemoryLogger): Promise<string> {
  const server = await serveMetrics(m, logger);
  t.after(() => server.close());
  return server.url;
}

/** curl -i: status line, headers, body. */
async function curl(...args: string[]): Promise<{ status: number; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-s', '-i', '--max-time', '5', ...args]);
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split);
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)![1]), headers: head, body: stdout.slice(split + 4) };
}

/** The sample value of one series in the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

test('GET /metrics serves the exposition text with the Prometheus content type; curl reads what was counted', { skip }, async (t) => {
  let queue: Record<string, number> = { incoming: 0, active: 2, deferred: 5, hold: 1 };
  const m = createMetrics({ queueSizes: () => queue });
  const base = await serve(t, m);
  m.sessionOpened('submission');
  m.sessionOpened('submission');
  m.sessionOpened('submissions');
  m.sessionClosed('submission');
  m.authAttempt('plain', 'success');
  m.authAttempt('PLAIN', 'failure');
  m.authAttempt('SCRAM-SHA-256', 'success');
  m.message({ code: 250, enhanced: '2.0.0' });
  m.message({ code: 450, enhanced: '4.7.1' });
  m.message({ code: 550, enhanced: '5.7.28' });
  m.recipient({ code: 250, enhanced: '2.1.5' });
  m.recipient({ code: 452, enhanced: '4.5.3' });
  m.limitDecision({ outcome: 'limited', hit: { rule: { scope: 'prefix' } } });
  m.limitDecision({ outcome: 'flood', hit: { rule: { scope: 'account' } } });
  m.limitDecision({ outcome: 'ok', degraded: true });
  m.limitDecision({ outcome: 'unavailable' });
  m.lockout('ip');
  m.relayOutcome('sent');
  m.relayAttempt('sent', 42);
  m.relayOutcome('deferred');
  m.relayAttempt('deferred', 3000);
  m.transaction('submission', 3);
  m.transaction('submission', 700);

  const r = await curl(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers, /^content-type: text\/plain; version=0\.0\.4; charset=utf-8$/im);
  const x = r.body;
  assert.match(x, /^# TYPE portwarden_sessions_total counter$/m);
  assert.equal(sample(x, 'portwarden_sessions_total{listener="submission"}'), 2);
  assert.equal(sample(x, 'portwarden_sessions_open{listener="submission"}'), 1);
  assert.equal(sample(x, 'portwarden_sessions_open{listener="submissions"}'), 1);
  assert.equal(sample(x, 'portwarden_auth_total{mechanism="PLAIN",outcome="success"}'), 1);
  assert.equal(sample(x, 'portwarden_auth_total{mechanism="PLAIN",outcome="failure"}'), 1);
  assert.equal(sample(x, 'portwarden_auth_total{mechanism="SCRAM-SHA-256",outcome="success"}'), 1);
  assert.equal(sample(x, 'portwarden_messages_total{verdict="accepted",code="250",enhanced="2.0.0"}'), 1);
  assert.equal(sample(x, 'portwarden_messages_total{verdict="deferred",code="450",enhanced="4.7.1"}'), 1);
  assert.equal(sample(x, 'portwarden_messages_total{verdict="rejected",code="550",enhanced="5.7.28"}'), 1);
  assert.equal(sample(x, 'portwarden_recipients_total{verdict="deferred",code="452",enhanced="4.5.3"}'), 1);
  assert.equal(sample(x, 'portwarden_limit_hits_total{scope="prefix",outcome="limited"}'), 1);
  assert.equal(sample(x, 'portwarden_limit_hits_total{scope="account",outcome="flood"}'), 1);
  assert.equal(sample(x, 'portwarden_limit_store_degraded_total{result="fallback"}'), 1);
  assert.equal(sample(x, 'portwarden_limit_store_degraded_total{result="refused"}'), 1);
  assert.equal(sample(x, 'portwarden_auth_lockouts_total{scope="ip"}'), 1);
  assert.equal(sample(x, 'portwarden_relay_total{outcome="sent"}'), 1);
  assert.equal(sample(x, 'portwarden_queue_messages{state="deferred"}'), 5);
  assert.equal(sample(x, 'portwarden_queue_messages{state="active"}'), 2);
  // Histogram: 3 ms lands in le=0.005 but not le=0.0025; 700 ms in le=1; both in +Inf.
  assert.equal(sample(x, 'portwarden_transaction_duration_seconds_bucket{le="0.0025",listener="submission"}'), 0);
  assert.equal(sample(x, 'portwarden_transaction_duration_seconds_bucket{le="0.005",listener="submission"}'), 1);
  assert.equal(sample(x, 'portwarden_transaction_duration_seconds_bucket{le="0.5",listener="submission"}'), 1);
  assert.equal(sample(x, 'portwarden_transaction_duration_seconds_bucket{le="1",listener="submission"}'), 2);
  assert.equal(sample(x, 'portwarden_transaction_duration_seconds_bucket{le="+Inf",listener="submission"}'), 2);
  assert.equal(sample(x, 'portwarden_transaction_duration_seconds_count{listener="submission"}'), 2);
  assert.ok(Math.abs(sample(x, 'portwarden_transaction_duration_seconds_sum{listener="submission"}')! - 0.703) < 1e-9);
  assert.equal(sample(x, 'portwarden_relay_attempt_duration_seconds_bucket{le="5",outcome="deferred"}'), 1);
  assert.ok(sample(x, 'portwarden_process_resident_memory_bytes')! > 0, 'process metrics present');

  // The queue gauge is read at each scrape, so a drained state goes to its new value.
  queue = { active: 0, deferred: 1 };
  const again = (await curl(`${base}/metrics?x=1`)).body;
  assert.equal(sample(again, 'portwarden_queue_messages{state="deferred"}'), 1);
  assert.equal(sample(again, 'portwarden_queue_messages{state="hold"}'), undefined);
});

test('other paths are 404, other methods 405, HEAD has no body', { skip }, async (t) => {
  const m = createMetrics({ processMetrics: false });
  const base = await serve(t, m);
  assert.equal((await curl(`${base}/`)).status, 404);
  assert.equal((await curl(`${base}/metricsx`)).status, 404);
  const post = await curl('-X', 'POST', `${base}/metrics`);
  assert.equal(post.status, 405);
  assert.match(post.headers, /^allow: GET, HEAD$/im);
  const head = await curl('-I', `${base}/metrics`);
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('label values a client can steer are bounded: no per-client series', { skip }, async (t) => {
  const m = createMetrics({ processMetrics: false, maxListeners: 2 });
  const base = await serve(t, m);
  for (let i = 0; i < 200; i++) {
    m.authAttempt(`X-EVIL-${i}`, 'failure');
    m.recipient({ code: 250 + i * 7, enhanced: `5.${i}.${i}x` });
    m.sessionOpened(`listener-${i}`);
    m.limitDecision({ outcome: 'limited', hit: { rule: { scope: `s${i}` } } });
  }
  const x = (await curl(`${base}/metrics`)).body;
  const series = (name: string) => x.split('\n').filter((l) => l.startsWith(`${name}{`)).length;
  assert.equal(series('portwarden_auth_total'), 1);
  assert.equal(sample(x, 'portwarden_auth_total{mechanism="other",outcome="failure"}'), 200);
  assert.ok(series('portwarden_recipients_total') <= 60, 'codes are 3-digit within 200..599 or "other"');
  assert.equal(series('portwarden_sessions_total'), 3); // two named listeners + other
  assert.equal(sample(x, 'portwarden_limit_hits_total{scope="other",outcome="limited"}'), 200);
  assert.deepEqual(replyLabels({ code: 999, enhanced: '5.7.1' }), { verdict: 'rejected', code: 'other', enhanced: '5.7.1' });
});

test('a failing queue-size source does not fail the scrape', { skip }, async (t) => {
  const logger = new MemoryLogger();
  const m = createMetrics({ processMetrics: false, logger, queueSizes: async () => { throw new Error('spool gone'); } });
  const base = await serve(t, m, logger);
  m.relayOutcome('bounced');
  const r = await curl(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.equal(sample(r.body, 'portwarden_relay_total{outcome="bounced"}'), 1);
  assert.ok(logger.records.some((l) => l.msg === 'queue size collection failed'));
});
