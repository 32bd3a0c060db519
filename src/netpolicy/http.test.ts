// The edge endpoint over real HTTPS, driven by curl: tokens bound to edge names,
// bounded reports, canonical and deduplicated sources, pruning, and a failure
// inside a handler answering 500 instead of reaching the process.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import { openStore } from '../store/index.ts';
import { run } from '../../test/lib/portwarden.ts';
import { loopbackCert } from '../../test/lib/cert.ts';
import { serveEdge } from '../../test/lib/http.ts';
import { needTools, tempDir } from '../../test/lib/tools.ts';
import { PolicyStore, createEdgeEndpoint, parseTokenFile, runPolicyCommand, type PolicyHttpOptions } from './index.ts';

const skip = needTools('curl', 'openssl');
const T1 = 'edge1-token-0123456789abcdef', T2 = 'edge2-token-0123456789abcdef';

async function endpoint(t: TestContext, over: Partial<PolicyHttpOptions> = {}) {
  const dir = tempDir('pw-edge-http-');
  const cert = loopbackCert();
  const store = await openStore(join(dir.path, 'state.db'));
  const clock = new ManualClock(1_700_000_000_000);
  const logger = new MemoryLogger();
  const policy = await PolicyStore.open(store, clock);
  const server = await serveEdge({
    store, clock, logger, tls: { cert: cert.cert, key: cert.key },
    tokens: [{ edge: 'edge1', token: T1 }, { edge: 'edge2', token: T2 }], ...over,
  });
  t.after(async () => { await server.close(); await store.close(); cert.remove(); dir.remove(); });
  const base = `${server.url}/v1/netpolicy`;
  /** curl with the test CA; returns the status and the body. */
  const curl = async (path: string, token: string, opts: { edge?: string; body?: string } = {}) => {
    const args = ['-sS', '--cacert', cert.certFile, '-H', `Authorization: Bearer ${token}`, '-w', '\n%{http_code}'];
    if (opts.edge) args.push('-H', `X-Portwarden-Edge: ${opts.edge}`);
    if (opts.body !== undefined) {
      const f = join(dir.path, 'body');
      writeFileSync(f, opts.body);
      args.push('-H', 'Content-Type: application/json', '--data-binary', `@${f}`);
    }
    const r = await run('curl', [...args, `${base}${path}`]);
    const nl = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl), stderr: r.stderr };
  };
  const report = (token: string, edge: string, blocked: unknown[], extra: object = {}) =>
    curl('/report', token, { body: JSON.stringify({ edge, version: '', blocked, ...extra }) });
  return { store, clock, logger, policy, curl, report };
}

test('token file: "EDGE-NAME TOKEN" lines; a bare token, a short token or a repeated name is refused with its line', async () => {
  const good = parseTokenFile(`# edges\nbng1 ${T1}\n\nbng2   ${T2}\n`, 'tokens');
  assert.deepEqual(good, { ok: true, value: [{ edge: 'bng1', token: T1 }, { edge: 'bng2', token: T2 }] });
  const bad = parseTokenFile(`${T1}\nbng1 short\nbng2 ${T2}\nbng2 ${T1}x\nb/ad ${T1}y\n`, '/etc/pw/tokens');
  assert.equal(bad.ok, false);
  const lines = !bad.ok ? bad.error.split('\n') : [];
  assert.match(lines[0], /^\/etc\/pw\/tokens:1: a bare token cannot be bound to an edge; write "EDGE-NAME TOKEN"/);
  assert.match(lines[1], /^\/etc\/pw\/tokens:2: the token of bng1 must be 16 to 512/);
  assert.match(lines[2], /^\/etc\/pw\/tokens:4: edge bng2 is listed twice/);
  assert.match(lines[3], /^\/etc\/pw\/tokens:5: edge name "b\/ad"/);
  assert.ok(!bad.ok && !bad.error.includes(T1), 'no token is echoed');
  assert.equal(parseTokenFile('# nothing\n', 'tokens').ok, false);
});

test('a token speaks for its own edge only: another edge\'s name gets 403', { skip }, async (t) => {
  const { curl, report, policy } = await endpoint(t);
  assert.equal((await curl('/compiled', T2, { edge: 'edge2' })).status, 200);
  assert.equal((await curl('/compiled', T2, { edge: 'edge1' })).status, 403);
  assert.equal((await curl('/compiled', 'no-such-token-0123456789')).status, 401);
  const r = await report(T2, 'edge1', [{ source: '198.51.100.7', packets: 1, destinations: 1 }]);
  assert.equal(r.status, 403, r.body);
  assert.deepEqual((await policy.blocked()), [], 'nothing stored for the forged edge');
  assert.equal((await report(T1, 'edge1', [{ source: '198.51.100.7', packets: 1, destinations: 1 }])).status, 200);
  assert.deepEqual((await policy.blocked()).map((b) => [b.edge, b.source]), [['edge1', '198.51.100.7']]);
});

