// DATA and BDAT over real sockets: strict end-of-data (smuggling), bare LF,
// dot-unstuffing, size limits, chunking, bounded memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { accept } from '../core/index.ts';
import { BodyError } from './index.ts';
import type { BareLfPolicy } from './index.ts';
import { RecordingHandler, code, startServer } from './testkit.ts';
import { RawClient } from '../../test/lib/smtpclient.ts';
import type { Harness } from './testkit.ts';

async function inData(h: Harness): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  await c.reply();
  await c.send('EHLO c');
  assert.equal(code(await c.send('MAIL FROM:<a@example.org>')), '250');
  assert.equal(code(await c.send('RCPT TO:<b@example.org>')), '250');
  assert.equal(code(await c.send('DATA')), '354');
  return c;
}

// REQUIREMENTS F1: the smtpsmug set; none of these may end DATA.
const ENDINGS = ['\n.\n', '\n.\r\n', '\r.\r', '\r.\r\n', '\r\n.\n', '\r\n.\r', '\r.\n', '\n.\r', '\r\n\0.\r\n'];
const hasBareLf = (s: string): boolean => /(^|[^\r])\n/.test(s);

for (const policy of ['reject', 'normalize'] as BareLfPolicy[]) {
  test(`smuggling endings do not end DATA (bareLf=${policy})`, async () => {
    const h = await startServer({ bareLf: policy, forbidUnauthPipelining: false });
    try {
      for (const x of ENDINGS) {
        const before = h.handler.calls.length;
        const c = await inData(h);
        c.write(`A${x}MAIL FROM:<s@x.example>\r\nRCPT TO:<v@isp.example>\r\nDATA\r\nsmuggled\r\n\r\n.\r\n`);
        const r = await c.reply();
        const extra = await c.collect(150);
        assert.equal(extra, '', `${JSON.stringify(x)}: replies to smuggled commands`);
        const calls = h.handler.calls.slice(before);
        assert.deepEqual(calls.filter((k) => k.startsWith('mail')), ['mail a@example.org'], JSON.stringify(x));
        assert.equal(calls.filter((k) => k === 'data').length, 1);
        if (policy === 'reject' && hasBareLf(x)) {
          assert.equal(r, '550 5.5.2 Error: bare <LF> received\r\n', JSON.stringify(x));
        } else {
          assert.equal(r, '250 2.0.0 Ok\r\n', JSON.stringify(x));
          const body = h.handler.messages.at(-1)!.body.toString('latin1');
          assert.ok(body.includes('smuggled') && body.includes('MAIL FROM:<s@x.example>'), JSON.stringify(body));
          if (policy === 'normalize') assert.ok(!hasBareLf(body), 'bare LF normalised');
        }
        assert.equal(await c.send('RSET'), '250 2.0.0 Ok\r\n');
        c.close();
      }
    } finally {
      await h.stop();
    }
  });
}

test('bare LF: reject → 550 5.5.2 after the end of data, body destroyed with BodyError; normalize → CRLF', async () => {
  const h = await startServer({ bareLf: 'reject' });
  try {
    const c = await inData(h);
    c.write('Subject: x\nbody\r\n.\r\n');
    assert.equal(await c.reply(), '550 5.5.2 Error: bare <LF> received\r\n');
    assert.ok(h.handler.bodyErrors[0] instanceof BodyError);
    assert.equal((h.handler.bodyErrors[0] as BodyError).reply.code, 550);
    assert.equal(await c.send('RSET'), '250 2.0.0 Ok\r\n');
    assert.equal(h.handler.messages.length, 0);
  } finally {
    await h.stop();
  }
  const n = await startServer({ bareLf: 'normalize' });
  try {
    const c = await inData(n);
    c.write('Subject: x\nbody\r\n.\r\n');
    assert.equal(await c.reply(), '250 2.0.0 Ok\r\n');
    assert.equal(n.handler.messages[0].body.toString(), 'Subject: x\r\nbody\r\n');
  } finally {
    await n.stop();
  }
});

test('dot-unstuffing, bare CR passed through, message split across writes', async () => {
  const h = await startServer();
  try {
    const c = await inData(h);
    const wire = '..first\r\nmid\rdle\r\n..\r\n...x\r\n.\r\n';
    // One byte per write: the end-of-data marker and stuffed dots straddle every boundary.
    for (const ch of wire) {
      c.write(ch);
      await sleep(0);
    }
    assert.equal(await c.reply(), '250 2.0.0 Ok\r\n');
    assert.equal(h.handler.messages[0].body.toString(), '.first\r\nmid\rdle\r\n.\r\n..x\r\n');
    // Empty message.
    await c.send('MAIL FROM:<a@example.org>');
    await c.send('RCPT TO:<b@example.org>');
    await c.send('DATA');
    assert.equal(await c.send('.'), '250 2.0.0 Ok\r\n');
    assert.equal(h.handler.messages[1].body.length, 0);
  } finally {
    await h.stop();
  }
});

