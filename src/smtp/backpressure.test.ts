// Output backpressure: a client that pipelines and never reads its replies is no
// longer read once its unsent replies pass maxReplyBacklog, and is dropped when
// they do not drain within the idle timeout. The peer is a real Python socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needTools } from '../../test/lib/tools.ts';
import { pipelineWithoutReading } from '../../test/lib/pyclients.ts';
import { startServer, testCert } from './testkit.ts';
import { RawClient } from '../../test/lib/smtpclient.ts';

const skip = needTools('python3', 'openssl');
const TOTAL = 4 * 1024 * 1024;

for (const tls of ['none', 'implicit'] as const) {
  test(`a pipelining client that never reads (tls: ${tls}): the server stops reading it, then drops it`, { skip }, async () => {
    const secureContext = tls === 'implicit' ? testCert().context : undefined;
    const h = await startServer({ tls, forbidUnauthPipelining: false, idleTimeout: 2, maxReplyBacklog: 64 * 1024 }, { secureContext });
    try {
      const r = await pipelineWithoutReading(h.port, TOTAL, tls === 'implicit');
      assert.ok(r.blocked, `the client was never blocked: the server read all ${r.sent} octets`);
      assert.ok(r.sent < TOTAL / 2, `the server took ${r.sent} of ${TOTAL} octets`);
      // Dropped once the replies did not drain for the idle timeout (2 s, counted from the last write).
      assert.notEqual(r.droppedAfter, null, 'never dropped');
      assert.ok(r.droppedAfter! < 5, `dropped ${r.droppedAfter} s after the client stalled`);
      for (let i = 0; i < 100 && h.server.sessionCount() > 0; i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(h.server.sessionCount(), 0);
      const warn = h.logger.records.find((x) => x.msg === 'replies not read');
      assert.ok(warn, 'the drop is logged');
      // Over TLS part of it sits encrypted below the TLSSocket, where writableLength does not see it.
      assert.ok(Number(warn.backlog) > 0, `backlog ${warn.backlog}`);
      // What the server read stayed bounded: a few hundred KiB of input, not the 4 MiB sent at it.
      const bye = h.logger.records.find((x) => x.msg === 'disconnect');
      assert.ok(bye && Number(bye.bytesIn) < 1024 * 1024, `server read ${bye?.bytesIn} octets`);
    } finally {
      await h.stop();
    }
  });
}

test('a client that pipelines a lot but reads its replies is served completely', async () => {
  const h = await startServer({ tls: 'none', forbidUnauthPipelining: false, maxReplyBacklog: 16 * 1024 });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    const n = 3000; // ~600 KB of EHLO replies: far past the backlog bound
    c.write('EHLO reader.example\r\n'.repeat(n) + 'QUIT\r\n');
    const replies = await c.replies(n + 1, 20_000);
    assert.equal(replies.filter((x) => x.startsWith('250-mx.test')).length, n);
    assert.equal(replies[n], '221 2.0.0 Bye\r\n');
  } finally {
    await h.stop();
  }
});