test('reports are bounded: a body over maxReportBytes and more entries than maxReportEntries get 413', { skip }, async (t) => {
  const { report, policy } = await endpoint(t, { maxReportBytes: 4096, maxReportEntries: 50 });
  const entry = (i: number) => ({ source: `198.51.100.${i % 250}`, packets: 1, destinations: 1 });
  const big = await report(T1, 'edge1', Array.from({ length: 200 }, (_, i) => entry(i)));
  assert.equal(big.status, 413, big.body + big.stderr);
  const many = await report(T1, 'edge1', Array.from({ length: 51 }, () => 0));
  assert.equal(many.status, 413, many.body);
  assert.match(many.body, /more than 50 blocked sources/);
  assert.deepEqual((await policy.blocked()), []);
});

test('sources: one canonical IP address each; duplicates merged with their largest counts, the rest counted as rejected', { skip }, async (t) => {
  const bus = new InProcessBus();
  const published: string[] = [];
  bus.subscribe('edge.blocked', (e) => published.push(`${e.edge} ${e.source} ${e.packets} ${e.destinations}`));
  const { report, policy, logger } = await endpoint(t, { bus });
  const r = await report(T1, 'edge1', [
    { source: '2001:DB8:0:0::1', packets: 3, destinations: 2 },
    { source: '2001:db8::1', packets: 5, destinations: 1 },
    { source: '198.51.100.9', packets: 1, destinations: 1 },
    { source: '198.51.100.9', packets: 1, destinations: 4 },
    { source: 'evil\r\nX-Injected: 1', packets: 1, destinations: 1 },
    { source: '198.51.100.0/24', packets: 1, destinations: 1 },
    { source: '198.51.100.10', packets: -1, destinations: 1 },
    { source: '198.51.100.11', packets: '7', destinations: 1 },
    { source: 42 }, null, 'x',
  ]);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { accepted: 2, rejected: 7, duplicates: 2 });
  assert.deepEqual((await policy.blocked()).map((b) => [b.source, b.packets, b.destinations]).sort(), [['198.51.100.9', 1, 4], ['2001:db8::1', 5, 2]]);
  assert.deepEqual(published.sort(), ['edge1 198.51.100.9 1 4', 'edge1 2001:db8::1 5 2'], 'each stored source is published as edge.blocked, canonical');
  const warn = logger.records.find((x) => x.msg === 'netpolicy: report entries refused');
  assert.ok(warn && !/[\r\n]/.test(JSON.stringify(warn.example).replace(/\\[rn]/g, '')), JSON.stringify(warn));
});

test('counters an edge has not refreshed within the retention are pruned', { skip }, async (t) => {
  const { report, policy, clock, store } = await endpoint(t, { reportRetentionMs: 3_600_000 });
  assert.equal((await report(T1, 'edge1', [{ source: '198.51.100.1', packets: 1, destinations: 1 }])).status, 200);
  clock.advance(3_600_001);
  assert.equal((await report(T2, 'edge2', [{ source: '198.51.100.2', packets: 1, destinations: 1 }])).status, 200);
  assert.deepEqual((await policy.blocked()).map((b) => b.edge), ['edge2']);
  // A restarted server prunes before any edge reports.
  clock.advance(3_600_001);
  await createEdgeEndpoint({ store, clock, logger: new MemoryLogger(), tokens: [], reportRetentionMs: 3_600_000 }).ready;
  assert.deepEqual((await policy.blocked()), []);
});

test('an edge reports the policy it refused; the status keeps it, control characters escaped', { skip }, async (t) => {
  const { report, policy, logger, store } = await endpoint(t);
  const r = await report(T1, 'edge1', [], { rejected: { version: 'ab'.repeat(16), error: 'bad interface name: "x\n\u001b[31m"', at: 5 } });
  assert.equal(r.status, 200, r.body);
  const [st] = (await policy.edges());
  assert.equal(st.edge, 'edge1');
  assert.deepEqual(st.rejected, { version: 'ab'.repeat(16), error: 'bad interface name: "x\\n\\x1b[31m"', at: 5 });
  assert.ok(logger.records.some((x) => x.msg === 'netpolicy: an edge refused the pulled policy' && x.edge === 'edge1'));
  let out = '';
  assert.equal(await runPolicyCommand(['edges'], { store, logger, out: (x) => { out += x; }, err: () => {} }), 0);
  assert.match(out, /^edge1 +\(none\) +\S+ +abab\S+: bad interface name: "x\\n\\x1b\[31m"$/m);
  assert.ok(!/[\n\u001b]/.test(out.trim().split('\n')[1]), 'one line, no escape byte');
  assert.equal((await report(T1, 'edge1', [])).status, 200);
  assert.equal((await policy.edges())[0].rejected, null, 'a clean report clears the refusal');
});