test('size: declared SIZE → 552; actual oversize → 552 after the dot, session usable', async () => {
  const h = await startServer({ maxMessageSize: 1000 });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    assert.equal(await c.send('MAIL FROM:<a@example.org> SIZE=1001'), '552 5.3.4 Message size exceeds fixed limit\r\n');
    await c.send('MAIL FROM:<a@example.org> SIZE=1000');
    await c.send('RCPT TO:<b@example.org>');
    assert.equal(code(await c.send('DATA')), '354');
    c.write(`${'x'.repeat(78)}\r\n`.repeat(100) + '.\r\n');
    assert.equal(await c.reply(), '552 5.3.4 Message size exceeds fixed limit\r\n');
    assert.equal(await c.send('RSET'), '250 2.0.0 Ok\r\n');
    assert.equal(h.handler.messages.length, 0);
    await c.send('MAIL FROM:<a@example.org>');
    await c.send('RCPT TO:<b@example.org>');
    await c.send('DATA');
    assert.equal(await c.send('small\r\n.'), '250 2.0.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

test('a data verdict refusal is replied and the transaction reset', async () => {
  const handler = new RecordingHandler();
  handler.onData = async (body) => {
    for await (const _ of body);
    return { ok: false, reply: { code: 554, enhanced: '5.6.0', text: 'Message rejected' } };
  };
  const h = await startServer({}, { handler });
  try {
    const c = await inData(h);
    c.write('hello\r\n.\r\n');
    assert.equal(await c.reply(), '554 5.6.0 Message rejected\r\n');
    assert.ok(h.handler.calls.includes('reset'));
    assert.equal(code(await c.send('MAIL FROM:<a@example.org>')), '250');
  } finally {
    await h.stop();
  }
});

test('an early verdict (body not consumed) does not stall the session', async () => {
  const handler = new RecordingHandler();
  handler.onData = async () => accept();
  const h = await startServer({}, { handler });
  try {
    const c = await inData(h);
    c.write(`${'y'.repeat(999)}\r\n`.repeat(2000) + '.\r\n');
    assert.equal(await c.reply(5000), '250 2.0.0 Ok\r\n');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

async function inTx(h: Harness): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  await c.reply();
  await c.send('EHLO c');
  await c.send('MAIL FROM:<a@example.org>');
  await c.send('RCPT TO:<b@example.org>');
  return c;
}

test('BDAT: chunks, DATA after BDAT → 503, content delivered verbatim', async () => {
  const h = await startServer({ bareLf: 'normalize', chunking: true });
  try {
    const c = await inTx(h);
    c.write('BDAT 5\r\nhello');
    assert.equal(await c.reply(), '250 2.0.0 5 octets received\r\n');
    assert.equal(await c.send('DATA'), '503 5.5.1 Error: DATA after BDAT\r\n');
    const tail = '\r\n.\r\nQUIT\r\n..x\r\n';
    c.write(`BDAT ${tail.length}\r\n${tail}BDAT 0 LAST\r\n`);
    assert.deepEqual(await c.replies(2), [`250 2.0.0 ${tail.length} octets received\r\n`, '250 2.0.0 Ok\r\n']);
    assert.equal(h.handler.messages[0].body.toString(), `hello${tail}`);
    assert.equal(h.handler.messages[0].mode, 'bdat');
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
  } finally {
    await h.stop();
  }
});

test('BDAT: refused chunks are still consumed; the parser stays in sync', async () => {
  const h = await startServer({ forbidUnauthPipelining: false });
  try {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.send('EHLO c');
    c.write('BDAT 10\r\nNOOP\r\nNOOPNOOP\r\n');
    assert.deepEqual(await c.replies(2), ['503 5.5.1 Error: need MAIL command\r\n', '250 2.0.0 Ok\r\n']);
    await c.send('MAIL FROM:<a@example.org>');
    c.write('BDAT 6\r\nRSET\r\nBDAT 3 LAST\r\nabcNOOP\r\n');
    assert.deepEqual(await c.replies(3), ['554 5.5.1 Error: no valid recipients\r\n', '554 5.5.1 Error: no valid recipients\r\n', '250 2.0.0 Ok\r\n']);
    assert.equal(await c.send('BDAT x'), '501 5.5.4 Syntax: BDAT count [LAST]\r\n');
    assert.ok(!h.handler.calls.includes('data'));
  } finally {
    await h.stop();
  }
});

test('BDAT: bare LF (reject) and oversize answered, session stays usable', async () => {
  const h = await startServer({ bareLf: 'reject', maxMessageSize: 100 });
  try {
    const c = await inTx(h);
    c.write('BDAT 7 LAST\r\nab\ncd\r\n');
    assert.equal(await c.reply(), '550 5.5.2 Error: bare <LF> received\r\n');
    await c.send('MAIL FROM:<a@example.org>');
    await c.send('RCPT TO:<b@example.org>');
    const big = 'z'.repeat(150);
    c.write(`BDAT 150\r\n${big}BDAT 4 LAST\r\nmore`);
    assert.deepEqual(await c.replies(2), ['552 5.3.4 Message size exceeds fixed limit\r\n', '552 5.3.4 Message size exceeds fixed limit\r\n']);
    assert.equal(await c.send('NOOP'), '250 2.0.0 Ok\r\n');
    assert.equal(code(await c.send('MAIL FROM:<a@example.org>')), '250');
    assert.equal(h.handler.messages.length, 0);
  } finally {
    await h.stop();
  }
});

async function streamBig(lines: boolean): Promise<{ growth: number; received: number; sent: number }> {
  const total = 50 * 1024 * 1024;
  const handler = new RecordingHandler();
  let received = 0;
  handler.onData = async (body) => {
    let n = 0;
    for await (const chunk of body) {
      received += (chunk as Buffer).length;
      if (++n % 4 === 0) await sleep(1); // a slow consumer
    }
    return accept();
  };
  const h = await startServer({ maxMessageSize: 60 * 1024 * 1024 }, { handler });
  try {
    const c = await inData(h);
    const block = Buffer.alloc(1024 * 1024, 'a');
    if (lines) for (let i = 78; i < block.length; i += 80) block.write('\r\n', i - 2, 'latin1');
    // Measure what is retained, not garbage waiting for collection.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - (base.heapUsed + base.arrayBuffers));
    }, 20);
    let sent = 0;
    while (sent < total) {
      if (!c.socket.write(block)) await new Promise((r) => c.socket.once('drain', r));
      sent += block.length;
    }
    c.write('\r\n.\r\n');
    const r = await c.reply(60_000);
    clearInterval(sampler);
    assert.equal(r, '250 2.0.0 Ok\r\n');
    c.close();
    return { growth: peak, received, sent };
  } finally {
    await h.stop();
  }
}

for (const lines of [false, true]) {
  test(`50 MB DATA body ${lines ? 'with' : 'without'} line breaks through a slow consumer keeps memory bounded`, async (t) => {
    const { growth, received, sent } = await streamBig(lines);
    t.diagnostic(`retained heap+buffers grew by ${(growth / 1048576).toFixed(1)} MB`);
    assert.equal(received, sent + 2);
    assert.ok(growth < 16 * 1024 * 1024, `memory grew by ${(growth / 1048576).toFixed(1)} MB`);
  });
}

test('client vanishing mid-DATA: the body ends with an error, the handler is reset and closed', async () => {
  const handler = new RecordingHandler();
  let closed = 0;
  handler.close = () => void closed++;
  const h = await startServer({}, { handler });
  try {
    const c = await inData(h);
    c.write('partial line\r\nmore');
    await sleep(50);
    c.close();
    for (let i = 0; i < 100 && closed === 0; i++) await sleep(10);
    assert.equal(closed, 1);
    assert.equal(h.handler.bodyErrors.length, 1);
    assert.ok(h.handler.calls.includes('reset'));
    assert.equal(h.handler.messages.length, 0);
  } finally {
    await h.stop();
  }
});

// Regression (found by the 1 MB benchmark workload): input that arrived while the pump awaited a
// step was left in the buffer until the client sent more, so a body ending there got no reply.
test('a large body over TLS through a backpressuring consumer is answered without further input', async () => {
  const { testCert } = await import('./testkit.ts');
  const handler = new RecordingHandler();
  handler.onData = async (body) => {
    for await (const _ of body) await new Promise((r) => setImmediate(r)); // slower than the socket
    return accept();
  };
  const h = await startServer({ tls: 'implicit', maxMessageSize: 8 * 1024 * 1024 }, { handler, secureContext: testCert().context });
  try {
    const c = await RawClient.connect(h.port, { tls: true });
    await c.reply();
    await c.send('EHLO c');
    const line = 'The quick brown fox jumps over the lazy dog 0123456789 filler text.\r\n';
    const body = Buffer.from(line.repeat(Math.ceil(1_048_576 / line.length)), 'latin1');
    for (let i = 0; i < 10; i++) {
      assert.equal(code(await c.send('MAIL FROM:<a@example.org>')), '250');
      assert.equal(code(await c.send('RCPT TO:<b@example.org>')), '250');
      assert.equal(code(await c.send('DATA')), '354');
      c.write(Buffer.concat([body, Buffer.from('.\r\n')]));
      assert.equal(await c.reply(3000), '250 2.0.0 Ok\r\n', `message ${i}`);
    }
    c.close();
  } finally {
    await h.stop();
  }
});
