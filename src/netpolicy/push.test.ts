// Long-poll push at the edge endpoint over real HTTPS, driven by curl: a pull
// naming the current version is held until policy.changed is published or the
// wait ends; a stale or absent version is answered at once; an edge's second
// wait replaces its first; waiters beyond the cap are answered at once (and
// told so); a client that goes away and a listener that closes free them.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import { openStore } from '../store/index.ts';
import { run } from '../../test/lib/portwarden.ts';
import { loopbackCert } from '../../test/lib/cert.ts';
import { serveEdge } from '../../test/lib/http.ts';
import { needTools, tempDir } from '../../test/lib/tools.ts';
import { PolicyStore, type PolicyHttpOptions } from './index.ts';

const skip = needTools('curl', 'openssl');
const token = (edge: string): string => `${edge}-token-0123456789abcdef`;
const EDGES = ['edge1', 'edge2', 'edge3'];
const by = { actor: 'test', reason: 'push' };

async function endpoint(t: TestContext, over: Partial<PolicyHttpOptions> = {}) {
  const dir = tempDir('pw-push-');
  const cert = loopbackCert();
  const store = await openStore(join(dir.path, 'state.db'));
  const clock = new ManualClock(1_700_000_000_000);
  const bus = new InProcessBus({});
  // As the node wires it: the store's committed changes are published, and the endpoint hears them.
  const policy = await PolicyStore.open(store, clock, { changed: (e) => bus.publish('policy.changed', e) });
  assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', '', by)).ok);
  // No recheck during a test: only the bus can wake a waiter, so a wake proves the push path.
  const server = await serveEdge({
    store, clock, logger: new MemoryLogger(), bus, tls: { cert: cert.cert, key: cert.key }, recheckMs: 600_000,
    tokens: EDGES.map((edge) => ({ edge, token: token(edge) })), ...over,
  });
  let closed = false;
  const close = async (): Promise<void> => { if (!closed) { closed = true; await server.close(); } };
  t.after(async () => { await close(); await store.close(); cert.remove(); dir.remove(); });
  const base = `${server.url}/v1/netpolicy/compiled`;
  /** One pull; status, headers (lower-case names) and body. */
  const pull = async (o: { edge?: string; have?: string; wait?: string; maxTime?: number } = {}) => {
    const args = ['-sS', '--cacert', cert.certFile, '-H', `Authorization: Bearer ${token(o.edge ?? 'edge1')}`, '-D', '-', '-o', '/dev/null', '-w', '%{http_code}'];
    if (o.have) args.push('-H', `If-None-Match: "${o.have}"`);
    if (o.maxTime) args.push('--max-time', String(o.maxTime));
    const r = await run('curl', [...args, o.wait === undefined ? base : `${base}?wait=${o.wait}`], { timeout: 60_000 });
    const headers = new Map<string, string>();
    for (const line of r.stdout.split('\r\n')) { const m = /^([^:\s]+):\s*(.*)$/.exec(line); if (m) headers.set(m[1].toLowerCase(), m[2]); }
    return { code: r.code, status: Number(r.stdout.slice(r.stdout.lastIndexOf('\n') + 1)), headers, etag: (headers.get('etag') ?? '').replaceAll('"', '') };
  };
  const edge = server.edge!;
  /** Waits (bounded) until the endpoint holds n pulls. */
  const holding = async (n: number): Promise<void> => {
    for (let i = 0; i < 500 && edge.waiting() !== n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(edge.waiting(), n, 'pulls held');
  };
  return { policy, bus, pull, holding, edge, close };
}

test('a held pull is answered when policy.changed is published, with the new version', { skip }, async (t) => {
  const { policy, bus, pull, holding } = await endpoint(t);
  const first = await pull({ wait: '30' });
  assert.equal(first.status, 200, 'no version named: answered at once');
  const v1 = first.etag;
  const seen: string[] = [];
  bus.subscribe('policy.changed', (e) => seen.push(`changed ${e.action}`));
  const held = pull({ have: v1, wait: '30' }).then((r) => { seen.push(`answered ${r.status}`); return r; });
  await holding(1);
  assert.deepEqual(seen, [], 'held, not answered');
  assert.ok((await policy.quarantine('198.51.100.66', 's-66', 'case-1', by)).ok);
  const r = await held;
  assert.deepEqual(seen, ['changed quarantine.add', 'answered 200']);
  assert.notEqual(r.etag, v1);
  assert.equal(r.headers.get('x-portwarden-wait'), '30', 'the server says it holds pulls');
  // A stale version is answered at once, even with a wait.
  const stale = await pull({ have: v1, wait: '30' });
  assert.equal(stale.status, 200);
  assert.equal(stale.etag, r.etag);
});

test('the wait ends with 304 and the granted seconds; a longer ask is cut; a malformed one is refused', { skip }, async (t) => {
  const { pull } = await endpoint(t, { maxWaitMs: 1000 });
  const v = (await pull()).etag;
  const r = await pull({ have: v, wait: '999' });
  assert.equal(r.status, 304);
  assert.equal(r.etag, v);
  assert.equal(r.headers.get('x-portwarden-wait'), '1', 'cut to the server\'s maximum');
  assert.equal((await pull({ have: v, wait: 'soon' })).status, 400);
  assert.equal((await pull({ have: v, wait: '-1' })).status, 400);
  const plain = await pull({ have: v });
  assert.equal(plain.status, 304);
  assert.equal(plain.headers.get('x-portwarden-wait'), undefined, 'no wait asked, none granted');
});

test('an edge\'s second wait replaces its first (409); beyond the cap a pull is answered at once with wait 0', { skip }, async (t) => {
  const { policy, pull, holding } = await endpoint(t, { maxWaiters: 2 });
  const v = (await pull()).etag;
  const first = pull({ have: v, wait: '30' });
  await holding(1);
  const second = pull({ have: v, wait: '30' });
  assert.equal((await first).status, 409, 'the replaced wait');
  await holding(1);
  const other = pull({ edge: 'edge2', have: v, wait: '30' });
  await holding(2);
  const over = await pull({ edge: 'edge3', have: v, wait: '30' });
  assert.equal(over.status, 304, 'the cap answers at once');
  assert.equal(over.headers.get('x-portwarden-wait'), '0', 'and says no wait was granted');
  await holding(2);
  // A refused change commits nothing and publishes nothing: still held.
  assert.equal((await policy.release('198.51.100.0/24', by)).ok, false);
  await holding(2);
  assert.ok((await policy.addExemption('198.51.100.7', 'c-7', null, by)).ok);
  assert.deepEqual([(await second).status, (await other).status], [200, 200]);
});

test('a client that goes away frees its waiter; closing the listener answers every held pull (503) and does not wait for them', { skip, timeout: 20_000 }, async (t) => {
  const { pull, holding, edge, close } = await endpoint(t);
  const v = (await pull()).etag;
  const gone = await pull({ have: v, wait: '30', maxTime: 1 });
  assert.equal(gone.code, 28, 'curl gave up');
  await holding(0);
  const held = [pull({ have: v, wait: '50' }), pull({ edge: 'edge2', have: v, wait: '50' })];
  await holding(2);
  // Without the answer at close, close() would wait 50 s for them and the test's timeout would end it.
  await close();
  assert.deepEqual((await Promise.all(held)).map((x) => x.status), [503, 503]);
  assert.equal(edge.waiting(), 0);
});