test('a refusal with bidi overrides and isolates is stored with them escaped', { skip }, async (t) => {
  const { report, policy } = await endpoint(t);
  const r = await report(T1, 'edge1', [], { rejected: { version: 'ab'.repeat(16), error: 'bad set "\u202eevil\u2066x\u2069\u200f"', at: 5 } });
  assert.equal(r.status, 200, r.body);
  assert.equal((await policy.edges())[0].rejected?.error, 'bad set "\\u202eevil\\u2066x\\u2069\\u200f"');
});

test('garbage, wrong shapes and a failing store answer 4xx/500; the endpoint keeps serving', { skip }, async (t) => {
  const { curl, report, store, logger } = await endpoint(t);
  assert.equal((await curl('/report', T1, { body: '{"edge":' })).status, 400);
  assert.equal((await curl('/report', T1, { body: '{"edge":"edge1","version":"","blocked":{}}' })).status, 422);
  assert.equal((await curl('/report', T1, { body: '[1,2,3]' })).status, 422);
  assert.equal((await curl('/nowhere', T1)).status, 404);
  // The store fails under the handler (a dropped table stands for a full disk or a corrupt page).
  await store.db.run('DROP TABLE netpolicy_blocked');
  const r = await report(T1, 'edge1', [{ source: '198.51.100.1', packets: 1, destinations: 1 }]);
  assert.equal(r.status, 500, r.body);
  assert.ok(logger.records.some((x) => x.msg === 'netpolicy: http handler failed'));
  assert.equal((await curl('/compiled', T1)).status, 200, 'still serving');
});

test('policy agent refuses a plain-http URL, a malformed pin and a token file naming another edge, with usage errors', async () => {
  const dir = tempDir('pw-agent-cli-');
  const store = await openStore(':memory:');
  try {
    const tf = join(dir.path, 'token');
    writeFileSync(tf, `edge1 ${T1}\n`);
    const cli = async (args: string[]) => {
      let err = '';
      const code = await runPolicyCommand(['agent', ...args], { store, logger: new MemoryLogger(), out: () => {}, err: (x) => { err += x; } });
      return { code, err };
    };
    assert.deepEqual(await cli(['--url', 'http://127.0.0.1:1', '--token-file', tf]), { code: 2, err: 'policy: --url: the policy endpoint is HTTPS only: "http://127.0.0.1:1"\n' });
    assert.match((await cli(['--url', 'https://127.0.0.1:1', '--token-file', tf, '--pin', 'md5/abc'])).err, /--pin "md5\/abc": expected sha256\//);
    const other = await cli(['--url', 'https://127.0.0.1:1', '--token-file', tf, '--edge', 'edge2']);
    assert.equal(other.code, 2);
    assert.match(other.err, /must agree/);
  } finally { await store.close(); dir.remove(); }
});

test('acknowledgement: a report naming a version the server served publishes edge.applied with its revision; an unserved one does not', { skip }, async (t) => {
  const bus = new InProcessBus();
  const applied: string[] = [];
  bus.subscribe('edge.applied', (e) => applied.push(`${e.edge} ${e.version} ${e.revision}`));
  const { curl, report, policy } = await endpoint(t, { bus });
  assert.equal((await policy.addPool('198.51.100.0/24', 'dynamic', '', { actor: 'test', reason: 'ack test' })).ok, true);
  const pulled = await curl('/compiled', T1);
  assert.equal(pulled.status, 200, pulled.body);
  const p = JSON.parse(pulled.body) as { version: string; revision: number };
  assert.ok(p.revision > 0);
  assert.equal((await report(T1, 'edge1', [], { version: 'ab'.repeat(32) })).status, 200);
  assert.deepEqual(applied, [], 'a version never served is no acknowledgement');
  assert.equal((await report(T1, 'edge1', [], { version: p.version })).status, 200);
  assert.deepEqual(applied, [`edge1 ${p.version} ${p.revision}`]);
});
